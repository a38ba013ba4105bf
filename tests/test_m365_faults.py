"""Microsoft 365 killed at seeded points of apply and leavers apply, through the Graph stand-in:
the same command run again finishes the job with every pupil holding exactly one account in
the tenant, no account there the state does not know, every password in force on a slip the
output named, nothing left running and the audit chain intact.

The command is the real one, in a subprocess killed for real at a fault point
(PROVISIONER_CRASH_AT, as in tests/test_faults.py); the stand-in is a real HTTPS server in this
process, so what the tenant holds is read from it directly, never from the tool.

Each kind's workspace and tenant are made once a test process: the workspace is copied for
each seed and the stand-in given the tenant back (``GraphStandIn.restore``). The command is run
once uninterrupted to list every place it can be killed (tests/kill_points.py): the points
placed in its job, each answer from Graph, each commit of the state, each file written; seed s
kills at the sth.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import TODAY, key_of, yes
from kill_points import command_env
from m365_helpers import licence_members, on_roll
from provisioner.delivery import CRASH_ENV
from provisioner.synthetic import synthetic_pupils, write_roster_csv

KILLED = -signal.SIGKILL if os.name == "posix" else 1  # on Windows the fault point ends the process
PLATFORM = "microsoft-365"
LEFT_ON, CLEANED_ON = "2026-12-01", "2027-01-05"
POINTS = {  # the points placed by hand in each command's job (bench/fault_soak.py draws from these)
    # recorded, nothing sent; accounts made and none recorded
    "apply": ["prepared", "pushing"],
    # the run begun, nothing done; a change made and read back, not yet recorded
    "leavers": ["leavers", "cleaning-up"],
}
SEEDS = range(20)
# An apply of 45 makes 48 writes (the accounts in three batches, the licence group's members
# added 20 at a time), under the 60 a second the client allows itself: it never waits for its
# quota, so it sends the same requests however fast the machine, and a kill after the nth answer
# from Graph is at the same place in every run. The cleanup's guard wants leavers few: 3 of 45.
PUPILS = 45


def run(workspace, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real command in a subprocess, answering in JSON."""
    return subprocess.run([sys.executable, "-m", "provisioner", *args, "--json", "--workspace", str(workspace.root)],
                          env=command_env(env), capture_output=True, text=True, timeout=300)  # fmt: skip


def slips_named(answer: dict) -> set[Path]:
    """The slip files an apply's answer names (its batches', an earlier apply's it names, or its error's hint)."""
    named = {Path(p) for batch in answer.get("batches", []) + answer.get("earlier_slips", []) for p in batch["slips"]}
    hint = (answer.get("error") or {}).get("hint") or ""
    named |= {Path(word.strip(",;:")) for word in hint.split() if word.endswith((".xlsx", ".pdf"))}
    return {p for p in named if p.suffix == ".xlsx"}


def passwords_on(slips: set[Path], root: Path) -> dict[str, set[str]]:
    """Sign-in alias -> the passwords these slips show for it."""
    found: dict[str, set[str]] = {}
    for path in slips:
        path = path if path.is_absolute() else root / path
        for row in load_workbook(path).active.iter_rows(min_row=2, values_only=True):
            found.setdefault(row[3].partition("@")[0], set()).add(row[4])
    return found


def leave(rows: list[dict], roster: Path, count: int = 3) -> list[dict]:
    leavers = [r for r in on_roll(rows)][:count]
    for row in leavers:
        row["leaving_date"] = date.fromisoformat(LEFT_ON)
    write_roster_csv(roster, rows)
    return leavers


def command_under_test(kind: str, workspace, rows: list[dict], roster: Path, named: set[Path]) -> list[str]:
    """The stages before ``kind`` done in-process (the slips they named kept in ``named``), and its arguments."""
    from provisioner.facade import Provisioner

    if kind == "apply":
        return ["apply", str(roster), "--yes", "--as-of", TODAY.isoformat()]
    made = Provisioner(workspace).apply(roster, confirm=yes, today=TODAY)
    named |= {p for batch in made.batches for p in batch.slips if p.suffix == ".xlsx"}
    leave(rows, roster)
    return ["leavers", "apply", str(roster), "--yes", "--as-of", CLEANED_ON]


def assert_the_tenant_is_whole(workspace, graph, rows: list[dict], named: set[Path], on: date) -> None:
    """One account per pupil on roll ``on`` that day, none the state does not know, each password
    in force on a named slip, and the leavers unable to sign in."""
    db = sqlite3.connect(workspace.state_path)
    try:
        assert db.execute("SELECT COUNT(*) FROM runs WHERE status = 'running'").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM sends WHERE status = 'pending'").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM batches WHERE status = 'writing'").fetchone()[0] == 0
    finally:
        db.close()
    with workspace.open_state() as state:
        assert state.verify_audit().intact, "the audit chain is intact"
        accounts = state.accounts(PLATFORM)
    live = [u for u in graph.users.values() if u.get("employeeId")]
    deleted = [u for u in graph.deleted_users.values() if u.get("employeeId")]
    carried = [u["employeeId"] for u in live + deleted]
    assert len(carried) == len(set(carried)), "nobody has two accounts in the tenant"
    known = {a.remote_id for a in accounts.values() if a.remote_id}
    orphans = [u["id"] for u in live + deleted if u["id"] not in known]
    assert orphans == [], "every account in the tenant is one the state knows"
    by_pseudonym = {u["employeeId"]: u for u in live}
    leaving = [r for r in rows if r.get("leaving_date") and r["leaving_date"] <= on]
    for row in (r for r in rows if r not in leaving):
        key = key_of(row)
        user = by_pseudonym.get(workspace.pseudonymous_id(PLATFORM, key))
        assert user is not None, "every pupil on roll has an account"
        assert accounts[key].remote_id == user["id"], "the state knows the account the pupil holds"
    for row in leaving:
        user = by_pseudonym.get(workspace.pseudonymous_id(PLATFORM, key_of(row)))
        assert user is None or user["accountEnabled"] is False, "a leaver cannot sign in"
    assert {u["id"] for u in live if u["accountEnabled"]} <= licence_members(graph), "every pupil signing in is licensed"
    on_slips = passwords_on(named, workspace.root)
    for user in live:
        alias = user["userPrincipalName"].partition("@")[0]
        assert user["passwordProfile"]["password"] in on_slips.get(alias, ()), \
            "the password in force is on a slip the output named"  # fmt: skip


@dataclass(frozen=True)
class Prepared:
    """A kind's workspace and tenant with every stage before its command done, to copy for each seed."""

    workspace: Path
    directory: dict  # the tenant, as GraphStandIn.directory() copies it
    rows: list[dict]
    args: list[str]  # the command, without --workspace
    named: set[Path]  # the slips the stages before named, relative to the workspace
    points: list[str]  # every place the command can be killed, in the order the seeds take them


@pytest.fixture(scope="module")
def tenant():
    """One Graph stand-in for the seeded tests of a test process, each seed given the same
    directory back (``GraphStandIn.restore``)."""
    from graph_standin import GraphStandIn
    from m365_helpers import LICENCE_GROUP

    with pytest.MonkeyPatch.context() as patch, GraphStandIn(write_limit=None) as graph:
        graph.add_group(LICENCE_GROUP)
        patch.setenv("PROVISIONER_M365_CLIENT_SECRET", graph.client_secret)
        yield graph


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, tenant) -> Callable[[str], Prepared]:
    """Each kind's workspace and tenant built once a test process, and the places its command
    passes listed from a run on a copy of them."""
    from kill_points import kill_points_of
    from m365_helpers import configure
    from provisioner.jobs.create import init_workspace

    empty = tenant.directory()
    made: dict[str, Prepared] = {}

    def prepare(kind: str) -> Prepared:
        if kind not in made:
            folder = tmp_path_factory.mktemp(f"m365-{kind}")
            tenant.restore(empty)
            workspace = init_workspace(folder / "ws", "Graph Primary", "graph.sch.uk", [PLATFORM])
            configure(workspace, tenant)
            rows = synthetic_pupils(PUPILS, seed=200, today=TODAY)
            roster = folder / "roster.csv"
            write_roster_csv(roster, rows)
            named: set[Path] = set()
            args = command_under_test(kind, workspace, rows, roster, named)
            directory = tenant.directory()
            points = kill_points_of(workspace.root, args, f"m365-{kind}", POINTS[kind])
            made[kind] = Prepared(workspace.root, directory, rows, args,
                                  {p.relative_to(workspace.root) for p in named}, points)  # fmt: skip
        tenant.restore(made[kind].directory)
        return made[kind]

    return prepare


@pytest.mark.parametrize("kind", list(POINTS))
@pytest.mark.parametrize("seed", SEEDS)
def test_killed_at_a_seeded_point_then_run_again_leaves_one_account_each(prepared, tenant, tmp_path, kind, seed):
    from provisioner.workspace import Workspace

    ready = prepared(kind)
    workspace = Workspace(shutil.copytree(ready.workspace, tmp_path / "ws"))
    point = ready.points[seed % len(ready.points)]
    killed = run(workspace, *ready.args, env={CRASH_ENV: point})
    assert killed.returncode == KILLED, f"{point} was not reached: {killed.stdout} {killed.stderr}"
    again = run(workspace, *ready.args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Traceback" not in again.stderr
    named = {workspace.root / p for p in ready.named} | told_of(killed) | slips_named(json.loads(again.stdout))
    on = TODAY if kind == "apply" else date.fromisoformat(CLEANED_ON)
    assert_the_tenant_is_whole(workspace, tenant, ready.rows, named, on)


def told_of(killed: subprocess.CompletedProcess) -> set[Path]:
    """The slips a killed run's answer named, where it was given whole before the kill (the
    answer is printed before its slips are recorded as named: ``Provisioner.slips_shown``)."""
    try:
        return slips_named(json.loads(killed.stdout))
    except ValueError:
        return set()


def slips_recorded_as_named(points: list[str]) -> str:
    """An apply's last commit: its slips recorded as named to the admin, once its answer is given."""
    return max((p for p in points if p.startswith("state-committed@")), key=lambda p: int(p.partition("@")[2]))


def test_killed_once_its_slips_are_recorded_as_named_the_admin_was_told_of_them(prepared, tenant, tmp_path):
    from provisioner.workspace import Workspace

    ready = prepared("apply")
    workspace = Workspace(shutil.copytree(ready.workspace, tmp_path / "ws"))
    killed = run(workspace, *ready.args, env={CRASH_ENV: slips_recorded_as_named(ready.points)})
    assert killed.returncode == KILLED, killed.stderr
    assert told_of(killed), "the answer naming the slips was printed before they were recorded as named"
    again = run(workspace, *ready.args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert_the_tenant_is_whole(workspace, tenant, ready.rows, told_of(killed) | slips_named(json.loads(again.stdout)),
                               TODAY)  # fmt: skip


def killed_once_recorded(m365, graph, tmp_path, point: str = "pushed") -> tuple[list[dict], subprocess.CompletedProcess]:
    """An apply killed once its accounts and their slips are recorded, before their licences
    and before it answered (or, at ``answered``, with everything done but the answer shown);
    then the same apply again."""
    rows = synthetic_pupils(45, seed=250, today=TODAY)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    args = ["apply", str(roster), "--yes", "--as-of", TODAY.isoformat()]
    killed = run(m365, *args, env={CRASH_ENV: point})
    assert killed.returncode == KILLED, killed.stderr
    again = run(m365, *args)
    assert again.returncode == 0, again.stdout + again.stderr
    return rows, again


def test_killed_once_the_accounts_are_recorded_the_next_apply_licenses_them(m365, graph, tmp_path):
    rows, _ = killed_once_recorded(m365, graph, tmp_path)
    every_slip = set((m365.outbox / PLATFORM).glob("*.xlsx"))
    assert_the_tenant_is_whole(m365, graph, rows, every_slip, TODAY)


def test_killed_once_the_accounts_are_recorded_the_next_apply_names_their_slips(m365, graph, tmp_path):
    rows, again = killed_once_recorded(m365, graph, tmp_path)
    assert_the_tenant_is_whole(m365, graph, rows, slips_named(json.loads(again.stdout)), TODAY)


def test_killed_after_its_work_before_its_answer_the_next_apply_names_the_slips(m365, graph, tmp_path):
    # Every account made and recorded, the slips written: only the answer naming them is lost.
    rows, again = killed_once_recorded(m365, graph, tmp_path, "answered")
    named = slips_named(json.loads(again.stdout))
    assert named, "the next apply names the slips the killed one wrote"
    assert_the_tenant_is_whole(m365, graph, rows, named, TODAY)
    once_more = run(m365, "apply", str(tmp_path / "roster.csv"), "--yes", "--as-of", TODAY.isoformat())
    assert slips_named(json.loads(once_more.stdout)) == set(), "named once shown, not again"


def told(workspace, *args: str) -> str:
    """The real command's words for the admin (no --json)."""
    answer = subprocess.run([sys.executable, "-m", "provisioner", *args, "--workspace", str(workspace.root)],
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert answer.returncode == 0 and "Traceback" not in answer.stderr, answer.stdout + answer.stderr
    return answer.stdout


def test_the_slips_of_an_apply_killed_once_its_accounts_are_recorded_are_named_until_an_apply_names_them(
        m365, graph, tmp_path):  # fmt: skip
    """Killed before it answered: status names the slips (words and JSON), the next apply names
    them in its words, and once it has, neither status nor a later apply names them again."""
    rows = synthetic_pupils(12, seed=251, today=TODAY)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    args = ["apply", str(roster), "--yes", "--as-of", TODAY.isoformat()]
    assert run(m365, *args, env={CRASH_ENV: "pushed"}).returncode == KILLED
    written = sorted(p.relative_to(m365.root).as_posix() for p in (m365.outbox / PLATFORM).iterdir())
    assert [Path(p).suffix for p in written] == [".pdf", ".xlsx"]
    batch = written[0].rsplit("-login-slips-", 1)[1].removesuffix(".pdf")

    owed = json.loads(run(m365, "status").stdout)["platforms"][PLATFORM]["unnamed_slips"]
    assert owed == [{"batch": batch, "slips": written}]
    on_slips = passwords_on({Path(written[1])}, m365.root)
    for user in graph.users.values():
        assert user["passwordProfile"]["password"] in on_slips[user["userPrincipalName"].partition("@")[0]]
    status = told(m365, "status", "--as-of", TODAY.isoformat())
    assert f"Microsoft 365: login slips of batch {batch}, from an apply that stopped before it finished" in status
    assert f"{written[0]} and {written[1]}. Print them and hand them out." in status

    again = told(m365, *args)
    assert (f"{PLATFORM}: login slips of batch {batch}, from an apply that stopped before it finished (their "
            f"passwords are set on the platform): {written[0]} and {written[1]}") in again  # fmt: skip
    assert "The slips hold first passwords: print them, hand them out, then delete the files." in again

    assert json.loads(run(m365, "status").stdout)["platforms"][PLATFORM]["unnamed_slips"] == []
    assert "login slips of batch" not in told(m365, "status", "--as-of", TODAY.isoformat())
    assert json.loads(run(m365, *args).stdout)["earlier_slips"] == [], "named once, not at every apply"
    with m365.open_state() as state:
        assert state.verify_audit().intact
    db = sqlite3.connect(m365.state_path)
    try:
        events = [json.loads(d) for a, d in db.execute("SELECT action, detail FROM audit WHERE action LIKE 'slips.%'")]
        actions = [a for (a,) in db.execute("SELECT action FROM audit WHERE action LIKE 'slips.%' ORDER BY seq")]
    finally:
        db.close()
    assert actions == ["slips.written", "slips.named"]
    assert events == [{"batch": batch, "files": 2}, {"files": 2}], "how many files, never what they hold"
