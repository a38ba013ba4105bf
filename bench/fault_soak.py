"""Fault soak: the seeded kill-and-rerun of tests/test_faults.py and tests/test_m365_faults.py
over many seeds, counting what a school would be hurt by rather than stopping at the first.

    .venv/bin/python bench/fault_soak.py [--runs 200] [--platforms file|m365|both] [--pupils 40] [--seed 0]
                                         [--anywhere]

Each run makes a fresh workspace (file platforms: Purple Mash and Bug Club; or Microsoft 365
against a fresh Graph stand-in), does in-process every stage before the command under test
(apply, leavers apply, and on file platforms purge and pupil erase), then runs that command in
a subprocess killed for real at a fault point chosen from the run's seed, then runs it again.
The points are those placed by hand in the command's job; with ``--anywhere``, every place the
command passes (each file written before it is in place, each state commit, each answer from
Graph too), listed by running it once on a copy of the workspace first (tests/kill_points.py).
Counted after each run: the kills that landed (faults injected), duplicates (a pupil holding two
accounts or issued twice, two accounts of one sign-in name, a pupil on two deletion lists),
orphans (a file in the outbox no batch of the state knows, a temporary file left, an account in
the tenant the state does not know), tracebacks in any output, reruns that did not finish, and
other problems (a run left running, a send left pending, the audit chain broken, a slip not
matching its file, a password in force on no slip). A run's problems are listed with its seed,
so ``--seed`` and ``--runs`` reproduce it.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import test_faults as files_faults  # noqa: E402
import test_m365_faults as m365_faults  # noqa: E402
from graph_standin import GraphStandIn  # noqa: E402
from conftest import import_rows  # noqa: E402
from kill_points import kill_order, points_passed  # noqa: E402
from m365_helpers import configure  # noqa: E402

from provisioner.delivery import CRASH_ENV  # noqa: E402
from provisioner.jobs.create import init_workspace  # noqa: E402
from provisioner.synthetic import synthetic_pupils, write_roster_csv  # noqa: E402
from provisioner.workspace import Workspace  # noqa: E402

KILLED = -signal.SIGKILL if os.name == "posix" else 1
M365_POINTS = {**m365_faults.POINTS, "apply": [*m365_faults.POINTS["apply"], "pushed"]}


def command(workspace, args: list[str], point: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.pop(CRASH_ENV, None)
    if point:
        env[CRASH_ENV] = point
    return subprocess.run([sys.executable, "-m", "provisioner", *args, "--workspace", str(workspace.root)],
                          env=env, capture_output=True, text=True, timeout=600)  # fmt: skip


def every_point(workspace, args: list[str], label: str) -> list[str]:
    """Every place the command can be killed: it is run once, uninterrupted, on a copy of the workspace."""
    from conftest import Cli

    trial = Workspace(shutil.copytree(workspace.root, workspace.root.parent / "trial"))
    try:
        return kill_order(points_passed(lambda: Cli(trial)(*args)), label)
    finally:
        shutil.rmtree(trial.root)


def unfinished(workspace, found: Counter, notes: list[str]) -> None:
    """A run left running, a send left pending (a deletion list's rows wait for the admin), a
    batch left half written, the audit chain broken."""
    db = sqlite3.connect(workspace.state_path)
    try:
        checks = {
            "a run left running": "SELECT COUNT(*) FROM runs WHERE status = 'running'",
            "a send left pending": "SELECT COUNT(*) FROM sends s JOIN batches b ON b.platform = s.platform AND "
                                   "b.id = s.batch_id WHERE s.status = 'pending' AND b.kind != 'deletion'",
            "a batch left half written": "SELECT COUNT(*) FROM batches WHERE status = 'writing'",
        }  # fmt: skip
        for what, sql in checks.items():
            if db.execute(sql).fetchone()[0]:
                found["other"] += 1
                notes.append(what)
        twice = db.execute("SELECT COUNT(*) FROM (SELECT 1 FROM sends s JOIN batches b ON b.platform = s.platform "
                           "AND b.id = s.batch_id WHERE b.kind = 'deletion' GROUP BY s.platform, s.pupil_key "
                           "HAVING COUNT(*) > 1)").fetchone()[0]  # fmt: skip
        found["duplicates"] += twice
        for platform, names, pupils in db.execute("SELECT platform, COUNT(username) - COUNT(DISTINCT username), "
                                                  "COUNT(pupil_key) - COUNT(DISTINCT pupil_key) FROM accounts "
                                                  "GROUP BY platform"):  # fmt: skip
            found["duplicates"] += names + pupils
            if names or pupils:
                notes.append(f"{platform}: two accounts of one name or one pupil")
    finally:
        db.close()
    with workspace.open_state() as state:
        if not state.verify_audit().intact:
            found["other"] += 1
            notes.append("the audit chain is broken")


def file_run(folder: Path, rng: random.Random, seed: int, pupils: int, found: Counter, notes: list[str],
             anywhere: bool = False) -> str:  # fmt: skip
    from test_crash_safety import import_files, slips_match_imports

    from provisioner.synthetic import write_roster_xlsx

    kind = rng.choice(list(files_faults.POINTS))
    point = rng.choice(files_faults.POINTS[kind])
    workspace = init_workspace(folder / "ws", "Soak Primary", "soak.sch.uk", files_faults.FILE_PLATFORMS)
    rows = synthetic_pupils(pupils, seed=seed, today=files_faults.TODAY)
    roster = folder / "roster.xlsx"
    write_roster_xlsx(roster, rows)
    args = files_faults.command_under_test(kind, workspace, rows, roster)
    if anywhere:
        point = rng.choice(every_point(workspace, args, f"file-{kind}"))
    rerun = kill_and_rerun(workspace, args, point, found, notes)
    if rerun is None:
        return f"file {kind} at {point}"
    unfinished(workspace, found, notes)
    with workspace.open_state() as state:
        known = {batch.id for batch in state.batches()}
    for path in workspace.outbox.rglob("*"):
        if path.name.startswith(".") or (path.is_file() and path.parent.name in files_faults.FILE_PLATFORMS
                                         and not any(batch_id in path.name for batch_id in known)):  # fmt: skip
            found["orphans"] += 1
            notes.append(f"{path.name} belongs to no batch the state knows")
    for platform in files_faults.FILE_PLATFORMS:
        issued = [row["Username"] for path in import_files(workspace) if path.parent.name == platform
                  for row in import_rows(path)]  # fmt: skip
        if kind == "apply" and len(issued) != len(set(issued)):
            found["duplicates"] += len(issued) - len(set(issued))
            notes.append(f"{platform}: a pupil issued twice")
    if kind == "apply":
        try:
            slips_match_imports(workspace)
        except AssertionError as exc:
            found["other"] += 1
            notes.append(f"a slip does not match its file ({exc})")
    return f"file {kind} at {point}"


def m365_run(folder: Path, rng: random.Random, seed: int, pupils: int, found: Counter, notes: list[str],
             anywhere: bool = False) -> str:  # fmt: skip
    kind = rng.choice(list(M365_POINTS))
    point = rng.choice(M365_POINTS[kind])
    with GraphStandIn(write_limit=None, seed=seed) as graph:
        graph.add_group("Pupils - A1 licence")
        os.environ["PROVISIONER_M365_CLIENT_SECRET"] = graph.client_secret
        workspace = init_workspace(folder / "ws", "Soak Primary", "soak.sch.uk", ["microsoft-365"])
        configure(workspace, graph)
        rows = synthetic_pupils(pupils, seed=seed, today=m365_faults.TODAY)
        roster = folder / "roster.csv"
        write_roster_csv(roster, rows)
        args = m365_faults.command_under_test(kind, workspace, rows, roster, set())
        if anywhere:
            tenant = graph.directory()
            point = rng.choice(every_point(workspace, args, f"m365-{kind}"))
            graph.restore(tenant)
        if kill_and_rerun(workspace, args, point, found, notes) is None:
            return f"m365 {kind} at {point}"
        unfinished(workspace, found, notes)
        with workspace.open_state() as state:
            known = {a.remote_id for a in state.accounts("microsoft-365").values() if a.remote_id}
        tenant = [u for u in [*graph.users.values(), *graph.deleted_users.values()] if u.get("employeeId")]
        carried = [u["employeeId"] for u in tenant]
        found["duplicates"] += len(carried) - len(set(carried))
        orphans = [u for u in tenant if u["id"] not in known]
        found["orphans"] += len(orphans)
        if len(carried) != len(set(carried)) or orphans:
            notes.append(f"the tenant: {len(carried) - len(set(carried))} duplicate(s), {len(orphans)} orphan(s)")
        on_slips = m365_faults.passwords_on(set((workspace.outbox / "microsoft-365").glob("*.xlsx")), workspace.root)
        for user in graph.users.values():
            alias = user["userPrincipalName"].partition("@")[0]
            if user.get("employeeId") and user["passwordProfile"]["password"] not in on_slips.get(alias, ()):
                found["other"] += 1
                notes.append("a password in force is on no slip")
    return f"m365 {kind} at {point}"


def kill_and_rerun(workspace, args: list[str], point: str, found: Counter, notes: list[str]):
    killed = command(workspace, args, point)
    found["tracebacks"] += "Traceback" in killed.stderr
    if killed.returncode != KILLED:
        found["not reached"] += 1
        if killed.returncode != 0:
            found["reruns failed"] += 1
            notes.append(f"exit {killed.returncode} before {point}: {killed.stderr.strip()[-300:]}")
        return None
    found["faults"] += 1
    again = command(workspace, args)
    found["tracebacks"] += "Traceback" in again.stderr
    if again.returncode != 0:
        found["reruns failed"] += 1
        notes.append(f"the rerun exited {again.returncode}: {again.stderr.strip()[-300:]}")
    return again


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--platforms", choices=("file", "m365", "both"), default="both")
    parser.add_argument("--pupils", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--anywhere", action="store_true",
                        help="kill at any place the command passes, not only the points placed in its job")
    args = parser.parse_args()
    families = {"file": [file_run], "m365": [m365_run], "both": [file_run, m365_run]}[args.platforms]
    found: Counter = Counter()
    problems: list[str] = []
    started = time.perf_counter()
    for n in range(args.runs):
        seed = args.seed + n
        rng = random.Random(f"fault-soak-{seed}")
        family = families[n % len(families)]
        notes: list[str] = []
        folder = Path(tempfile.mkdtemp(prefix="fault-soak-"))
        try:
            what = family(folder, rng, seed, args.pupils, found, notes, anywhere=args.anywhere)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        found[family.__name__] += 1
        problems += [f"seed {seed} ({what}): {note}" for note in notes]
    took = time.perf_counter() - started
    print(f"runs: {args.runs} (file platforms {found['file_run']}, Microsoft 365 {found['m365_run']}) in {took:.0f} s")
    print(f"faults injected: {found['faults']} (kills that landed; {found['not reached']} point(s) not reached)")
    print(f"duplicates found: {found['duplicates']}")
    print(f"orphans found: {found['orphans']}")
    print(f"tracebacks seen: {found['tracebacks']}")
    print(f"reruns that did not finish: {found['reruns failed']}")
    print(f"other problems: {found['other']}")
    for problem in problems[:20]:
        print(f"  {problem}")
    print("command: " + " ".join(["bench/fault_soak.py", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
