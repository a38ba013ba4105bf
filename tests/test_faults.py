"""Faults an unlucky school meets: a platform failing part way, a run killed between two files,
a replaced key, a lost state, a killed purge, a full disk. After each, the tool says what
happened, what was done and what to do, and nothing it handed out is wrong or lost.

Everything here is real: subprocesses killed for real (through the PROVISIONER_CRASH_AT fault
points of tests/test_crash_safety.py), real SQLite files, the Graph stand-in.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import TODAY, Cli, apply
from kill_points import command_env
from m365_helpers import configure, pupils_in, slips_of
from provisioner.errors import ExitCode
from provisioner.synthetic import synthetic_pupils, write_roster_csv

EVERY_SUB_REQUEST = range(20)
KILLED = -signal.SIGKILL if os.name == "posix" else 1  # on Windows the fault point ends the process


def run(workspace, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real command in a subprocess."""
    return subprocess.run([sys.executable, "-m", "provisioner", *args, "--workspace", str(workspace.root)],
                          env=command_env(env), capture_output=True, text=True)  # fmt: skip


# 1: Microsoft 365's first passwords, after Graph fails part way


def test_graph_failing_part_way_leaves_every_password_set_on_a_slip_the_output_names(m365, graph, tmp_path):
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, synthetic_pupils(60, seed=31, today=TODAY))
    configure(m365, graph, workers="1")  # one batch at a time: the first is made, then Graph keeps refusing
    graph.fail_in_batch([])
    for _ in range(40):
        graph.fail_in_batch(EVERY_SUB_REQUEST, status=503, retry_after=0)
    failed = Cli(m365)("apply", str(roster), "--yes", "--as-of", TODAY.isoformat(), "--json")
    assert failed.exit_code == 4, failed.output
    made = {u["userPrincipalName"].partition("@")[0]: u["passwordProfile"]["password"] for u in pupils_in(graph)}
    assert 0 < len(made) < 60, "Graph failed part way"
    first_slips = sorted((m365.outbox / "microsoft-365").glob("*.xlsx"))
    assert slips_of(m365) == made, "every password set is on a slip"
    error = json.loads(failed.stdout)["error"]
    for path in first_slips:
        assert path.name in error["hint"], "the output names the slips of the accounts made"
    graph._batch_faults.clear()
    finished = Cli(m365)("apply", str(roster), "--yes", "--as-of", TODAY.isoformat())
    assert finished.exit_code == 0, finished.output
    assert all(path.exists() for path in first_slips), "the first run's slips are not overwritten"
    everyone = {u["userPrincipalName"].partition("@")[0]: u["passwordProfile"]["password"] for u in pupils_in(graph)}
    assert len(everyone) == 60
    assert slips_of(m365) == everyone, "each password set, on a slip, once"


# 2: a run killed between the import file and its slips


def passwords_of_file(path) -> dict[str, str]:
    from conftest import import_rows

    return {row["Username"]: row["Password"] for row in import_rows(path)} if path.exists() else {}


def passwords_on_slips(folder) -> dict[str, str]:
    from openpyxl import load_workbook

    found = {}
    for path in folder.glob("*-login-slips-*.xlsx"):
        found |= {row[3]: row[4] for row in load_workbook(path).active.iter_rows(min_row=2, values_only=True)}
    return found


def test_killed_between_the_import_file_and_its_slips_no_slip_shows_a_password_never_written(workspace, roster_file):
    from test_slips import set_slips_style

    set_slips_style(workspace, "per-platform")
    apply_args = ("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat())
    killed = run(workspace, *apply_args, env={"PROVISIONER_CRASH_AT": "between-documents"})
    assert killed.returncode == KILLED
    folder = workspace.outbox / "purple-mash"
    [import_file] = [p for p in folder.glob("*-import-*.csv")] or [folder / "none.csv"]
    on_slips, in_file = passwords_on_slips(folder), passwords_of_file(import_file)
    assert all(in_file.get(user) == password for user, password in on_slips.items()), \
        "a slip's password is in the file written for upload"
    finished = run(workspace, *apply_args)
    assert finished.returncode == 0, finished.stderr
    [import_file] = folder.glob("*-import-*.csv")
    assert passwords_on_slips(folder) == passwords_of_file(import_file) != {}


# 3: a replaced school key; 4: a lost or emptied state


def test_a_replaced_school_key_is_refused_and_the_right_one_still_works(workspace, roster_file, cli):
    import secrets as random_secrets

    apply(workspace, roster_file)
    kept = workspace.secret_path.read_bytes()
    workspace.secret_path.write_text(random_secrets.token_hex(32) + "\n", encoding="ascii")
    for args in (("plan", str(roster_file)), ("status",), ("purge",)):
        refused = cli(*args, "--json")
        assert refused.exit_code == ExitCode.WORKSPACE_FAULT, refused.output
        error = json.loads(refused.stdout)["error"]
        assert "school-secret.key" in error["message"] and "backup" in error["hint"]
    assert "Traceback" not in refused.output
    workspace.secret_path.write_bytes(kept)
    assert cli("plan", str(roster_file)).exit_code == 0


@pytest.mark.parametrize("damage", ["deleted", "emptied", "begun afresh"])
def test_a_lost_state_beside_issued_files_is_refused_not_started_again(workspace, roster_file, cli, damage):
    from provisioner.state import State

    apply(workspace, roster_file)
    [issued] = (workspace.outbox / "purple-mash").glob("*-import-*.csv")
    before = issued.read_bytes()
    if damage == "deleted":
        workspace.state_path.unlink()
    elif damage == "emptied":
        workspace.state_path.write_bytes(b"")
    else:  # lost, then made again by something that opened it (an older version of this tool, say)
        workspace.state_path.unlink()
        State(workspace.state_path, workspace.secret, workspace.audit_key).close()
    for args in (("status",), ("plan", str(roster_file)), ("apply", str(roster_file), "--yes")):
        refused = cli(*args, "--json")
        assert refused.exit_code == ExitCode.WORKSPACE_FAULT, refused.output
        error = json.loads(refused.stdout)["error"]
        assert "state.sqlite3" in error["message"] and "restore" in error["hint"]
    assert issued.read_bytes() == before, "the issued import file is untouched"
    assert [p.name for p in (workspace.outbox / "purple-mash").glob("*-import-*.csv")] == [issued.name]


# 7: a killed purge or erasure is marked as interrupted, not "running" for ever


def first_pupil_id(roster_file) -> str:
    from provisioner.roster import read_roster
    from provisioner.settings import RosterSettings

    return read_roster(roster_file, RosterSettings(), today=TODAY).pupils[0].mis_id


@pytest.mark.parametrize("command", ["purge", "erase"])
def test_a_killed_purge_or_erasure_shows_as_interrupted_and_runs_again(workspace, roster_file, command):
    apply(workspace, roster_file)
    args = ("purge",) if command == "purge" else ("pupil", "erase", first_pupil_id(roster_file), "--yes")
    killed = run(workspace, *args, "--as-of", TODAY.isoformat(), env={"PROVISIONER_CRASH_AT": command})
    assert killed.returncode == KILLED, killed.stderr
    status = run(workspace, "status", "--json")
    assert status.returncode == 0, status.stderr
    runs = json.loads(status.stdout)["runs"]
    assert runs[0]["command"] == command and runs[0]["status"] == "interrupted"
    assert all(r["status"] != "running" for r in runs)
    again = run(workspace, *args, "--as-of", TODAY.isoformat())
    assert again.returncode == 0, again.stderr
    runs = json.loads(run(workspace, "status", "--json").stdout)["runs"]
    assert all(r["status"] != "running" for r in runs)


# 6: a purge killed before the state file is compacted


def test_a_purge_killed_before_compacting_leaves_nothing_of_the_purged_pupils_in_the_file(workspace, roster_file):
    apply(workspace, roster_file)
    mis_id = first_pupil_id(roster_file)
    key = f"mis:{mis_id.lstrip('0')}".encode()
    assert key in workspace.state_path.read_bytes()
    erased = run(workspace, "pupil", "erase", mis_id, "--yes", "--as-of", TODAY.isoformat())
    assert erased.returncode == 0, erased.stderr
    confirmed = run(workspace, "confirm", "purple-mash", "deleted")
    assert confirmed.returncode == 0, confirmed.stderr
    assert key in workspace.state_path.read_bytes(), "held until the purge"
    killed = run(workspace, "purge", "--as-of", TODAY.isoformat(), env={"PROVISIONER_CRASH_AT": "compacting"})
    assert killed.returncode == KILLED, killed.stderr
    raw = workspace.state_path.read_bytes()
    assert key not in raw, "the purged pupil's key cannot be read back from the file"
    # Many SQLite builds overwrite deleted rows anyway; the state asks for it wherever it runs.
    with workspace.open_state() as state:
        assert state.db.execute("PRAGMA secure_delete").fetchone() == (1,)


# 5: an erasure finds every file that names the pupil, School Data Sync's full sets included


def files_naming(folder, *values: str) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            found += [path.relative_to(folder).as_posix() for value in values if value.encode() in raw]
    return sorted(set(found))


def test_an_erased_pupil_is_in_no_school_data_sync_folder_after_the_purge(tmp_path):
    from conftest import key_of, yes
    from provisioner.facade import Provisioner
    from test_m365_sds import apply as apply_rows
    from test_m365_sds import sds_workspace

    workspace = sds_workspace(tmp_path)
    provisioner = Provisioner(workspace)
    rows = synthetic_pupils(12, seed=41, today=TODAY)
    apply_rows(workspace, rows, tmp_path)
    provisioner.confirm_uploaded("microsoft-365")
    rows[1] = {**rows[1], "preferred_surname": "Renamed"}  # another pupil renamed: a second full set, naming everyone
    apply_rows(workspace, rows, tmp_path)
    provisioner.confirm_uploaded("microsoft-365")
    erased = rows[0]
    with workspace.open_state() as state:
        account = state.accounts("microsoft-365")[key_of(erased)]
    named_by = (account.username, account.sent["pseudonymous_id"])
    assert len(files_naming(workspace.outbox, *named_by)) >= 2, "both full sets name the pupil"
    provisioner.erase_pupil(erased["mis_id"], confirm=yes, today=TODAY)
    for batch in provisioner.deletion_lists_waiting("microsoft-365"):
        provisioner.confirm_deleted("microsoft-365", batch.id, today=TODAY)
    with workspace.open_state() as state:
        waiting = [b for b in state.batches("microsoft-365") if b.status.name == "ISSUED"]
    for batch in waiting:
        provisioner.confirm_uploaded("microsoft-365", batch.id, today=TODAY)
    for batch in provisioner.deletion_lists_waiting("microsoft-365"):
        provisioner.confirm_deleted("microsoft-365", batch.id, today=TODAY)
    purged = provisioner.purge(TODAY)
    assert files_naming(workspace.outbox, *named_by) == sorted(purged["files_kept"]), \
        "no file names the erased pupil, but one the purge names for the admin"


# 12: an error body from Graph that is not the documented object


def test_a_wrong_graph_url_is_named_as_such_not_an_unexpected_error(m365, graph, roster_file):
    configure(m365, graph, graph_url=f'"{graph.authority_host}/wrong/v1.0"')  # answers {"error": "not_found"}
    result = Cli(m365)("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat(), "--json")
    assert result.exit_code == ExitCode.REMOTE_FAILED, result.output
    error = json.loads(result.stdout)["error"]
    assert "Microsoft Graph" in error["message"] and "404" in error["message"]
    assert "graph_url" in error["hint"]
    assert "Unexpected" not in result.output
    assert pupils_in(graph) == []


# 11: a full disk, a folder that cannot be written, a damaged state


def test_a_full_disk_part_way_says_what_was_done_and_the_next_apply_finishes(tmp_path, roster_file, monkeypatch):
    import errno

    from provisioner import files
    from provisioner.jobs.create import init_workspace
    from test_crash_safety import slips_match_imports

    workspace = init_workspace(tmp_path / "full", "Full Primary", "full.sch.uk", ["purple-mash", "tt-rockstars"])
    write = files.atomic_write_bytes

    def disk_full_for_the_second(path, data):
        if path.parent.name == "tt-rockstars":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        write(path, data)

    monkeypatch.setattr(files, "atomic_write_bytes", disk_full_for_the_second)
    failed = Cli(workspace)("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat(), "--json")
    assert failed.exit_code == ExitCode.WORKSPACE_FAULT, failed.output
    error = json.loads(failed.stdout)["error"]
    assert "disk is full" in error["message"] and "kept and recorded" in error["message"]
    assert "free some space" in error["hint"] and "run the same command again" in error["hint"]
    assert "Unexpected" not in failed.output and "Nothing more was changed" not in failed.output
    assert list((workspace.outbox / "purple-mash").glob("*-import-*.csv")), "one batch was issued"
    monkeypatch.setattr(files, "atomic_write_bytes", write)
    finished = Cli(workspace)("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat())
    assert finished.exit_code == 0, finished.output
    assert {p.parent.name for p in workspace.outbox.glob("*/*-import-*.csv")} == {"purple-mash", "tt-rockstars"}
    slips_match_imports(workspace)


def test_a_reports_folder_that_cannot_be_written_is_named(cli, workspace, monkeypatch):
    import errno

    from provisioner import files

    def refused(path, data):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(files, "atomic_write_bytes", refused)
    result = cli("register", "export", "--format", "html")
    assert result.exit_code == ExitCode.WORKSPACE_FAULT, result.output
    assert "permission denied" in result.output and "reports" in result.output and "Next: give your account" in result.output
    assert "Unexpected" not in result.output
    answered = json.loads(cli("register", "export", "--format", "html", "--json").stdout)["error"]
    assert answered["code"] == "workspace_fault" and "reports" in answered["message"]


def test_a_damaged_state_is_named_with_how_to_restore_it(cli, workspace):
    workspace.state_path.write_bytes(b"this is not a database, it was overwritten by something else" * 100)
    for args in (("status",), ("purge",)):
        result = cli(*args, "--json")
        assert result.exit_code == ExitCode.WORKSPACE_FAULT, result.output
        error = json.loads(result.stdout)["error"]
        assert "state.sqlite3 is damaged" in error["message"] and "restore" in error["hint"]
        assert "Traceback" not in result.output


# 13: folders made again owner-only; init without a terminal


def test_outbox_and_reports_deleted_by_the_admin_are_made_again_owner_only(workspace, roster_file, cli):
    import shutil
    import stat

    shutil.rmtree(workspace.outbox)
    shutil.rmtree(workspace.reports)
    apply(workspace, roster_file)
    assert cli("register", "export", "--format", "html").exit_code == 0
    if os.name == "posix":
        for folder in (workspace.outbox, workspace.outbox / "purple-mash", workspace.reports):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder.name


@pytest.mark.skipif(os.name != "posix", reason="a pseudo-terminal stands in for the admin's")
def test_a_second_command_is_refused_at_once_naming_the_one_at_work(workspace, roster_file):
    import pty

    # A real apply holds the workspace while it waits at its question, as an admin who went to
    # make a cup of tea leaves it; a cleanup started meanwhile must not wait or interleave.
    primary, secondary = pty.openpty()
    waiting = subprocess.Popen([sys.executable, "-m", "provisioner", "apply", str(roster_file), "--as-of",
                                TODAY.isoformat(), "--workspace", str(workspace.root)],
                               stdin=secondary, stdout=secondary, stderr=secondary, env=command_env())  # fmt: skip
    os.close(secondary)
    try:
        shown = b""
        while b"Apply these changes?" not in shown:
            shown += os.read(primary, 4096)
        second = run(workspace, "leavers", "apply", str(roster_file), "--yes", "--json")
        assert second.returncode == ExitCode.USAGE
        error = json.loads(second.stdout)["error"]
        assert error["message"].startswith("another provisioner command is working on this workspace: "
                                           f"provisioner apply (process {waiting.pid}, since ")  # fmt: skip
        assert "then run this command again" in error["next"]
    finally:
        os.write(primary, b"n\n")
        waiting.wait(timeout=60)
        os.close(primary)
    assert waiting.returncode == 0, "the admin said no"
    assert not any(p.is_file() for p in workspace.outbox.rglob("*")), "and nothing was written"
    assert run(workspace, "status", "--json").returncode == 0, "the lock went with the command"


def test_init_without_a_terminal_never_stops_at_a_question(tmp_path):
    def init(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "provisioner", "init", *args], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    made = init(str(tmp_path / "a"), "--school", "Ash Primary", "--domain", "ash.sch.uk", "--platform", "ixl")
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "a" / "provisioner.toml").is_file()
    missing = init(str(tmp_path / "b"))
    assert missing.returncode == ExitCode.USAGE, missing.stderr
    assert "--school" in missing.stderr and "Unexpected" not in missing.stderr
    assert not (tmp_path / "b").exists()
    with_yes = init(str(tmp_path / "c"), "--yes", "--school", "Birch Primary", "--domain", "birch.sch.uk")
    assert with_yes.returncode == 0, with_yes.stderr


def test_a_utf_32_roster_is_read_as_utf_32(tmp_path, cli, pupils):
    csv_file = tmp_path / "roster.csv"
    write_roster_csv(csv_file, pupils)
    wide = tmp_path / "roster-utf32.csv"
    wide.write_bytes(csv_file.read_text(encoding="utf-8-sig").encode("utf-32"))  # with its byte-order mark
    result = cli("roster", "check", str(wide), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pupils"] == len(pupils)


# Settings: an invalid provisioner.toml names the key, its line and what is allowed; a secret in it is refused


def edit_settings(workspace, old: str, new: str) -> int:
    """Replace the first line ``old`` of provisioner.toml; returns its line number (from 1)."""
    lines = workspace.settings_path.read_text(encoding="utf-8").splitlines()
    number = lines.index(old)
    lines[number] = new
    workspace.settings_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    workspace.__dict__.pop("settings", None)
    return number + 1


def test_an_invalid_setting_is_named_with_its_line_and_what_is_allowed(workspace, cli):
    line = edit_settings(workspace, 'style = "combined"', 'style = "fancy"')
    result = cli("status", "--json")
    assert result.exit_code == ExitCode.USAGE, result.output
    message = json.loads(result.stdout)["error"]["message"]
    assert "slips.style" in message and f"line {line}" in message and "'combined' or 'per-platform'" in message


@pytest.mark.parametrize(("section", "key", "how"), [
    ("[platforms.microsoft-365]", "client_secret", "PROVISIONER_M365_CLIENT_SECRET"),
    ("[platforms.purple-mash]", "password", "needs no secret"),
])
def test_a_secret_written_into_the_settings_is_refused_with_the_right_way_to_give_it(workspace, cli, section, key, how):
    value = "Syn8Q~pasted-into-the-file.not-real_42"
    line = edit_settings(workspace, section, f'{section}\n{key} = "{value}"') + 1
    result = cli("status", "--json")
    assert result.exit_code == ExitCode.USAGE, result.output
    error = json.loads(result.stdout)["error"]
    assert key in error["message"] and f"line {line}" in error["message"] and how in error["hint"]
    assert value not in result.output, "the secret is never repeated"


# --json on every path: one JSON object on stdout, failures included


def test_json_is_answered_on_failure_paths_with_the_code_the_message_and_what_to_do_next(workspace, cli, tmp_path):
    header_only = tmp_path / "header-only.csv"
    header_only.write_text("MIS ID,Legal Forename,Legal Surname,Year,Class,Date of Birth\n", encoding="utf-8")
    for args, code in ((("plan", str(header_only)), ExitCode.INVALID_ROSTER),
                       (("pupil", "show", "999999"), ExitCode.USAGE),
                       (("reset-passwords", "purple-mash", str(header_only), "--class", "Oak"), ExitCode.INVALID_ROSTER),
                       (("pupil", "allow", "999999"), ExitCode.OK),
                       (("plan", str(header_only), "--no-such-option"), ExitCode.USAGE),
                       (("pupil", "show"), ExitCode.USAGE)):  # fmt: skip
        result = cli(*args, "--json")
        assert result.exit_code == code, (args, result.output)
        answer = json.loads(result.stdout)  # one JSON object, whatever else went to stderr
        if code != ExitCode.OK:
            error = answer["error"]
            assert error["code"] == code.name.lower() and error["exit_code"] == code
            assert error["message"] and error["next"], args


# SIGKILL at seeded points of apply, leavers apply, purge and pupil erase, on file platforms;
# then the same command again finishes the job: nobody twice, no file the state does not know,
# the slips matching the files, nothing left running, the audit chain intact.
#
# Each kind's workspace, every stage before its command done, is built once a test process and
# copied for each seed; its command is run once uninterrupted there to list every place it can
# be killed (tests/kill_points.py), and seed s kills it at the sth of them: the points placed in
# the job by hand, then each file written before it is in place, each state commit before the
# audit head moves on, each file the purge removes.

FILE_PLATFORMS = ["purple-mash", "bug-club"]  # a CSV and a sheet to paste from, so each point is passed twice
LEFT_ON, CLEANED_ON, PURGED_ON = "2026-12-01", "2027-01-05", "2028-12-01"
POINTS = {  # the points placed by hand in each command's job (bench/fault_soak.py draws from these)
    "apply": [f"{point}@{nth}" for point in ("prepared", "between-documents", "written", "committed") for nth in (1, 2)],
    "leavers": ["leavers", "deletion-list@1", "deletion-list@2"],
    "purge": ["purge", "compacting"],
    "erase": ["erase", "deletion-list@1", "deletion-list@2"],
}
SEEDS = range(20)
PUPILS = 24  # every year group, nursery to year 6, three pupils each


def fault_workspace(tmp_path, seed: int):
    """Two file platforms, a roster of 24 (a few leaving later), and nothing done yet."""
    from provisioner.jobs.create import init_workspace
    from provisioner.synthetic import write_roster_xlsx

    workspace = init_workspace(tmp_path / "ws", "Fault Primary", "fault.sch.uk", FILE_PLATFORMS)
    rows = synthetic_pupils(PUPILS, seed=100 + seed, today=TODAY)
    roster = tmp_path / "roster.xlsx"
    write_roster_xlsx(roster, rows)
    return workspace, rows, roster


def on_both_platforms(rows: list[dict]) -> list[dict]:
    """The pupils both platforms hold (Bug Club serves reception to year 6)."""
    return [r for r in rows if not r.get("leaving_date") and r["year_group"] not in ("N1", "N2")]


def leave(rows: list[dict], roster, count: int = 2) -> list[dict]:
    """``count`` pupils leave (few enough for the cleanup's guard): one only Purple Mash holds,
    the others held by both platforms, so each platform has a deletion list to write."""
    from datetime import date

    from provisioner.synthetic import write_roster_xlsx

    only_one = [r for r in rows if not r.get("leaving_date") and r not in on_both_platforms(rows)][:1]
    leavers = only_one + on_both_platforms(rows)[::3][: count - len(only_one)]
    for row in leavers:
        row["leaving_date"] = date.fromisoformat(LEFT_ON)
    write_roster_xlsx(roster, rows)
    return leavers


def command_under_test(kind: str, workspace, rows, roster) -> list[str]:
    """The stages before ``kind`` done, and its own arguments."""
    from datetime import date

    from provisioner.facade import Provisioner

    if kind == "apply":
        return ["apply", str(roster), "--yes", "--as-of", TODAY.isoformat()]
    apply(workspace, roster)
    if kind == "erase":
        return ["pupil", "erase", on_both_platforms(rows)[0]["mis_id"], "--yes", "--as-of", TODAY.isoformat()]
    leave(rows, roster)
    if kind == "leavers":
        return ["leavers", "apply", str(roster), "--yes", "--as-of", CLEANED_ON]
    provisioner = Provisioner(workspace)
    for platform in FILE_PLATFORMS:
        provisioner.confirm_uploaded(platform, today=TODAY)  # the purge removes the uploaded files too
    provisioner.apply_leavers(roster, confirm=lambda _: True, today=date.fromisoformat(CLEANED_ON))
    for platform in FILE_PLATFORMS:
        for batch in provisioner.deletion_lists_waiting(platform):
            provisioner.confirm_deleted(platform, batch.id, today=date.fromisoformat(CLEANED_ON))
    return ["purge", "--as-of", PURGED_ON]


def assert_the_job_is_whole(workspace, kind: str, rows: list[dict]) -> None:
    import sqlite3

    from test_crash_safety import slips_match_imports

    db = sqlite3.connect(workspace.state_path)
    try:
        assert db.execute("SELECT COUNT(*) FROM runs WHERE status = 'running'").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM sends s JOIN batches b ON b.platform = s.platform AND b.id = s.batch_id"
                          " WHERE s.status = 'pending' AND b.kind != 'deletion'").fetchone()[0] == 0, \
            "every send finished (a deletion list's rows wait for the admin)"  # fmt: skip
        assert db.execute("SELECT COUNT(*) FROM batches WHERE status = 'writing'").fetchone()[0] == 0
        for platform in FILE_PLATFORMS:
            names = [u for (u,) in db.execute("SELECT username FROM accounts WHERE platform = ?", (platform,))]
            assert len(names) == len(set(names)), "nobody shares a username"
            keys = [k for (k,) in db.execute("SELECT pupil_key FROM accounts WHERE platform = ?", (platform,))]
            assert len(keys) == len(set(keys)), "one account per pupil"
        listed = db.execute("SELECT s.platform, s.pupil_key, COUNT(*) FROM sends s JOIN batches b ON "
                            "b.platform = s.platform AND b.id = s.batch_id WHERE b.kind = 'deletion' "
                            "GROUP BY s.platform, s.pupil_key HAVING COUNT(*) > 1").fetchall()  # fmt: skip
        assert listed == [], "nobody is on two deletion lists"
        known = {batch_id for (batch_id,) in db.execute("SELECT id FROM batches")}
    finally:
        db.close()
    with workspace.open_state() as state:
        assert state.verify_audit().intact, "the audit chain is intact"
    for path in workspace.outbox.rglob("*"):
        assert not path.name.startswith("."), f"a temporary file was left: {path.name}"
        if path.is_file() and path.parent.name in FILE_PLATFORMS:
            assert any(batch_id in path.name for batch_id in known), f"{path.name} belongs to no batch the state knows"
    if kind == "apply":
        slips_match_imports(workspace)
    if kind == "purge":
        from conftest import key_of

        raw = workspace.state_path.read_bytes()
        gone = [row for row in rows if row.get("leaving_date")]
        assert gone and not any(key_of(row).encode() in raw for row in gone), "the purged leavers are forgotten"


@dataclass(frozen=True)
class Prepared:
    """A kind's workspace with every stage before its command done, to copy for each seed."""

    workspace: Path
    rows: list[dict]
    args: list[str]  # the command, without --workspace
    points: list[str]  # every place the command can be killed, in the order the seeds take them


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Callable[[str], Prepared]:
    """Each kind's workspace built once a test process (its roster is only read), and the
    places its command passes listed from a run on a copy of it."""
    from kill_points import kill_points_of

    made: dict[str, Prepared] = {}

    def prepare(kind: str) -> Prepared:
        if kind not in made:
            folder = tmp_path_factory.mktemp(f"fault-{kind}")
            workspace, rows, roster = fault_workspace(folder, 0)
            args = command_under_test(kind, workspace, rows, roster)
            points = kill_points_of(workspace.root, args, f"file-{kind}", POINTS[kind])
            made[kind] = Prepared(workspace.root, rows, args, points)
        return made[kind]

    return prepare


@pytest.mark.parametrize("kind", list(POINTS))
@pytest.mark.parametrize("seed", SEEDS)
def test_killed_at_a_seeded_point_then_run_again_finishes_the_job(prepared, tmp_path, kind, seed):
    import shutil

    from provisioner.workspace import Workspace

    ready = prepared(kind)
    workspace = Workspace(shutil.copytree(ready.workspace, tmp_path / "ws"))
    point = ready.points[seed % len(ready.points)]
    killed = run(workspace, *ready.args, env={"PROVISIONER_CRASH_AT": point})
    assert killed.returncode == KILLED, f"{point} was not reached: {killed.stderr}"
    again = run(workspace, *ready.args)
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert_the_job_is_whole(workspace, kind, ready.rows)


@pytest.mark.parametrize("where", ["/wrong", "/v1.0"])
def test_a_wrong_authority_host_is_named_as_such(m365, graph, roster_file, where):
    configure(m365, graph, authority_host=f'"{graph.authority_host}{where}"')
    result = Cli(m365)("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat(), "--json")
    assert result.exit_code in (ExitCode.USAGE, ExitCode.REMOTE_FAILED), result.output
    error = json.loads(result.stdout)["error"]
    assert "authority_host" in error["next"] and "Unexpected" not in result.output
    assert pupils_in(graph) == []


@pytest.mark.parametrize("body", ["<html>Service Unavailable</html>", None, {"error": 5}, ["not", "an", "object"]])
def test_a_token_answer_that_is_not_entras_is_a_remote_error_with_the_next_step(m365, graph, roster_file, monkeypatch,
                                                                               body):  # fmt: skip
    answer = graph._token_side

    def not_entra(method, path, raw):
        if path.endswith("/oauth2/v2.0/token"):
            return 500, {"Content-Type": "text/html"}, body
        return answer(method, path, raw)

    monkeypatch.setattr(graph, "_token_side", not_entra)
    result = Cli(m365)("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat(), "--json")
    assert result.exit_code == ExitCode.REMOTE_FAILED, result.output
    error = json.loads(result.stdout)["error"]
    assert error["next"] and "Unexpected" not in result.output


def test_a_disk_full_while_compacting_after_a_purge_says_the_purge_was_recorded(workspace, roster_file, cli, monkeypatch):
    import sqlite3

    from provisioner.state import State

    apply(workspace, roster_file)

    def disk_full(self):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(State, "compact", disk_full)
    result = cli("purge", "--json")
    assert result.exit_code == ExitCode.WORKSPACE_FAULT, result.output
    error = json.loads(result.stdout)["error"]
    assert "disk is full" in error["message"] and "what was recorded before this step is kept" in error["message"]
    assert "Nothing more was changed" not in result.output and "free some space" in error["next"]
    with workspace.open_state() as state:
        assert state.last_runs(1)[0]["command"] == "purge" and state.last_runs(1)[0]["status"] == "ok"


def test_a_column_named_password_is_not_taken_for_a_secret(workspace, cli, roster_file):
    from conftest import set_platform

    set_platform(workspace, "purple-mash", columns='{ "First name" = "forename", "Surname" = "surname", '
                                                     '"Username" = "username", "Password" = "password" }')
    result = cli("status", "--json")
    assert result.exit_code == 0, result.output
