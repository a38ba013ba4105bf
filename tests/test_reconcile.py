"""Reconcile: a platform's own pupil export as proof of deletion. Accounts it still holds are not
counted deleted (and confirm refuses them); accounts it lacks are proved gone, and status and
the register say so; rows the tool did not make and names that differ are reported."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from conftest import Cli, apply, approve_register, key_of, set_platform, yes
from provisioner.facade import Provisioner
from provisioner.reports.content import pages
from provisioner.synthetic import synthetic_pupils, write_roster_csv
from provisioner.workspace import Workspace
from roster_helpers import write_csv, write_xlsx

TERM1, LEFT, CLEANUP, LATER = date(2026, 11, 22), date(2026, 12, 1), date(2027, 1, 5), date(2027, 1, 8)
PLATFORM = "education-city"
HEADER = ["Unique ID", "First Name", "Last Name", "Class Name", "Username", "Password", "Academic Level"]


@pytest.fixture
def school(workspace: Workspace, tmp_path: Path):
    """EducationCity with 40 pupils made in the autumn; three left in December and the January
    cleanup put them on a deletion list."""
    set_platform(workspace, PLATFORM, enabled="true")
    set_platform(workspace, "purple-mash", enabled="false")
    approve_register(workspace)
    rows = synthetic_pupils(40, seed=11, today=TERM1)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    apply(workspace, roster, TERM1)
    leavers = rows[3:6]
    for row in leavers:
        row["leaving_date"] = LEFT
    write_roster_csv(roster, rows)
    result = Provisioner(workspace).apply_leavers(roster, confirm=yes, today=CLEANUP)
    [deletion_list] = result.deletion_lists
    assert deletion_list.rows == 3
    return workspace, rows, leavers


def accounts(workspace: Workspace) -> dict:
    with workspace.open_state() as state:
        return state.accounts(PLATFORM)


def export_rows(workspace: Workspace, leave_out: list[dict] = ()) -> list[list]:
    """EducationCity's export as the platform would give it: every account the tool made there,
    but those of the pupils left out (deleted on the platform)."""
    gone = {key_of(row) for row in leave_out}
    return [[a.sent["pseudonymous_id"], a.sent["forename"], a.sent["surname"], a.sent["class_name"], a.username, "",
             a.sent["year_group"]] for key, a in sorted(accounts(workspace).items()) if key not in gone]  # fmt: skip


def status_of(workspace: Workspace, row: dict) -> str:
    return accounts(workspace)[key_of(row)].status


def test_an_export_still_holding_two_leavers_reports_them_and_confirm_refuses(school, tmp_path):
    workspace, _rows, leavers = school
    # The admin deleted one of the three; two are still on EducationCity.
    export = write_csv(tmp_path / "ec-export.csv", export_rows(workspace, leave_out=leavers[:1]), header=HEADER)
    result = Provisioner(workspace).reconcile(PLATFORM, export, LATER)
    assert sorted(f.pupil_key for f in result.still_present) == sorted(key_of(r) for r in leavers[1:])
    assert result.proved == 1 and not result.unknown and not result.differences and not result.missing
    assert status_of(workspace, leavers[0]) == "deleted", "the export proves the first one gone"
    assert [status_of(workspace, r) for r in leavers[1:]] == ["deletion_requested"] * 2, "not counted deleted"

    shown = " ".join(Cli(workspace)("status", "--as-of", LATER.isoformat()).output.split())
    assert "1 deletion(s) proved by the platform's export of 2027-01-08" in shown
    assert "2 awaiting deletion still in the platform's export" in shown

    refused = Cli(workspace)("confirm", PLATFORM, "deleted")
    assert refused.exit_code == 6
    said = " ".join(refused.output.split())
    assert "2 account(s)" in said and "provisioner reconcile education-city FILE" in said
    assert [status_of(workspace, r) for r in leavers[1:]] == ["deletion_requested"] * 2

    # The admin deletes them after that export and says so.
    done = Cli(workspace)("confirm", PLATFORM, "deleted", "--deleted-since-export")
    assert done.exit_code == 0, done.output
    assert [status_of(workspace, r) for r in leavers[1:]] == ["deleted"] * 2
    with workspace.open_state() as state:
        proofs = state.deletion_proofs(PLATFORM)
    assert (proofs.proved_by_export, proofs.confirmed_by_admin, proofs.last_export) == (1, 2, LATER.isoformat())


def test_an_export_without_the_leavers_proves_their_deletion_in_status_and_the_register(school, tmp_path):
    workspace, _rows, leavers = school
    export = write_csv(tmp_path / "ec-export.csv", export_rows(workspace, leave_out=leavers), header=HEADER)
    answer = Cli(workspace)("reconcile", PLATFORM, str(export), "--as-of", LATER.isoformat())
    assert answer.exit_code == 0, answer.output
    said = " ".join(answer.output.split())
    assert "3 deletion(s) proved by EducationCity's export of 2027-01-08" in said
    assert all(status_of(workspace, r) == "deleted" for r in leavers)
    with workspace.open_state() as state:
        assert not [b for b in state.batches(PLATFORM) if b.kind == "deletion" and b.status == "issued"], \
            "the deletion list is carried out: nothing is left to confirm"  # fmt: skip
        events = [json.loads(d) for a, d in state.db.execute("SELECT action, detail FROM audit") if a == "account.delete"]
    assert events and all(e == {"proved_by": "export", "export_date": "2027-01-08"} for e in events)

    status = json.loads(Cli(workspace)("status", "--json", "--as-of", LATER.isoformat()).output)
    assert status["platforms"][PLATFORM]["deletions"]["proved_by_export"] == 3
    shown = " ".join(Cli(workspace)("status", "--as-of", LATER.isoformat()).output.split())
    assert "3 deletion(s) proved by the platform's export of 2027-01-08" in shown

    report = Provisioner(workspace).pupil_report(leavers[0]["mis_id"], LATER)
    assert report["deleted"][PLATFORM]["deletion_proof"] == \
        "the platform's own list of pupils of 2027-01-08 no longer held the account"  # fmt: skip
    Provisioner(workspace).write_pupil_report_pdf(report, tmp_path / "access.pdf")
    assert (tmp_path / "access.pdf").read_bytes().startswith(b"%PDF")

    register = Provisioner(workspace).register(LATER)
    [page] = [p for p in pages(register) if p.title == "EducationCity"]
    evidence = {row[0].text: row[1].text for block in page.blocks if block.title == "Live evidence" for row in block.rows}
    assert evidence["How deletions are known"] == "3 proved by the platform's export of 8 January 2027 (no longer in it)"


def test_a_row_the_tool_did_not_make_and_a_changed_name_are_reported(school, tmp_path):
    workspace, rows, leavers = school
    listed = export_rows(workspace, leave_out=leavers)
    renamed = next(r for r in listed if r[4] == accounts(workspace)[key_of(rows[10])].username)
    renamed[2] = "Featherstonehaugh"
    listed.append(["", "Zephyrine", "Quillfeather", "4B", "ZephyrineQ", "", "4"])
    export = write_csv(tmp_path / "ec-export.csv", listed, header=HEADER)
    answer = Cli(workspace)("reconcile", PLATFORM, str(export), "--as-of", LATER.isoformat(), "--json")
    assert answer.exit_code == 0, answer.output
    report = json.loads(answer.stdout)
    assert [u["username"] for u in report["unknown"]] == ["ZephyrineQ"]
    [difference] = report["differences"]
    assert difference["pupil"] == key_of(rows[10])
    assert difference["changes"] == {"surname": {"sent": rows[10]["preferred_surname"] or rows[10]["legal_surname"],
                                                 "export": "Featherstonehaugh"}}  # fmt: skip
    assert report["still_present"] == [] and report["missing"] == [] and report["proved"] == 3
    assert report["counts"]["unknown"] == 1 and report["counts"]["differences"] == 1
    shown = " ".join(Cli(workspace)("reconcile", PLATFORM, str(export), "--as-of", LATER.isoformat()).output.split())
    assert "Zephyrine Quillfeather (4B), username ZephyrineQ" in shown and "Featherstonehaugh" in shown


def test_an_xlsx_export_with_a_title_row_works(school, tmp_path):
    workspace, _rows, leavers = school
    export = write_xlsx(tmp_path / "ec-export.xlsx", export_rows(workspace, leave_out=leavers[:2]), header=HEADER,
                        title_rows=[["EducationCity pupil export"]])  # fmt: skip
    result = Provisioner(workspace).reconcile(PLATFORM, export, LATER)
    assert [f.pupil_key for f in result.still_present] == [key_of(leavers[2])]
    assert result.proved == 2 and not result.unknown and not result.missing


def test_odd_headers_are_named_with_export_columns(school, tmp_path):
    workspace, _rows, leavers = school
    odd = ["Learner Ref", "Given", "Family", "Teaching Set", "Sign-in", "Secret", "Level"]
    export = write_csv(tmp_path / "ec-export.csv", export_rows(workspace, leave_out=leavers), header=odd)
    refused = Cli(workspace)("reconcile", PLATFORM, str(export), "--json")
    assert refused.exit_code == 3
    error = json.loads(refused.stdout)["error"]
    assert "no header row" in error["message"] and "export_columns" in error["hint"]
    set_platform(workspace, PLATFORM, export_columns='{ username = "Sign-in", forename = "Given", surname = "Family", '
                 'class_name = "Teaching Set", pseudonymous_id = "Learner Ref" }')  # fmt: skip
    result = Provisioner(workspace).reconcile(PLATFORM, export, LATER)
    assert result.proved == 3 and not result.unknown and not result.differences and not result.missing
    assert result.columns["username"] == "Sign-in"


def test_rows_match_by_id_then_by_a_unique_name_and_class(school, tmp_path):
    workspace, rows, leavers = school
    listed = export_rows(workspace, leave_out=leavers)
    for row in listed[:5]:
        row[4] = ""  # no username: matched by the Unique ID
    for row in listed[5:10]:
        row[0], row[4] = "", ""  # neither: by name and class
    export = write_csv(tmp_path / "ec-export.csv", listed, header=HEADER)
    result = Provisioner(workspace).reconcile(PLATFORM, export, LATER)
    assert not result.unknown and not result.missing and result.proved == 3


def test_a_wrong_or_partial_export_proves_nothing(school, tmp_path):
    workspace, _rows, leavers = school
    one_class = [r for r in export_rows(workspace, leave_out=leavers)][:4]
    export = write_csv(tmp_path / "ec-export.csv", one_class, header=HEADER)
    answer = Cli(workspace)("reconcile", PLATFORM, str(export), "--json")
    assert answer.exit_code == 6
    report = json.loads(answer.stdout)
    assert "cannot prove the others' deletion" in report["proof_withheld"] and report["proved"] == 0
    assert report["counts"]["missing"] == 37 - 4, "40 pupils, 3 leavers, 4 in the export"
    shown = Cli(workspace)("reconcile", PLATFORM, str(export))
    assert shown.exit_code == 6 and "no deletion was recorded" in " ".join(shown.output.split())
    assert all(status_of(workspace, r) == "deletion_requested" for r in leavers)


def test_json_errors_unknown_platform_and_unreadable_file(school, tmp_path):
    workspace, _rows, _leavers = school
    unknown = Cli(workspace)("reconcile", "no-such-platform", str(tmp_path / "x.csv"), "--json")
    assert unknown.exit_code == 2 and "not a platform" in json.loads(unknown.stdout)["error"]["message"]
    missing = Cli(workspace)("reconcile", PLATFORM, str(tmp_path / "absent.csv"), "--json")
    assert missing.exit_code == 3 and "not found" in json.loads(missing.stdout)["error"]["message"]
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(b"PK\x03\x04 not really a workbook")
    broken = Cli(workspace)("reconcile", PLATFORM, str(damaged))
    assert broken.exit_code == 3 and "Traceback" not in broken.output and "Error:" in broken.output
    no_file = Cli(workspace)("reconcile", PLATFORM, "--json")
    assert no_file.exit_code == 2 and json.loads(no_file.stdout)["error"]["hint"]


def test_the_proof_is_forgotten_with_the_pupil(school, tmp_path):
    workspace, _rows, leavers = school
    export = write_csv(tmp_path / "ec-export.csv", export_rows(workspace, leave_out=leavers), header=HEADER)
    Provisioner(workspace).reconcile(PLATFORM, export, LATER)
    Provisioner(workspace).purge(date(2028, 12, 1))
    with workspace.open_state() as state:
        assert all(key_of(r) not in state.accounts(PLATFORM) for r in leavers)
        assert state.deletion_proofs(PLATFORM).proved_by_export == 0


def test_a_confirmed_deletion_the_export_still_holds_is_shown_as_such(school, tmp_path):
    workspace, _rows, leavers = school
    assert Cli(workspace)("confirm", PLATFORM, "deleted").exit_code == 0
    export = write_csv(tmp_path / "ec-export.csv", export_rows(workspace, leave_out=leavers[1:]), header=HEADER)
    result = Provisioner(workspace).reconcile(PLATFORM, export, LATER)
    assert [f.pupil_key for f in result.still_present] == [key_of(leavers[0])]
    with workspace.open_state() as state:
        proofs = state.deletion_proofs(PLATFORM)
    assert (proofs.proved_by_export, proofs.confirmed_by_admin, proofs.still_in_export) == (2, 0, 1)


def test_microsoft_365_is_reconciled_from_the_tenant_without_a_file(m365, graph, tmp_path):
    from m365_helpers import DOMAIN, pupils_in

    approve_register(m365)
    rows = synthetic_pupils(20, seed=5, today=TERM1)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    apply(m365, roster, TERM1)
    leaver = rows[4]
    leaver["leaving_date"] = LEFT
    write_roster_csv(roster, rows)
    Provisioner(m365).apply_leavers(roster, confirm=yes, today=date(2027, 2, 15))
    with m365.open_state() as state:
        assert state.accounts("microsoft-365")[key_of(leaver)].status == "deleted"
    graph.add_user(userPrincipalName=f"oldpupil@{DOMAIN}", employeeId="A" * 16, givenName="Old", surname="Pupil")
    graph.add_user(userPrincipalName="head@staff.graph.sch.uk", employeeId="T001", givenName="Ada", surname="Head")

    graph.reset_counters()
    answer = Cli(m365)("reconcile", "microsoft-365", "--json", "--as-of", "2027-02-16")
    assert answer.exit_code == 0, answer.output
    reads = [r.path for r in graph.request_log if r.method == "GET" and r.path.startswith("/v1.0/")]
    assert reads == ["/v1.0/users"], "the tenant's users listed once, nothing else read"
    report = json.loads(answer.stdout)
    assert [u["username"] for u in report["unknown"]] == [f"oldpupil@{DOMAIN}"], "staff elsewhere are not listed"
    assert report["still_present"] == [] and report["missing"] == [] and report["differences"] == []
    assert report["proved"] == 1
    assert report["counts"]["rows"] == 19 + 1 == len(pupils_in(graph)) - 1, "the pupils' domain only, not the staff's"
    status = json.loads(Cli(m365)("status", "--json", "--as-of", "2027-02-16").stdout)
    assert status["platforms"]["microsoft-365"]["deletions"]["proved_by_export"] == 1


def test_ixl_usernames_match_with_or_without_the_school_code(workspace, tmp_path):
    set_platform(workspace, "ixl", enabled="true", school_code='"westdale"')
    set_platform(workspace, "purple-mash", enabled="false")
    approve_register(workspace)
    rows = synthetic_pupils(12, seed=3, today=TERM1)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    apply(workspace, roster, TERM1)
    with workspace.open_state() as state:
        held = sorted(state.accounts("ixl").values(), key=lambda a: a.username)
    # IXL writes the whole name in one export and the bare one in another; case differs too.
    listed = [[a.sent["forename"], a.sent["surname"], a.sent["class_name"],
               f"{a.username}@westdale".upper() if i % 2 else a.username] for i, a in enumerate(held)]  # fmt: skip
    listed[1][1] = "Renamedby-Hand"  # a whole name@code username, its surname changed on IXL
    export = write_csv(tmp_path / "ixl.csv", listed, header=["First name", "Last name", "Class", "Username"])
    result = Provisioner(workspace).reconcile("ixl", export, LATER)
    assert not result.unknown and not result.missing
    [changed] = result.differences
    assert (changed.username, changed.matched_by) == (held[1].username, "username")
