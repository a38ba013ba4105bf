"""All six file platforms at once: the right file for each, nothing undeclared in any output,
slips that match the files, and confirm moving batches from issued to uploaded."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import stat
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from conftest import TODAY, Cli, approve_register, set_platform, yes
from provisioner.delivery import ApplyResult, IssuedBatch
from provisioner.facade import Provisioner
from provisioner.files import FORMULA_TRIGGERS
from provisioner.synthetic import synthetic_pupils, write_roster_csv
from provisioner.jobs.create import init_workspace
from provisioner.workspace import Workspace

FILE_PLATFORMS = ("bug-club", "education-city", "ixl", "lgfl", "purple-mash", "tt-rockstars")
DOCUMENTED_HEADERS = {  # reference/platforms.md: the headers each platform's own template uses
    "purple-mash": ["Full Name", "Class", "UPN", "Username", "Password"],
    "tt-rockstars": ["First name", "Last name", "Class", "Year group", "Username", "Password"],
    "bug-club": ["First name", "Last name", "Date of birth", "Username", "Password"],
    # platforms-checked.md §1.5: the headers of EducationCity's own pupil export (second-hand)
    "education-city": ["Unique ID", "First Name", "Last Name", "Class Name", "Username", "Password", "Academic Level"],
}
IXL_CODE = "six-primary"
# A name that starts a formula is refused when the roster is read (tests/test_roster_names.py);
# a class may start one (it is only warned about), so the class column carries these.
FORMULA_VALUES = ("=1+2", "+44 Evil", "@SUM(A1)", "-2+3")


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def read_xlsx(path: Path) -> list[list[str]]:
    sheet = load_workbook(path).active
    return [[cell.value or "" for cell in row] for row in sheet.iter_rows()]


def read_table(path: Path) -> list[list[str]]:
    """An import file's rows: a CSV, or the xlsx a platform's admin copies rows from (Bug Club)."""
    return read_xlsx(path) if path.suffix == ".xlsx" else read_csv(path)


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    """One apply of a 400-pupil roster with every file platform on (LGfL by bulk file)."""
    root = tmp_path_factory.mktemp("six")
    workspace = init_workspace(root / "ws", "Six Platforms Primary", "six.sch.uk", list(FILE_PLATFORMS))
    set_platform(workspace, "lgfl", provisioning='"bulk-file"')
    set_platform(workspace, "ixl", school_code=f'"{IXL_CODE}"')
    approve_register(workspace)
    rows = synthetic_pupils(400, seed=3, today=TODAY)
    # In Years 1 to 6, so that every platform (Times Tables Rock Stars included) gets the values.
    for row, value in zip([r for r in rows if r["year_group"].isdigit()][::83], FORMULA_VALUES, strict=True):
        row["class_name"] = value
    roster_path = root / "roster.csv"
    write_roster_csv(roster_path, rows)
    result = Provisioner(workspace).apply(roster_path, confirm=yes, today=TODAY)
    return workspace, rows, roster_path, result


def served(workspace: Workspace, platform: str, rows: list[dict]) -> list[dict]:
    """The roster rows a platform serves (its scope: the register entry's default unless the
    settings change it), in roster order."""
    scope = workspace.connector(platform).scope
    return [r for r in rows if scope.includes(r["year_group"], r["class_name"])]


def batch_of(result: ApplyResult, platform: str) -> IssuedBatch:
    [batch] = [b for b in result.batches if b.platform == platform]
    return batch


@pytest.fixture(scope="module")
def outputs(school) -> dict[Path, list[str]]:
    return every_output(school[0])


def every_output(workspace: Workspace) -> dict[Path, list[str]]:
    """Every cell (or, for a PDF, every line of text) of every file the apply wrote."""
    found = {}
    for path in workspace.outbox.rglob("*"):
        if path.suffix == ".csv":
            found[path] = [cell for row in read_csv(path) for cell in row]
        elif path.suffix == ".xlsx":
            found[path] = [str(cell) for row in read_xlsx(path) for cell in row]
        elif path.suffix == ".pdf":
            found[path] = pdf_text(path).splitlines()
    return found


def test_each_platform_gets_its_file_with_the_documented_headers(school):
    workspace, rows, _, result = school
    assert {b.platform for b in result.batches} == set(FILE_PLATFORMS)
    batch_ids = {b.batch_id for b in result.batches}
    assert len(batch_ids) == 1 and next(iter(batch_ids)).startswith("20261122-")
    for batch in result.batches:
        assert batch.path.parent == workspace.outbox / batch.platform
        assert batch.batch_id in batch.path.name
        table = read_table(batch.path)
        assert len(table) == 1 + len(served(workspace, batch.platform, rows)), f"{batch.platform}: a row per pupil"
        if batch.platform in DOCUMENTED_HEADERS:
            assert table[0] == DOCUMENTED_HEADERS[batch.platform]
        assert table[0][-2:] == ["Username", "Password"] or batch.platform in ("purple-mash", "education-city")


def test_values_are_in_the_platforms_form(school):
    workspace, rows, _, result = school
    bug_club = read_table(batch_of(result, "bug-club").path)[1:]
    for row, (first, last, born, username, password) in zip(served(workspace, "bug-club", rows), bug_club, strict=True):
        assert (first.removeprefix("'"), last) == (row["preferred_forename"], row["preferred_surname"])
        assert born == row["date_of_birth"].strftime("%d/%m/%Y")
        assert username and len(password) >= 5
    ttrs = read_table(batch_of(result, "tt-rockstars").path)[1:]
    for row, ttrs_row in zip(served(workspace, "tt-rockstars", rows), ttrs, strict=True):
        assert [ttrs_row[2].removeprefix("'"), ttrs_row[3]] == [row["class_name"], row["year_group"]]


def test_no_upn_anywhere_and_the_date_of_birth_only_in_bug_clubs_file(school, outputs):
    workspace, rows, _, result = school
    assert len(outputs) == 6 + 2, "an import file per platform, and one set of login cards (PDF and xlsx)"
    bug_club_file = batch_of(result, "bug-club").path
    upns = {r["upn"] for r in rows}
    births = {r["date_of_birth"].strftime(form) for r in rows for form in ("%d/%m/%Y", "%Y-%m-%d")}
    for path, cells in outputs.items():
        text = "\n".join(cells)
        assert not any(upn in text for upn in upns), f"a UPN in {path.name}"
        if path != bug_club_file:
            assert not any(born in text for born in births), f"a date of birth in {path.name}"
    assert any(r["date_of_birth"].strftime("%d/%m/%Y") in outputs[bug_club_file] for r in rows)


def test_a_value_that_starts_a_formula_cannot_run_in_any_output(school, outputs):
    workspace, *_ = school
    for path, cells in outputs.items():
        if path.suffix == ".csv":
            assert not [c for c in cells if c.startswith(FORMULA_TRIGGERS)], path.name
    for path in workspace.outbox.rglob("*.xlsx"):
        for row in load_workbook(path).active.iter_rows():
            assert all(cell.data_type != "f" for cell in row), path.name
    ttrs = read_table(next((workspace.outbox / "tt-rockstars").glob("*import*.csv")))
    assert {r[2] for r in ttrs} >= {"'" + value for value in FORMULA_VALUES}, "shown as text, not dropped"


def test_slips_match_the_import_file(school, outputs):
    """One set of combined cards for the apply: each platform's rows on it are its file's
    usernames and passwords, no more, no fewer."""
    workspace, rows, _, result = school
    [cards] = {tuple(batch.slips) for batch in result.batches}
    pdf, xlsx = cards
    assert pdf == workspace.outbox / f"login-slips-{result.batches[0].batch_id}.pdf" and xlsx.suffix == ".xlsx"
    sheet = read_xlsx(xlsx)
    columns = sheet[0]
    names = {workspace.connector(batch.platform).name: batch for batch in result.batches}
    assert {r[columns.index("Platform")] for r in sheet[1:]} == set(names)
    text = "\n".join(outputs[pdf])
    for name, batch in names.items():
        table = read_table(batch.path)
        header = table[0]
        issued = {r[header.index("Username")]: r[header.index("Password")] for r in table[1:]}
        on_slips = {r[columns.index("Username")]: r[columns.index("Password")] for r in sheet[1:]
                    if r[columns.index("Platform")] == name}  # fmt: skip
        assert on_slips == issued, f"{batch.platform}: slips and import file agree"
        for username, password in list(issued.items())[::37]:
            assert username in text and password in text


def test_passwords_are_never_stored(school):
    workspace, _, _, result = school
    table = read_table(batch_of(result, "ixl").path)
    passwords = [r[-1] for r in table[1:]]
    raw = workspace.state_path.read_bytes()
    assert not [p for p in passwords if p.encode() in raw]


def test_output_files_are_owner_only(school):
    workspace, *_ = school
    if os.name != "posix":
        pytest.skip("owner-only modes are a POSIX check")
    for path in workspace.outbox.rglob("*"):
        mode = path.stat().st_mode
        assert not mode & (stat.S_IRWXG | stat.S_IRWXO), path.name


def test_a_second_apply_issues_nothing_and_confirm_moves_batches_to_uploaded(school):
    workspace, _, roster_path, result = school
    again = Provisioner(workspace).apply(roster_path, confirm=yes, today=TODAY)
    assert again.batches == []
    cli = Cli(workspace)
    report = json.loads(cli("status", "--json").stdout)
    assert {p for p, info in report["platforms"].items() if info["awaiting_upload"]} == set(FILE_PLATFORMS)
    for platform in FILE_PLATFORMS:
        done = cli("confirm", platform, "uploaded")
        assert done.exit_code == 0, done.output
        assert "uploaded" in done.stdout
    report = json.loads(cli("status", "--json").stdout)
    assert all(not info["awaiting_upload"] for info in report["platforms"].values())
    db = sqlite3.connect(workspace.state_path)
    statuses = {s for (s,) in db.execute("SELECT status FROM batches")}
    db.close()
    assert statuses == {"uploaded"}
    twice = cli("confirm", "ixl", "uploaded", "--batch", result.batches[0].batch_id)
    assert twice.exit_code == 0 and "already" in twice.stdout


def test_confirm_needs_the_batch_when_several_await(workspace, roster_file, tmp_path, pupils):
    cli = Cli(workspace)
    assert cli("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat()).exit_code == 0
    pupils[0]["preferred_forename"] = "Renamed"
    changed = tmp_path / "changed.csv"
    write_roster_csv(changed, pupils)
    assert cli("apply", str(changed), "--yes", "--as-of", TODAY.isoformat()).exit_code == 0
    ambiguous = cli("confirm", "purple-mash", "uploaded")
    assert ambiguous.exit_code == 2
    assert "purple-mash has 2 import batches waiting" in ambiguous.output and "--batch" in ambiguous.output
    unknown = cli("confirm", "purple-mash", "uploaded", "--batch", "20990101-001")
    assert unknown.exit_code == 2 and "has no batch" in unknown.output


def test_lgfl_through_autoupdate_records_what_it_holds_and_writes_nothing(tmp_path, roster_file, pupils):
    workspace = init_workspace(tmp_path / "lgfl", "USO Primary", "uso.sch.uk", ["lgfl"])
    result = Provisioner(workspace).apply(roster_file, confirm=yes, today=TODAY)
    on_roll = [p for p in pupils if not (p.get("leaving_date") and p["leaving_date"] <= TODAY)]
    assert result.batches == [] and result.recorded == {"lgfl": len(on_roll)}
    assert not any(p.is_file() for p in workspace.outbox.rglob("*"))
    state = workspace.open_state()
    held = state.accounts("lgfl")
    state.close()
    assert len(held) == len(on_roll)
    assert all(set(a.sent) == {"forename", "surname", "date_of_birth"} for a in held.values())
    again = Provisioner(workspace).apply(roster_file, confirm=yes, today=TODAY)
    assert again.recorded == {} and not again.plan.has_work


def test_a_school_matches_its_downloaded_template_with_columns(workspace, roster_file):
    set_platform(workspace, "ixl", enabled="true",
                 columns='{ "Student username" = "username", "Given" = "forename", "Family" = "surname", '
                         '"Pass" = "password" }')  # fmt: skip
    approve_register(workspace)
    [ixl] = workspace.connectors(["ixl"])
    assert ixl.sent_fields == ("forename", "surname", "username", "password"), "class and year are no longer sent"
    result = Provisioner(workspace).apply(roster_file, confirm=yes, platforms=["ixl"], today=TODAY)
    table = read_table(result.batches[0].path)
    assert table[0] == ["Student username", "Given", "Family", "Pass"]


def test_columns_cannot_send_an_undeclared_field(workspace, roster_file):
    cli = Cli(workspace)
    set_platform(workspace, "tt-rockstars", columns='{ "DOB" = "date_of_birth", "First" = "forename" }')
    result = cli("plan", str(roster_file), "--as-of", TODAY.isoformat())
    assert result.exit_code == 2
    assert "platforms.tt-rockstars.columns" in result.output and "may be sent only" in result.output


def test_optional_fields_are_off_until_the_school_turns_them_on(workspace, roster_file):
    set_platform(workspace, "bug-club", enabled="true")
    approve_register(workspace)
    [bug_club] = workspace.connectors(["bug-club"])
    assert "class_name" not in bug_club.sent_fields
    Provisioner(workspace).apply(roster_file, confirm=yes, platforms=["bug-club"], today=TODAY)
    set_platform(workspace, "bug-club", optional_fields='["class_name"]')
    approve_register(workspace)
    plan = Provisioner(workspace).plan(roster_file, platforms=["bug-club"], today=TODAY)
    counts = plan.platforms["bug-club"].counts()
    assert counts["update"] > 0 and counts["unchanged"] == counts["create"] == 0
    assert plan.platforms["bug-club"].changed_fields() == {"class_name": counts["update"]}
    result = Provisioner(workspace).apply(roster_file, confirm=yes, platforms=["bug-club"], today=TODAY)
    [batch] = result.batches
    table = read_table(batch.path)
    assert table[0][-1] == "Group name"
    assert all(row[4] == "" for row in table[1:]), "an update sends no new password"
    assert batch.slips == [], "no new passwords, so no slips"


def test_bug_club_date_of_birth_is_day_first(tmp_path):
    from connectors.bug_club import BugClub

    bug_club = BugClub()
    view = bug_club.view({"forename": "A", "surname": "B", "date_of_birth": date(2019, 2, 3).isoformat(),
                          "username": "ab", "password": "Tiger47"})  # fmt: skip
    assert bug_club.delivery.import_row(view)[2] == "03/02/2019"


def test_a_reprint_resets_passwords_as_an_update_with_new_slips(workspace, roster_file, pupils):
    set_platform(workspace, "education-city", enabled="true")  # takes new passwords by import
    approve_register(workspace)
    cli = Cli(workspace)
    assert cli("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat()).exit_code == 0
    [first] = list((workspace.outbox / "education-city").glob("*-import-*.csv"))
    old = {r[4]: r[5] for r in read_table(first)[1:]}
    on_roll = [p for p in pupils if not (p.get("leaving_date") and p["leaving_date"] <= TODAY)]
    target = on_roll[0]["class_name"]
    in_class = [p for p in on_roll if p["class_name"] == target]
    asked = cli("reset-passwords", "education-city", str(roster_file), "--class", target)
    assert asked.exit_code == 0, asked.output
    plan = json.loads(cli("plan", str(roster_file), "--as-of", TODAY.isoformat(), "--json").stdout)
    assert plan["platforms"]["education-city"]["update"] == len(in_class)
    assert plan["platforms"]["education-city"]["fields_changed"] == {"password": len(in_class)}
    done = json.loads(cli("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat(), "--json").stdout)
    [batch] = done["batches"]
    table = read_table(Path(batch["file"]))[1:]
    assert {r[3] for r in table} == {target} and len(table) == len(in_class)
    assert all(old[r[4]] != r[5] for r in table), "each pupil in the class has a new password"
    slips = read_xlsx(Path(batch["slips"][1]))[1:]
    assert {r[3]: r[4] for r in slips} == {r[4]: r[5] for r in table}
    again = cli("plan", str(roster_file), "--as-of", TODAY.isoformat(), "--json")
    assert json.loads(again.stdout)["platforms"]["education-city"]["update"] == 0, "a reset is done once"


def test_reset_passwords_names_what_it_cannot_find(workspace, roster_file):
    set_platform(workspace, "education-city", enabled="true")
    approve_register(workspace)
    result = Cli(workspace)("reset-passwords", "education-city", str(roster_file), "--class", "Nowhere")
    assert result.exit_code == 2 and "class Nowhere" in result.output


def test_a_username_rule_cannot_send_a_field_the_platform_does_not_receive(workspace, roster_file):
    set_platform(workspace, "tt-rockstars", enabled="true",
                 columns='{ "First name" = "forename", "Username" = "username", "Password" = "password" }')  # fmt: skip
    result = Cli(workspace)("plan", str(roster_file), "--as-of", TODAY.isoformat())
    assert result.exit_code == 2
    assert "username rule" in result.output and "surname" in result.output


def test_lgfl_switched_from_autoupdate_to_a_bulk_file_makes_proper_accounts(tmp_path, roster_file, pupils):
    workspace = init_workspace(tmp_path / "lgfl", "USO Primary", "uso.sch.uk", ["lgfl"])
    Provisioner(workspace).apply(roster_file, confirm=yes, today=TODAY)
    state = workspace.open_state()
    assert all(set(a.sent.values()) == {""} for a in state.accounts("lgfl").values()), "no copy of what the MIS holds"
    state.close()
    set_platform(workspace, "lgfl", provisioning='"bulk-file"')
    approve_register(workspace)
    result = Provisioner(workspace).apply(roster_file, confirm=yes, today=TODAY)
    [batch] = result.batches
    table = read_table(batch.path)
    assert len(table) - 1 == len(on_roll_rows(pupils))
    assert all(row[4] and row[5] for row in table[1:]), "every pupil gets a username and a password"
    assert len(read_xlsx(batch.slips[1])) == len(table)


def on_roll_rows(rows: list[dict]) -> list[dict]:
    return [r for r in rows if not (r.get("leaving_date") and r["leaving_date"] <= TODAY)]


def test_bug_club_passwords_are_not_reset_by_re_pasting(workspace, roster_file):
    set_platform(workspace, "bug-club", enabled="true")
    approve_register(workspace)
    result = Cli(workspace)("reset-passwords", "bug-club", str(roster_file), "--class", "1A")
    assert result.exit_code == 2 and "on the platform itself" in result.output


# What each platform documents (platforms-checked.md §1): Times Tables Rock Stars' delete
# choice, Purple Mash's password resets, EducationCity's Unique ID, IXL's school code.


def one_ttrs_leaver(tmp_path, leavers_group: bool = False):
    """A school on Times Tables Rock Stars whose Year 3 pupil left, cleaned up once the
    deletion fell due: (workspace, the deletion list)."""
    from datetime import timedelta

    workspace = init_workspace(tmp_path / "ttrs", "Rock Primary", "rock.sch.uk", ["tt-rockstars"])
    if leavers_group:
        set_platform(workspace, "tt-rockstars", leavers_group="true")
    rows = synthetic_pupils(60, seed=5, today=TODAY, leavers=0)
    path = tmp_path / "roster.csv"
    write_roster_csv(path, rows)
    Provisioner(workspace).apply(path, confirm=yes, today=TODAY)
    next(r for r in rows if r["year_group"] == "3")["leaving_date"] = TODAY + timedelta(days=1)
    write_roster_csv(path, rows)
    result = Provisioner(workspace).apply_leavers(path, confirm=yes, today=TODAY + timedelta(days=40))
    [deletion_list] = result.deletion_lists
    return workspace, deletion_list


def words(path: Path) -> str:
    return " ".join(pdf_text(path).split())


def test_the_ttrs_deletion_list_asks_for_delete_immediately(tmp_path):
    workspace, deletion_list = one_ttrs_leaver(tmp_path)
    text = words(deletion_list.slips[0])
    assert 'choose "Delete immediately" for each account (all its data is irretrievably removed)' in text
    assert 'not "Send to Leavers", which keeps it for 6 months' in text
    done = Cli(workspace)("confirm", "tt-rockstars", "deleted", "--json")
    assert done.exit_code == 0 and json.loads(done.stdout)["held_until"] is None


def test_a_school_that_sends_leavers_to_ttrs_leavers_group_is_told_until_when_ttrs_holds_them(tmp_path):
    from connectors.tt_rockstars import months_later

    workspace, deletion_list = one_ttrs_leaver(tmp_path, leavers_group=True)
    text = words(deletion_list.slips[0])
    assert 'choose "Send to Leavers" for each account' in text and "for 6 months, then deletes it for good" in text
    assert "Delete immediately" not in text
    done = Cli(workspace)("confirm", "tt-rockstars", "deleted")
    assert done.exit_code == 0, done.output
    until = months_later(date.today(), 6).isoformat()
    assert f"in its Leavers group until {until}" in " ".join(done.stdout.split())


def test_the_ttrs_register_entry_says_which_delete_the_list_asks_for():
    entry = (Path(__file__).parents[1] / "registers" / "tt-rockstars.toml").read_text(encoding="utf-8")
    assert '"Delete immediately"' in entry and "leavers_group = true" in entry


def test_purple_mash_password_resets_are_refused_and_point_to_its_own_bulk_reset(workspace, roster_file):
    cli = Cli(workspace)
    assert cli("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat()).exit_code == 0
    result = cli("reset-passwords", "purple-mash", str(roster_file), "--class", "1A")
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "Purple Mash does not take new passwords through its import" in said
    assert '"mass generate new passwords for existing pupils"' in said
    with workspace.open_state() as state:
        assert state.password_resets("purple-mash") == set(), "nothing was asked of the next apply"


def test_education_city_gets_its_pseudonymous_id_as_the_unique_id_and_keeps_it(workspace, roster_file, pupils, tmp_path):
    set_platform(workspace, "education-city", enabled="true")
    approve_register(workspace)
    [connector] = workspace.connectors(["education-city"])
    assert "pseudonymous_id" in connector.sent_fields, "declared, so the register lists it"
    first = Provisioner(workspace).apply(roster_file, confirm=yes, platforms=["education-city"], today=TODAY)
    header, *rows = read_table(batch_of(first, "education-city").path)
    assert header == DOCUMENTED_HEADERS["education-city"]
    ids = {row[4]: row[0] for row in rows}  # username -> Unique ID
    with workspace.open_state() as state:
        held = {a.username: a.sent["pseudonymous_id"] for a in state.accounts("education-city").values()}
    assert ids == held and len(set(ids.values())) == len(ids)
    assert not set(ids.values()) & ({p["upn"] for p in pupils} | {p["mis_id"] for p in pupils})
    for row in pupils:  # every class renamed: every pupil is sent again
        row["class_name"] = f"{row['class_name']}X"
    moved = tmp_path / "moved.csv"
    write_roster_csv(moved, pupils)
    second = Provisioner(workspace).apply(moved, confirm=yes, platforms=["education-city"], today=TODAY)
    _, *again = read_table(batch_of(second, "education-city").path)
    assert len(again) == len(rows) and {row[4]: row[0] for row in again} == ids, "the same Unique ID for each pupil"


def test_ixl_usernames_carry_the_school_code_in_the_file_and_on_the_slips(school, outputs):
    workspace, _, _, result = school
    batch = batch_of(result, "ixl")
    header, *rows = read_table(batch.path)
    usernames = [row[header.index("Username")] for row in rows]
    assert usernames and all(u.endswith(f"@{IXL_CODE}") and len(u.partition("@")[0]) <= 20 for u in usernames)
    assert len(set(usernames)) == len(usernames)
    header, *slips = read_xlsx(batch.slips[1])
    on_ixl = [dict(zip(header, r)) for r in slips if r[header.index("Platform")] == "IXL"]
    assert sorted(r["Username"] for r in on_ixl) == sorted(usernames)
    assert {r["School code"] for r in on_ixl} == {""}, "the code is in the username: printed once"
    assert f"https://www.ixl.com/signin/{IXL_CODE}" in "\n".join(outputs[batch.slips[0]])
    with workspace.open_state() as state:
        assert not any("@" in a.username for a in state.accounts("ixl").values()), "the bare name is kept"


def test_ixl_without_a_school_code_is_planned_with_a_warning(workspace, roster_file):
    set_platform(workspace, "ixl", enabled="true")
    approve_register(workspace)
    cli = Cli(workspace)
    shown = cli("plan", str(roster_file), "--as-of", TODAY.isoformat())
    assert shown.exit_code == 0 and "no school_code is set" in " ".join(shown.output.split())
    report = json.loads(cli("plan", str(roster_file), "--as-of", TODAY.isoformat(), "--json").stdout)
    [warning] = report["platforms"]["ixl"]["warnings"]
    assert "cannot sign in" in warning and report["platforms"]["purple-mash"]["warnings"] == []


@pytest.mark.parametrize("code", ['"two words"', '"-abc"', '"école"', '"' + "a" * 21 + '"'])
def test_a_school_code_is_short_plain_and_typeable(workspace, roster_file, code):
    set_platform(workspace, "ixl", enabled="true", school_code=code)
    result = Cli(workspace)("plan", str(roster_file), "--as-of", TODAY.isoformat())
    assert result.exit_code == 2 and "platforms.ixl.school_code" in result.output


def test_bug_club_gets_a_sheet_of_text_cells_in_the_forms_order(school):
    """The admin copies rows from it into "Register multiple students": a header row, the form's
    column order, every cell Text so Excel keeps 03/02/2019 as typed, nothing that starts a formula."""
    workspace, rows, _, result = school
    path = batch_of(result, "bug-club").path
    assert path.suffix == ".xlsx" and "paste-into-register-multiple-students" in path.name
    sheet = load_workbook(path).active
    cells = list(sheet.iter_rows())
    assert [c.value for c in cells[0]] == DOCUMENTED_HEADERS["bug-club"]
    assert all(c.number_format == "@" and c.data_type == "s" for row in cells for c in row)
    expected = [r["date_of_birth"].strftime("%d/%m/%Y") for r in served(workspace, "bug-club", rows)]
    assert [row[2].value for row in cells[1:]] == expected
    assert not [c.value for row in cells for c in row if c.value.startswith(FORMULA_TRIGGERS)]


def test_bug_club_gets_a_csv_when_the_school_asks(workspace, roster_file):
    set_platform(workspace, "bug-club", enabled="true", file_format='"csv"', delimiter='"tab"')
    approve_register(workspace)
    result = Provisioner(workspace).apply(roster_file, confirm=yes, platforms=["bug-club"], today=TODAY)
    [batch] = result.batches
    assert batch.path.suffix == ".csv"
    header = batch.path.read_bytes().decode("utf-8-sig").split("\r\n", 1)[0]
    assert header.split("\t") == DOCUMENTED_HEADERS["bug-club"]


def test_a_csv_setting_for_bug_clubs_sheet_says_to_ask_for_a_csv(workspace, roster_file):
    set_platform(workspace, "bug-club", enabled="true", delimiter='";"')
    result = Cli(workspace)("plan", str(roster_file), "--as-of", TODAY.isoformat())
    assert result.exit_code == 2
    assert "platforms.bug-club" in result.output and 'file_format = "csv"' in result.output
    assert "Traceback" not in result.output


def test_the_access_report_gives_ixls_username_as_the_child_signs_in(school):
    workspace, rows, _, result = school
    pupil = next(r for r in served(workspace, "ixl", rows) if r["mis_id"])
    shown = Cli(workspace)("pupil", "show", pupil["mis_id"], "--json")
    assert shown.exit_code == 0, shown.output
    ixl = json.loads(shown.stdout)["processors"]["ixl"]
    assert ixl["username"] == f"{ixl['fields']['username']}@{IXL_CODE}"
    header, *table = read_table(batch_of(result, "ixl").path)
    assert ixl["username"] in [row[header.index("Username")] for row in table], "as in the file IXL was sent"
