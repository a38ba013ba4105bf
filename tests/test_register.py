"""The processor register: entries, approvals, and the check governors rely on.

The register's fields come from the connectors, its approvals from the state; the check fails
when what is sent and what was approved disagree, a required fact is missing, or a review is
overdue, and passes on a fresh demo workspace.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta

import pytest
from typer.testing import CliRunner

from conftest import TODAY, Cli, set_platform, yes
from provisioner.cli import app
from provisioner.connector import registry
from provisioner.errors import ApprovalNeeded
from provisioner.facade import Provisioner
from provisioner.register import MANDATORY, build_register, gap_kind, load_entries, shipped_entries
from provisioner.jobs.create import init_workspace

RECIPIENTS = {"dfe", "local-authority", "next-school", "school-nurse"}


def check(cli: Cli, *args: str) -> tuple[int, dict]:
    result = cli("register", "check", "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def errors(report: dict) -> list[str]:
    return [p["message"] for p in report["problems"] if p["severity"] == "error"]


def test_every_shipped_entry_has_every_required_fact_or_says_it_is_a_gap():
    entries = load_entries()
    assert set(registry()) | RECIPIENTS <= set(entries)
    for entry in entries.values():
        for key in MANDATORY:
            assert getattr(entry, key).strip(), f"{entry.id} says nothing about {key}"
        if entry.id in registry():
            assert entry.kind == "platform"
            assert entry.fields is None, f"{entry.id}: a connected platform's fields come from its connector"
        else:
            assert entry.kind == "recipient" and entry.fields is not None
    # The facts nobody has found are marked as gaps, not left to look like answers.
    assert gap_kind(entries["ixl"].hosting) == "supplier"
    assert gap_kind(entries["purple-mash"].dpia) == "school"


def test_no_shipped_entry_sends_the_upn_unless_it_says_the_upn_goes_there():
    for entry in shipped_entries().values():
        assert "upn" not in entry.get("fields", []) or entry["id"] in {"dfe", "local-authority", "next-school"}


def test_a_fresh_demo_workspace_passes_the_check_and_exports(tmp_path):
    runner = CliRunner()
    demo = runner.invoke(app, ["demo", str(tmp_path / "demo")])
    assert demo.exit_code == 0, demo.output
    result = runner.invoke(app, ["register", "check", "--workspace", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    # No errors, but the facts still to collect are said too: never a bare "passes" above them.
    assert "The register has no errors." in result.output
    assert "still to collect" in result.output and "provisioner register gaps" in result.output
    exported = runner.invoke(app, ["register", "export", "--format", "xlsx", "--workspace", str(tmp_path / "demo")])
    assert exported.exit_code == 0, exported.output
    assert list((tmp_path / "demo" / "reports").glob("processor-register-*.xlsx"))


def test_the_register_counts_the_pupils_each_platform_holds(workspace, roster_file):
    result = Provisioner(workspace).apply(roster_file, confirm=yes, today=TODAY)
    state = workspace.open_state()
    try:
        register = build_register(workspace, state, TODAY)
        runs = state.last_runs()
    finally:
        state.close()
    [mash] = [p for p in register.processors if p.id == "purple-mash"]
    # The import file is written, not yet uploaded: made, but not held until the upload is confirmed.
    assert mash.evidence.pupils_held == 0
    assert mash.evidence.awaiting_upload == sum(b.rows for b in result.batches if b.platform == "purple-mash")
    assert mash.fields == list(workspace.connectors(["purple-mash"])[0].sent_fields)
    [run] = [r for r in runs if r["command"] == "apply"]
    moment = datetime.fromisoformat  # the register gives the school's clock, the state UTC
    assert moment(run["started_at"]) <= moment(mash.evidence.last_provisioning) <= moment(run["finished_at"])
    assert mash.evidence.last_cleanup is None and mash.evidence.deletions_overdue == 0
    assert {p.id for p in register.recipients()} == RECIPIENTS
    assert register.ok, register.problems


def test_a_field_turned_on_is_refused_by_apply_and_the_check_until_someone_approves_it(tmp_path, roster_file):
    workspace = init_workspace(tmp_path / "ws", "Approval Primary", "approval.sch.uk", ["bug-club"], "A. Admin")
    cli = Cli(workspace)
    assert check(cli)[0] == 0
    set_platform(workspace, "bug-club", optional_fields='["class_name"]')
    code, report = check(cli)
    assert code == 7
    assert any("Registration class" in m and "does not list" in m for m in errors(report)), report
    state_before = workspace.state_path.read_bytes()

    applied = cli("apply", str(roster_file), "--yes")
    assert applied.exit_code == 2, applied.output
    assert "register approve bug-club" in applied.output and "Traceback" not in applied.output
    assert workspace.state_path.read_bytes() == state_before, "nothing was recorded"
    assert not list(workspace.outbox.rglob("*.csv")), "nothing was written"

    approved = cli("register", "approve", "bug-club", "--by", "B. Governor", "--role", "chair of governors",
                   "--note", "agreed at the autumn meeting")  # fmt: skip
    assert approved.exit_code == 0, approved.output
    assert check(cli)[0] == 0
    assert cli("apply", str(roster_file), "--yes").exit_code == 0

    shown = json.loads(cli("register", "show", "--json").stdout)
    first, second = shown["processors"]["bug-club"]["approvals"]
    assert first["approved_by"] == "A. Admin" and "class_name" not in first["fields_after"]
    assert second["approved_by"] == "B. Governor" and second["role"] == "chair of governors"
    assert second["fields_before"] == first["fields_after"]
    assert "class_name" in second["fields_after"]
    assert second["note"] == "agreed at the autumn meeting"


def test_a_field_no_longer_sent_is_a_disagreement_too(tmp_path):
    workspace = init_workspace(tmp_path / "ws", "Approval Primary", "approval.sch.uk", ["tt-rockstars"], "A. Admin")
    set_platform(workspace, "tt-rockstars",
                 columns='{ "First Name" = "forename", "Last Name" = "surname", "Class" = "class_name", '
                 '"Username" = "username", "Password" = "password" }')  # fmt: skip
    code, report = check(Cli(workspace))
    assert code == 7
    assert any("Year group" in m and "no longer sent" in m for m in errors(report)), report


def test_a_connector_that_declares_a_new_field_fails_the_check(tmp_path, monkeypatch):
    workspace = init_workspace(tmp_path / "ws", "Code Change Primary", "code.sch.uk", ["purple-mash"], "A. Admin")
    cls = registry()["purple-mash"]
    monkeypatch.setattr(cls, "fields", (*cls.fields, "date_of_birth"))
    monkeypatch.setattr(cls, "columns", (*cls.columns, ("DOB", "date_of_birth")))
    code, report = check(Cli(workspace))
    assert code == 7
    messages = errors(report)
    assert any("Date of birth" in m and "does not list" in m for m in messages), messages
    assert any("Date of birth" in m and "saying why" in m for m in messages), messages


def test_fields_typed_into_a_connected_platforms_entry_must_match_the_connector(workspace):
    (workspace.root / "registers").mkdir()
    (workspace.root / "registers" / "purple-mash.toml").write_text('fields = ["forename"]\n', encoding="utf-8")
    code, report = check(Cli(workspace))
    assert code == 7
    assert any("the connector sends" in m for m in errors(report)), report


def test_a_school_can_fill_a_gap_and_add_its_own_processor(workspace):
    folder = workspace.root / "registers"
    folder.mkdir()
    (folder / "purple-mash.toml").write_text('dpia = "DPIA 2026/4, agreed 2026-10-01"\n', encoding="utf-8")
    (folder / "reading-app.toml").write_text(
        'name = "Reading App"\nkind = "platform"\nfields = ["forename", "year_group"]\npurpose = "Reading."\n'
        'entity = "Reading App Ltd"\ncontact = "dpo@example.invalid"\nrole = "processor"\n',
        encoding="utf-8",
    )
    cli = Cli(workspace)
    code, report = check(cli)
    assert code == 7
    missing = [m for m in errors(report) if m.startswith("Reading App: the register entry does not say")]
    assert {m.split("'")[1] for m in missing} == {"lawful_basis", "data_subjects", "hosting", "transfers",
                                                   "sub_processors", "contract", "dpia", "retention", "security"}
    shown = json.loads(cli("register", "show", "--json").stdout)["processors"]
    assert shown["purple-mash"]["dpia"] == "DPIA 2026/4, agreed 2026-10-01"
    assert "DPIA" not in shown["purple-mash"]["gaps"]
    assert shown["reading-app"]["fields"] == ["forename", "year_group"]


def test_an_unknown_key_in_an_entry_is_a_settings_error_naming_it(workspace):
    (workspace.root / "registers").mkdir()
    (workspace.root / "registers" / "purple-mash.toml").write_text('dpai = "typo"\n', encoding="utf-8")
    result = Cli(workspace)("register", "check")
    assert result.exit_code == 2
    assert "dpai" in result.output and "Traceback" not in result.output


def test_a_review_date_passed_fails_until_reviewed(workspace):
    cli = Cli(workspace)
    reviews = [p["approvals"][-1]["next_review"] for p in json.loads(cli("register", "show", "--json").stdout)
               ["processors"].values()]  # fmt: skip
    assert check(cli, "--as-of", min(reviews))[0] == 0, "due on the day is not yet overdue"
    late = (date.fromisoformat(min(reviews)) + timedelta(days=1)).isoformat()
    code, report = check(cli, "--as-of", late)
    assert code == 7
    assert any("review was due" in m for m in errors(report))
    for entry in json.loads(cli("register", "show", "--json").stdout)["processors"]:
        assert cli("register", "approve", entry, "--by", "D. P. Officer", "--as-of", late).exit_code == 0
    assert check(cli, "--as-of", late)[0] == 0


def test_approving_something_not_in_the_register_says_what_is(workspace):
    result = Cli(workspace)("register", "approve", "ixl", "--by", "A. Admin")
    assert result.exit_code == 2
    assert "purple-mash" in result.output and "Traceback" not in result.output


def test_approvals_are_in_the_audit_log_without_the_approvers_name(workspace):
    def logged() -> list[str]:
        with sqlite3.connect(workspace.state_path) as db:
            return [row[0] for row in db.execute("SELECT detail FROM audit WHERE action = 'register.approved'")]

    before = len(logged())
    assert Cli(workspace)("register", "approve", "purple-mash", "--by", "Zebedee Quill").exit_code == 0
    details = logged()
    assert len(details) == before + 1 and all("Zebedee" not in d for d in details)
    with sqlite3.connect(workspace.state_path) as db:
        assert db.execute("SELECT approved_by FROM approvals ORDER BY id DESC LIMIT 1").fetchone() == ("Zebedee Quill",)


def test_apply_in_the_core_refuses_unapproved_fields(tmp_path, roster_file):
    workspace = init_workspace(tmp_path / "ws", "Core Primary", "core.sch.uk", [], "A. Admin")
    set_platform(workspace, "purple-mash", enabled="true")
    with pytest.raises(ApprovalNeeded, match="nobody has approved"):
        Provisioner(workspace).apply(roster_file, confirm=yes, today=TODAY)
