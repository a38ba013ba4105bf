"""The command line: exit codes, JSON shapes, one-line errors with a next step, no tracebacks."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import TODAY
from provisioner.cli import app

runner = CliRunner()
HEADER = "Adno,UPN,Legal Forename,Legal Surname,Year,Reg Group\r\n"


def write_csv(path: Path, body: str) -> Path:
    path.write_bytes((HEADER + body).encode("utf-8"))
    return path


def test_init_runs_unattended(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path / "ws"), "--school", "Test Primary", "--domain",
                                 "test.sch.uk", "--platform", "purple-mash", "--yes"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ws" / "provisioner.toml").is_file()


def test_roster_check_json_shape(cli, roster_file):
    result = cli("roster", "check", str(roster_file), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["pupils"] == 60
    assert data["errors"] == []
    assert isinstance(data["warnings"], list)


def test_a_broken_roster_exits_3_with_row_and_column_and_no_traceback(cli, tmp_path):
    roster = write_csv(tmp_path / "broken.csv", "000101,,,Smith,Year 3,3A\r\n000102,,Ava,Jones,Year 3,3A\r\n")
    result = cli("roster", "check", str(roster), "--json")
    assert result.exit_code == 3
    [error] = json.loads(result.stdout)["errors"]
    assert error["row"] == 2 and error["column"] == "Legal Forename"
    plan = cli("plan", str(roster))
    assert plan.exit_code == 3
    assert "row 2" in plan.output and "Legal Forename" in plan.output and "--skip-invalid-rows" in plan.output
    assert "Traceback" not in plan.output


def test_a_roster_with_errors_stops_apply_and_changes_nothing(cli, workspace, tmp_path):
    roster = write_csv(tmp_path / "broken.csv", "000101,,,Smith,Year 3,3A\r\n000102,,Ava,Jones,Year 3,3A\r\n")
    result = cli("apply", str(roster), "--yes")
    assert result.exit_code == 3
    db = sqlite3.connect(workspace.state_path)
    assert db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0] == 0
    assert list(workspace.outbox.rglob("*.csv")) == []
    skipped = cli("apply", str(roster), "--yes", "--skip-invalid-rows", "--json")
    assert skipped.exit_code == 0, skipped.output
    assert json.loads(skipped.stdout)["platforms"]["purple-mash"]["create"] == 1


def test_plan_and_apply_json_shapes_and_idempotence(cli, roster_file):
    plan = cli("plan", str(roster_file), "--json", "--as-of", TODAY.isoformat())
    assert plan.exit_code == 0, plan.output
    counts = json.loads(plan.stdout)["platforms"]["purple-mash"]
    assert set(counts) >= {"create", "update", "disable", "delete", "restore", "unchanged"}
    first = cli("apply", str(roster_file), "--yes", "--json", "--as-of", TODAY.isoformat())
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["platforms"]["purple-mash"]["create"] == counts["create"]
    second = cli("apply", str(roster_file), "--yes", "--json", "--as-of", TODAY.isoformat())
    data = json.loads(second.stdout)
    assert data["platforms"]["purple-mash"]["create"] == 0
    assert data["platforms"]["purple-mash"]["unchanged"] == counts["create"]
    assert data["batches"] == []


def test_apply_without_yes_and_without_a_terminal_asks_for_yes(cli, workspace, roster_file):
    result = cli("apply", str(roster_file))
    assert result.exit_code == 2
    assert "--yes" in result.output
    assert list(workspace.outbox.rglob("*.csv")) == []


def test_status_lists_accounts_and_files_awaiting_upload(cli, roster_file):
    assert json.loads(cli("status", "--json").stdout)["platforms"]["purple-mash"]["last_run"] is None
    cli("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat())
    result = cli("status", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    purple = data["platforms"]["purple-mash"]
    assert purple["last_run"]["command"] == "apply"
    assert purple["last_run"]["at"].startswith(data["runs"][0]["started_at"][:10])
    # Made in a file nobody has uploaded yet: counted as such, not as active accounts.
    assert "active" not in purple["accounts"]
    assert purple["accounts"]["issued_not_uploaded"] == purple["issued_not_uploaded"] > 0
    assert len(purple["awaiting_upload"]) == 1
    assert data["audit"]["intact"] is True
    assert cli("confirm", "purple-mash", "uploaded").exit_code == 0
    purple = json.loads(cli("status", "--json").stdout)["platforms"]["purple-mash"]
    assert purple["accounts"]["active"] > 0 and purple["issued_not_uploaded"] == 0
    assert purple["last_run"]["command"] == "confirm"


def test_no_workspace_is_a_usage_error_naming_init(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROVISIONER_WORKSPACE", raising=False)
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2
    assert "provisioner init" in result.output


def test_an_unknown_platform_is_a_usage_error(cli, roster_file):
    result = cli("plan", str(roster_file), "--platform", "myspace")
    assert result.exit_code == 2
    assert "purple-mash" in result.output


def test_a_missing_roster_file_is_reported_plainly(cli, tmp_path):
    result = cli("plan", str(tmp_path / "nope.xlsx"))
    assert result.exit_code == 3
    assert "Traceback" not in result.output


def test_demo_runs_end_to_end_and_again_does_nothing(tmp_path):
    target = tmp_path / "demo"
    first = runner.invoke(app, ["demo", str(target)])
    assert first.exit_code == 0, first.output
    [import_file] = list((target / "outbox" / "purple-mash").glob("*.csv"))
    assert import_file.read_text(encoding="utf-8").count("\n") > 350
    second = runner.invoke(app, ["demo", str(target)])
    assert second.exit_code == 0, second.output
    assert "already applied" in second.output


def test_roster_check_json_reports_a_refused_file_as_json(cli, tmp_path):
    header_only = write_csv(tmp_path / "header-only.csv", "")
    result = cli("roster", "check", str(header_only), "--json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["pupils"] == 0
    assert data["errors"]


def test_apply_json_needs_yes(cli, workspace, roster_file):
    result = cli("apply", str(roster_file), "--json")
    assert result.exit_code == 2
    assert "--yes" in result.output
    assert list(workspace.outbox.rglob("*.csv")) == []


def test_demo_refuses_a_real_schools_workspace(workspace):
    result = runner.invoke(app, ["demo", str(workspace.root)])
    assert result.exit_code == 2
    assert "real school" in result.output
    assert list(workspace.outbox.rglob("*.csv")) == []


def test_an_empty_roster_is_an_invalid_roster_for_plan_but_a_guard_refusal_for_leavers(cli, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("UPN,Legal Forename,Legal Surname,Year,Reg Group\n", encoding="utf-8")
    assert cli("plan", str(empty)).exit_code == 3
    assert cli("leavers", "plan", str(empty)).exit_code == 6


def all_commands(group=None, prefix=()):
    """(words, click command) for every command of the tool, sub-commands included."""
    import typer.main

    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from all_commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def test_help_reads_as_a_persons_words_with_no_type_placeholders():
    wide = CliRunner(env={"COLUMNS": "300"})
    for words, command in [((), None), *all_commands()]:
        shown = wide.invoke(app, [*words, "--help"], terminal_width=300)
        assert shown.exit_code == 0, shown.output
        for placeholder in ("<bool>", "<path>", "<str>", "<list", "<int>", "{"):
            assert placeholder not in shown.output, f"'{' '.join(words)} --help' shows {placeholder}"
        if command is not None:
            assert "\n" not in command.help, f"'{' '.join(words)}': help text with a line break in mid-sentence"
            assert command.help in " ".join(shown.output.split()), f"'{' '.join(words)}': help text broken up"


def test_an_error_is_said_once(cli, tmp_path):
    empty = write_csv(tmp_path / "empty.csv", "")
    for args in (["plan", str(empty)], ["roster", "check", str(empty)], ["leavers", "plan", str(empty)]):
        result = cli(*args)
        assert result.exit_code in (3, 6)
        assert result.output.count("the roster has no pupils") == 1, result.output


def test_field_names_are_shown_in_peoples_words(cli, roster_file):
    checked = cli("roster", "check", str(roster_file))
    assert "legal forename <- 'Legal Forename'" in checked.output
    planned = cli("plan", str(roster_file), "--as-of", TODAY.isoformat())
    words = " ".join(planned.output.split())
    assert "Registration class" in words and "Pseudonymous pupil id" in words
    for output in (checked.output, planned.output):
        assert "legal_forename" not in output and "class_name" not in output and "pseudonymous_id" not in output


def test_a_broken_audit_log_has_its_own_exit_code(cli, workspace, roster_file):
    assert cli("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat()).exit_code == 0
    db = sqlite3.connect(workspace.state_path)
    db.execute("DROP TRIGGER audit_no_update")  # as someone rewriting the record by hand would
    db.execute("UPDATE audit SET detail = '{}' WHERE seq = 2")
    db.commit()
    db.close()
    result = cli("status")
    assert result.exit_code == 8
    assert "BROKEN" in result.output and "event 2 does not match" in result.output


def test_ctrl_c_exits_130_and_says_how_to_finish(cli, monkeypatch):
    from provisioner.facade import Provisioner

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Provisioner, "status", interrupted)
    result = cli("status")
    assert result.exit_code == 130
    assert "Run the same command again" in result.output


@pytest.mark.skipif(os.name != "posix", reason="a Ctrl-C is a signal to the process group on POSIX")
def test_a_ctrl_c_leaves_the_workers_drawing_an_applys_cards_to_the_apply():
    """A Ctrl-C at the terminal reaches every process of the command, the workers drawing a
    trust's cards while its files are written included: a worker stopped by it printed its own
    traceback over the apply's "Interrupted" answer. It leaves the Ctrl-C to the apply (which
    ends it) and goes on answering."""
    import signal

    from provisioner.workers import spawned_pool

    pool = spawned_pool(1)
    try:
        worker = pool.submit(os.getpid).result()
        try:
            answer = pool.submit(os.kill, worker, signal.SIGINT).result()
        except BaseException as exc:  # noqa: BLE001 (a KeyboardInterrupt from the worker, not this run's own)
            answer = exc
        assert answer is None, "the Ctrl-C left to the apply"
        assert pool.submit(os.getpid).result() == worker, "the same worker, still at work"
    finally:
        pool.shutdown(cancel_futures=True)


def test_messages_are_never_broken_by_the_terminals_width(workspace, tmp_path):
    """Run as a person would, in a narrow terminal: a message is one line, whatever the width."""
    import os
    import subprocess
    import sys

    command = [sys.executable, "-m", "provisioner", "demo", str(workspace.root)]
    for columns in ("40", "200"):
        result = subprocess.run(command, env={**os.environ, "COLUMNS": columns}, capture_output=True, text=True)
        assert result.returncode == 2
        assert f"Error: {workspace.root} is a real school's workspace, not the demo's." in result.stderr.splitlines()


def test_ctrl_c_at_a_question_exits_130_having_changed_nothing(tmp_path, monkeypatch):
    """Typer turns Ctrl-C (or the end of input) at a prompt into Abort: still an interruption."""
    from provisioner.cli import common

    monkeypatch.setattr(common, "can_ask", lambda: True)  # a terminal, where init asks
    result = runner.invoke(app, ["init", str(tmp_path / "ws")], input="")
    assert result.exit_code == 130
    assert "nothing was changed" in result.output and "Unexpected" not in result.output
    assert not (tmp_path / "ws").exists()
