"""A file platform fed by a data broker (provisioning = "broker"): the broker (Wonde, Groupcall)
makes the accounts from the MIS, so this tool writes no file and no slips, yet records which
pupils and fields the platform holds, says so in the register, and tracks leavers, whose
accounts the platform may keep after the broker stops sending them."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from conftest import TODAY, Cli, approve_register, key_of, set_platform, yes
from provisioner.connector import ImportFileConnector, registry
from provisioner.facade import Provisioner
from provisioner.jobs.create import init_workspace
from provisioner.synthetic import synthetic_pupils, write_roster_csv
from provisioner.workspace import Workspace

WONDE_FIELDS = {"forename", "surname", "class_name"}  # Purple Mash's import fields a broker can send
FILE_PLATFORMS = sorted(p for p, cls in registry().items() if issubclass(cls, ImportFileConnector))


@pytest.fixture
def wonde(workspace: Workspace) -> Workspace:
    """A school whose Purple Mash is fed by Wonde, the register approved for it."""
    set_platform(workspace, "purple-mash", provisioning='"broker"', broker='"Wonde"')
    approve_register(workspace)
    return workspace


def on_roll(rows: list[dict], today: date = TODAY) -> list[dict]:
    return [r for r in rows if not (r.get("leaving_date") and r["leaving_date"] <= today)]


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def pdf_words(path: Path) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


def test_apply_writes_nothing_and_records_the_pupils_and_fields_wonde_sends(wonde, roster_file, pupils):
    cli = Cli(wonde)
    planned = cli("plan", str(roster_file), "--as-of", TODAY.isoformat())
    assert planned.exit_code == 0, planned.output
    assert "Purple Mash: sent by Wonde: recorded, nothing sent" in " ".join(planned.output.split())
    done = cli("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat(), "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["batches"] == [] and report["recorded"] == {"purple-mash": len(on_roll(pupils))}
    assert report["platforms"]["purple-mash"]["sent_by"] == "Wonde"
    assert files_in(wonde.outbox) == [], "no import file, no login slips"
    with wonde.open_state() as state:
        held = state.accounts("purple-mash")
    assert set(held) == {key_of(r) for r in on_roll(pupils)}
    assert all(set(a.sent) == WONDE_FIELDS and set(a.sent.values()) == {""} for a in held.values()), \
        "which fields, never their values"  # fmt: skip
    assert all(a.username == "" for a in held.values()), "the platform makes its own usernames"
    db = sqlite3.connect(wonde.state_path)
    vias = {json.loads(d)["via"] for (d,) in db.execute("SELECT detail FROM audit WHERE action = 'account.create'")}
    db.close()
    assert vias == {"Wonde"}
    again = cli("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat(), "--json")
    assert json.loads(again.stdout)["recorded"] == {}, "nothing new to record"


def test_the_register_says_wonde_makes_the_accounts(wonde, roster_file, tmp_path):
    Provisioner(wonde).apply(roster_file, confirm=yes, today=TODAY)
    register = Provisioner(wonde).register(today=TODAY)
    [purple_mash] = [p for p in register.processors if p.id == "purple-mash"]
    assert purple_mash.accounts_made_by == ("Wonde (a data broker reading the MIS); this tool records which pupils "
                                            "and fields")  # fmt: skip
    assert purple_mash.fields == sorted(WONDE_FIELDS, key=["forename", "surname", "class_name"].index)
    assert set(purple_mash.evidence.fields_held) == WONDE_FIELDS, "held, though no value was kept"
    markdown, _ = Provisioner(wonde).export_register("md", out=tmp_path / "register.md", today=TODAY)
    text = " ".join(markdown.read_text(encoding="utf-8").split())
    assert "Accounts made by: Wonde (a data broker reading the MIS)" in text
    assert "this tool makes" not in text
    workbook, _ = Provisioner(wonde).export_register("xlsx", out=tmp_path / "register.xlsx", today=TODAY)
    sheet = load_workbook(workbook)["Governors"]
    header = [c.value for c in sheet[1]]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["Purple Mash"][header.index("Accounts made by")].startswith("Wonde (a data broker")
    notice, _ = Provisioner(wonde).export_register("notice", out=tmp_path / "notice.md", today=TODAY)
    said = " ".join(notice.read_text(encoding="utf-8").split())
    assert "How it gets it: Wonde reads our records system" in said
    assert "Wonde stops sending their details, and we make sure Purple Mash has deleted the account" in said


def test_a_leaver_goes_on_a_list_to_check_and_confirm_records_the_deletion(wonde, tmp_path):
    rows = synthetic_pupils(40, seed=3, today=TODAY, leavers=0)
    path = tmp_path / "roster.csv"
    write_roster_csv(path, rows)
    Provisioner(wonde).apply(path, confirm=yes, today=TODAY)
    leaver = rows[4]
    leaver["leaving_date"] = TODAY + timedelta(days=1)
    write_roster_csv(path, rows)
    cli = Cli(wonde)
    later = TODAY + timedelta(days=40)  # past Purple Mash's 30 days
    planned = cli("leavers", "plan", str(path), "--as-of", later.isoformat())
    assert planned.exit_code == 0, planned.output
    shown = " ".join(planned.output.split())
    assert "Wonde stops sending leavers, but Purple Mash may keep their accounts" in shown
    result = Provisioner(wonde).apply_leavers(path, confirm=yes, today=later)
    [check_list] = result.deletion_lists
    assert check_list.rows == 1 and result.done["purple-mash"] == {"deletion_requested": 1}
    text = pdf_words(check_list.slips[0])
    assert "Wonde no longer sends these pupils, but Purple Mash may keep their accounts" in text
    assert "check on Purple Mash that each account was removed or archived, and delete it if not" in text
    due = later + timedelta(days=wonde.settings.leavers.confirm_within_days)
    assert f"Do this by {due.isoformat()}" in text
    sheet = load_workbook(check_list.slips[1]).active
    [row] = list(sheet.iter_rows(min_row=2, values_only=True))
    assert row[2] == f"{leaver['preferred_forename']} {leaver['preferred_surname']}", \
        "the admin finds the pupil by name: the tool kept none of the broker's values"  # fmt: skip
    late = json.loads(cli("status", "--json", "--as-of", (due + timedelta(days=1)).isoformat()).stdout)
    assert late["platforms"]["purple-mash"]["overdue"]["unconfirmed_deletion_lists"] == 1
    assert late["platforms"]["purple-mash"]["sent_by"] == "Wonde"
    confirmed = cli("confirm", "purple-mash", "deleted")
    assert confirmed.exit_code == 0, confirmed.output
    with wonde.open_state() as state:
        assert state.accounts("purple-mash")[key_of(leaver)].status == "deleted"
    after = json.loads(cli("status", "--json", "--as-of", (due + timedelta(days=1)).isoformat()).stdout)
    assert after["platforms"]["purple-mash"]["overdue"]["unconfirmed_deletion_lists"] == 0


def test_a_broker_mode_without_the_brokers_name_is_a_clear_settings_error(workspace, roster_file):
    cli = Cli(workspace)
    set_platform(workspace, "purple-mash", provisioning='"broker"')
    result = cli("plan", str(roster_file), "--as-of", TODAY.isoformat(), "--json")
    assert result.exit_code == 2
    said = json.loads(result.stdout)["error"]["message"]
    assert "platforms.purple-mash" in said and 'provisioning = "broker" needs broker' in said
    assert "Traceback" not in result.output
    set_platform(workspace, "purple-mash", provisioning='"file"', broker='"Wonde"')
    named = cli("plan", str(roster_file), "--as-of", TODAY.isoformat())
    assert named.exit_code == 2
    assert 'broker is read only with provisioning = "broker"' in " ".join(named.output.split()), \
        "a broker named without the mode would leave the import going on"  # fmt: skip


def test_broker_fields_name_what_the_broker_sends(workspace, roster_file):
    set_platform(workspace, "purple-mash", provisioning='"broker"', broker='"Groupcall Xporter on Demand"',
                 broker_fields='["forename", "surname", "upn"]')  # fmt: skip
    approve_register(workspace)
    [purple_mash] = workspace.connectors(["purple-mash"])
    assert purple_mash.sent_fields == ("forename", "surname", "upn")
    set_platform(workspace, "purple-mash", broker_fields='["forename", "password"]')
    result = Cli(workspace)("plan", str(roster_file), "--as-of", TODAY.isoformat())
    assert result.exit_code == 2 and "'password' is made by this tool or the platform" in result.output


def test_password_resets_are_refused_for_a_broker_platform(wonde, roster_file):
    cli = Cli(wonde)
    assert cli("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat()).exit_code == 0
    result = cli("reset-passwords", "purple-mash", str(roster_file), "--class", "1A")
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "Purple Mash's accounts are made from the MIS by Wonde, not by this tool" in said
    with wonde.open_state() as state:
        assert state.password_resets("purple-mash") == set()


def test_lgfl_autoupdate_keeps_its_own_leaver_removal_and_never_says_this_tool_makes_its_accounts(tmp_path):
    workspace = init_workspace(tmp_path / "lgfl", "USO Primary", "uso.sch.uk", ["lgfl"])
    rows = synthetic_pupils(30, seed=9, today=TODAY, leavers=0)
    path = tmp_path / "roster.csv"
    write_roster_csv(path, rows)
    Provisioner(workspace).apply(path, confirm=yes, today=TODAY)
    db = sqlite3.connect(workspace.state_path)
    vias = {json.loads(d)["via"] for (d,) in db.execute("SELECT detail FROM audit WHERE action = 'account.create'")}
    db.close()
    assert vias == {"LGfL USO-AutoUpdate"}
    rows[2]["leaving_date"] = TODAY + timedelta(days=1)
    write_roster_csv(path, rows)
    result = Provisioner(workspace).apply_leavers(path, confirm=yes, today=TODAY + timedelta(days=400))
    assert result.deletion_lists == [] and result.done["lgfl"] == {"delete": 1}, "AutoUpdate removes leavers itself"
    register = Provisioner(workspace).register(today=TODAY)
    [lgfl] = [p for p in register.processors if p.id == "lgfl"]
    assert lgfl.accounts_made_by.startswith("LGfL USO-AutoUpdate (LGfL's own service reading the MIS)")
    for fmt in ("md", "html"):
        exported, _ = Provisioner(workspace).export_register(fmt, out=tmp_path / f"register.{fmt}", today=TODAY)
        text = " ".join(exported.read_text(encoding="utf-8").split())
        assert "LGfL USO-AutoUpdate" in text
        assert "made by: this tool" not in text.lower() and "this tool makes" not in text


def test_lgfl_bulk_file_and_file_both_write_the_bulk_file(tmp_path, roster_file):
    for value in ("bulk-file", "file"):
        workspace = init_workspace(tmp_path / value, "USO Primary", "uso.sch.uk", ["lgfl"])
        set_platform(workspace, "lgfl", provisioning=f'"{value}"')
        approve_register(workspace)
        result = Provisioner(workspace).apply(roster_file, confirm=yes, today=TODAY)
        [batch] = result.batches
        assert batch.path.is_file() and batch.slips, value


def test_a_new_settings_file_shows_the_broker_option_for_each_file_platform(tmp_path):
    workspace = init_workspace(tmp_path / "new", "New Primary", "new.sch.uk", ["purple-mash"])
    text = workspace.settings_path.read_text(encoding="utf-8")
    sections = {chunk.split("]", 1)[0]: chunk for chunk in text.split("\n[platforms.")[1:]}
    for platform, cls in registry().items():
        offered = 'provisioning = "broker"' in sections[platform]
        assert offered == issubclass(cls, ImportFileConnector), platform
    assert '# broker = "Wonde"' in sections["purple-mash"]
    assert '# broker_fields = ["forename", "surname", "class_name"]' in sections["purple-mash"]


@pytest.mark.parametrize("platform", FILE_PLATFORMS)
def test_every_file_platform_can_be_fed_by_a_broker(tmp_path, platform):
    workspace = init_workspace(tmp_path / platform, "Broker Primary", "broker.sch.uk", [platform])
    set_platform(workspace, platform, provisioning='"broker"', broker='"Groupcall Xporter on Demand"')
    approve_register(workspace)
    rows = synthetic_pupils(20, seed=11, today=TODAY, leavers=0)
    path = tmp_path / "roster.csv"
    write_roster_csv(path, rows)
    [connector] = workspace.connectors([platform])
    assert not {"username", "password", "pseudonymous_id"} & set(connector.sent_fields)
    result = Provisioner(workspace).apply(path, confirm=yes, today=TODAY)
    assert result.batches == [] and files_in(workspace.outbox) == []
    assert result.recorded == {platform: len(result.plan.platforms[platform].to_send)} and result.recorded[platform]
