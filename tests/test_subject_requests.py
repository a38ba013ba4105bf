"""A parent's requests: what every processor holds about their child (checked against the
files written and the Microsoft 365 stand-in), and erasure from every platform at once."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from conftest import TODAY, Cli, key_of
from m365_helpers import DOMAIN, configure, pupils_in
from provisioner.synthetic import synthetic_pupils, write_roster_csv
from provisioner.jobs.create import init_workspace

PLATFORMS = ["purple-mash", "tt-rockstars", "microsoft-365"]


@pytest.fixture
def school(tmp_path, graph):
    """Twenty pupils provisioned on two file platforms and Microsoft 365 (the stand-in)."""
    workspace = init_workspace(tmp_path / "ws", "Request Primary", "request.sch.uk", PLATFORMS, "A. Admin")
    configure(workspace, graph)
    rows = synthetic_pupils(20, seed=11, today=TODAY)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    cli = Cli(workspace)
    applied = cli("apply", str(roster), "--yes", "--as-of", TODAY.isoformat())
    assert applied.exit_code == 0, applied.output
    return workspace, cli, roster, rows


def outbox_rows(workspace, platform: str) -> list[dict]:
    [path] = (workspace.outbox / platform).glob(f"{platform}-*.csv")
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def show(cli: Cli, pupil: str) -> dict:
    result = cli("pupil", "show", pupil, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_pupil_show_reports_exactly_what_each_platform_received(school, graph):
    workspace, cli, _, rows = school
    # A pupil every platform serves: Times Tables Rock Stars is for Years 1 to 6 by default.
    pupil = next(r for r in rows if r["year_group"].isdigit())["mis_id"]
    report = show(cli, pupil)
    assert report["pupil"] == pupil
    assert set(report["processors"]) == set(PLATFORMS)

    mash = report["processors"]["purple-mash"]["fields"]
    [row] = [r for r in outbox_rows(workspace, "purple-mash") if r["Username"] == mash["username"]]
    assert row["Full Name"] == f"{mash['forename']} {mash['surname']}"
    assert (row["Class"], row["UPN"]) == (mash["class_name"], mash["pseudonymous_id"])

    rockstars = report["processors"]["tt-rockstars"]["fields"]
    [row] = [r for r in outbox_rows(workspace, "tt-rockstars") if rockstars["username"] in r.values()]
    for value in rockstars.values():
        assert value in row.values(), "every value reported is in the file the platform received"

    held = report["processors"]["microsoft-365"]["fields"]
    [user] = [u for u in pupils_in(graph) if u["employeeId"] == held["pseudonymous_id"]]
    assert user["userPrincipalName"] == f"{held['username']}@{DOMAIN}"
    assert (user["givenName"], user["surname"]) == (held["forename"], held["surname"])
    assert set(held) == {"forename", "surname", "pseudonymous_id", "username"}

    for platform in PLATFORMS:
        record = report["processors"][platform]
        assert record["since"] == record["history"][0]["at"][:10]
        assert record["history"][0]["action"] == "create" and record["history"][0]["fields"] == record["fields"]
        assert "password" in record["not_kept"], "a first password was sent but is not kept"
        assert "password" not in record["fields"]
    assert {r["id"] for r in report["other_recipients"]} >= {"dfe", "local-authority", "next-school"}


def test_a_mis_id_finds_the_pupil_with_or_without_its_leading_zeros(school):
    _, cli, _, rows = school
    written = rows[4]["mis_id"]
    assert written.startswith("0")
    assert show(cli, written)["processors"] == show(cli, written.lstrip("0"))["processors"]


def test_pupil_show_as_pdf_is_owner_only_and_holds_the_values(school, tmp_path):
    workspace, cli, _, rows = school
    target = tmp_path / "answer.pdf"
    result = cli("pupil", "show", rows[2]["mis_id"], "--pdf", str(target))
    assert result.exit_code == 0, result.output
    text = "\n".join(page.extract_text() for page in PdfReader(target).pages)
    report = show(cli, rows[2]["mis_id"])
    assert report["processors"]["purple-mash"]["fields"]["username"] in text
    if os.name == "posix":
        assert target.stat().st_mode & 0o077 == 0


def test_an_unknown_pupil_is_a_clear_error(school):
    _, cli, _, _ = school
    result = cli("pupil", "show", "NOBODY-999")
    assert result.exit_code == 2
    assert "no record of pupil NOBODY-999" in result.output and "Traceback" not in result.output


def test_erasure_removes_the_pupil_everywhere_and_they_are_not_sent_again(school, graph):
    workspace, cli, roster, rows = school
    for platform in ("purple-mash", "tt-rockstars"):
        assert cli("confirm", platform, "uploaded").exit_code == 0
    pupil = rows[7]["mis_id"]
    before = show(cli, pupil)["processors"]
    user_id = next(u["id"] for u in pupils_in(graph) if u["employeeId"] == before["microsoft-365"]["fields"]["pseudonymous_id"])

    erased = cli("pupil", "erase", pupil, "--yes", "--json", "--as-of", TODAY.isoformat())
    assert erased.exit_code == 0, erased.output
    result = json.loads(erased.stdout)
    assert result["purged"] is False and result["waiting_for"] == ["purple-mash", "tt-rockstars"]
    assert user_id not in graph.users and user_id not in graph.deleted_users, "deleted for good: not restorable"
    for platform in ("purple-mash", "tt-rockstars"):
        [deletion] = [b for b in result["deletion_lists"] if b["platform"] == platform]
        listed = [row for f in deletion["files"] if f.endswith(".xlsx")
                  for row in load_workbook(f).active.iter_rows(values_only=True)]  # fmt: skip
        assert len(listed) == 2, "the header and this one pupil"
        assert before[platform]["username"] in listed[1]

    # The pupil is still on the roster: apply makes nothing for them, on any platform.
    plan = json.loads(cli("plan", str(roster), "--json", "--as-of", TODAY.isoformat()).stdout)
    assert plan["withheld"] == 1
    assert all(p["create"] == 0 for p in plan["platforms"].values()), plan
    shown = show(cli, pupil)
    assert shown["erasure_requested"] and "microsoft-365" in shown["deleted"]

    for platform in ("purple-mash", "tt-rockstars"):
        [deletion] = [b for b in result["deletion_lists"] if b["platform"] == platform]
        assert cli("confirm", platform, "deleted", "--batch", deletion["batch"]).exit_code == 0
    outbox_before = {p for p in workspace.outbox.rglob("*") if p.is_file()}
    purged = json.loads(cli("purge", "--json", "--as-of", TODAY.isoformat()).stdout)
    assert purged["pupils_purged"] == 1, "an erasure waits for no retention period"
    assert purged["files_kept"] == []
    gone = {workspace.root / p for p in purged["files_removed"]}
    assert gone and gone <= outbox_before and not any(p.exists() for p in gone)
    for platform in ("purple-mash", "tt-rockstars"):  # the import files that named the pupil, and the lists
        assert not list((workspace.outbox / platform).iterdir()), f"{platform}: no file holds the pupil now"

    assert cli("pupil", "show", pupil).exit_code == 0, "the erasure hold is all that is left"
    raw = workspace.state_path.read_bytes()
    for value in (pupil, rows[7]["upn"], before["purple-mash"]["fields"]["username"],
                  before["microsoft-365"]["fields"]["pseudonymous_id"]):  # fmt: skip
        assert value.encode() not in raw
    with sqlite3.connect(workspace.state_path) as db:
        actions = [r[0] for r in db.execute("SELECT action FROM audit ORDER BY seq")]
    assert "pupil.erasure_requested" in actions and "pupil.purged" in actions
    assert cli("status").exit_code == 0, "the audit chain is intact"


def test_erasure_shows_what_it_would_do_and_needs_a_yes(school, graph):
    workspace, cli, _, rows = school
    state_before = workspace.state_path.read_bytes()
    users = len(pupils_in(graph))
    result = cli("pupil", "erase", rows[3]["mis_id"])
    assert result.exit_code == 2 and "--yes" in result.output
    assert "Microsoft 365" in result.output and "deletion list" in result.output
    assert workspace.state_path.read_bytes() == state_before and len(pupils_in(graph)) == users


def test_lifting_an_erasure_lets_apply_make_accounts_again(school):
    workspace, cli, roster, rows = school
    pupil = rows[9]["mis_id"]
    assert cli("pupil", "erase", pupil, "--yes").exit_code == 0
    assert cli("pupil", "allow", pupil).exit_code == 0
    plan = json.loads(cli("plan", str(roster), "--json", "--as-of", TODAY.isoformat()).stdout)
    assert plan["withheld"] == 0
    assert plan["platforms"]["microsoft-365"]["create"] == 1


def test_an_import_not_yet_uploaded_is_named_as_still_holding_the_erased_pupil(school):
    workspace, cli, _, rows = school
    erased = json.loads(cli("pupil", "erase", rows[5]["mis_id"], "--yes", "--json").stdout)
    for deletion in erased["deletion_lists"]:
        assert cli("confirm", deletion["platform"], "deleted", "--batch", deletion["batch"]).exit_code == 0
    purged = cli("purge", "--as-of", TODAY.isoformat())
    assert purged.exit_code == 0
    assert "purple-mash-import-" in purged.output and "take out their row" in purged.output


def small_school(tmp_path, platform: str):
    """Ten pupils and one platform, nothing applied yet."""
    workspace = init_workspace(tmp_path / "ws", "Small Primary", "small.sch.uk", [platform], "A. Admin")
    rows = synthetic_pupils(10, seed=5, today=TODAY)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    return Cli(workspace), roster, rows


def test_a_pupil_never_provisioned_can_be_withheld_before_any_account_is_made(tmp_path):
    cli, roster, rows = small_school(tmp_path, "purple-mash")
    held = cli("pupil", "erase", rows[0]["upn"], "--yes")
    assert held.exit_code == 0, held.output
    assert "no apply will send it" in held.output
    plan = json.loads(cli("plan", str(roster), "--json", "--as-of", TODAY.isoformat()).stdout)
    assert plan["withheld"] == 1 and plan["platforms"]["purple-mash"]["create"] == 9


def test_lgfl_reading_the_mis_gets_a_deletion_list_naming_the_pupil_and_the_mis_record(tmp_path):
    cli, roster, rows = small_school(tmp_path, "lgfl")
    assert cli("apply", str(roster), "--yes", "--as-of", TODAY.isoformat()).exit_code == 0
    result = json.loads(cli("pupil", "erase", rows[1]["mis_id"], "--yes", "--json").stdout)
    assert result["purged"] is False and result["waiting_for"] == ["lgfl"], "not deleted until the admin confirms"
    [deletion] = result["deletion_lists"]
    [xlsx] = [f for f in deletion["files"] if f.endswith(".xlsx")]
    listed = list(load_workbook(xlsx).active.iter_rows(values_only=True))
    name = f"{rows[1]['preferred_forename']} {rows[1]['preferred_surname']}"
    # Named as the roster last gave them, with the MIS id as the school writes it, to find them by.
    assert listed[1][2:] == (f"{name} (MIS record {rows[1]['mis_id']})", rows[1]["class_name"])
    assert any("reads the MIS itself" in note for note in result["notes"])


def test_erasure_waits_for_an_interrupted_apply_to_finish(school):
    workspace, cli, _, rows = school
    with sqlite3.connect(workspace.state_path) as db:  # as an apply killed after recording its intent leaves it
        db.execute("UPDATE accounts SET status = 'pending' WHERE pupil_key = ?", (key_of(rows[6]),))
    before = workspace.state_path.read_bytes()
    result = cli("pupil", "erase", rows[6]["mis_id"], "--yes")
    assert result.exit_code == 2 and "run the same apply again" in result.output
    assert workspace.state_path.read_bytes() == before
