"""Names as the MIS exports put them: a preferred-name column that holds the whole name is split
(and says so), forename-only columns are left alone, names that cannot be names are refused
with their row and column, and the terminal groups repeated problems, showing the cells that
JSON never carries.

Files are written for real in several house styles; every name is made up."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from conftest import Cli
from roster_helpers import TODAY, only, write_csv, write_xlsx

from provisioner.models import Decision, Problem
from provisioner.roster import read_roster

SIMS = ["Adno", "UPN", "Legal Forename", "Legal Surname", "Preferred Forename", "Year", "Reg Group"]
ARBOR = ["Student ID", "Legal First Name", "Legal Last Name", "Preferred Name", "Year", "Registration Form"]
KNOWN_AS = ["Admission Number", "First Name", "Last Name", "Known As", "Year Group", "Tutor Group"]
CHOSEN = ["Pupil ID", "Forename", "Surname", "Chosen Name", "Year", "Class"]


def rows_of(names: list[tuple[str, str, str]], upn: bool = False) -> list[list]:
    """(legal forename, legal surname, preferred) -> roster rows with made-up ids, Year 3, 3A."""
    return [[f"{i + 1:06d}", *([""] if upn else []), forename, surname, preferred, "Year 3", "3A"]
            for i, (forename, surname, preferred) in enumerate(names)]  # fmt: skip


def names(roster) -> list[tuple[str | None, str | None]]:
    return [(p.preferred_forename, p.preferred_surname) for p in roster.pupils]


# --- a preferred-name cell that holds the whole name --------------------------------------------

ARBOR_WHOLE_NAMES = [
    ("Aaliyah", "Kowalski", "Aaliyah Kowalski"),
    ("Zoë", "O'Brien", "Zoë O’Brien"),  # a curly apostrophe where the legal name has a straight one
    ("Niamh", "O’Connor", "Niamh O'Connor"),  # and the other way round
    ("José", "de la Cruz", "José de la Cruz"),
    ("Oliver", "St. John", "Oliver St. John"),
    ("Siân", "Smith-Jones", "Siân Smith Jones"),  # a hyphen where the cell has a space
    ("Mary Jane", "Smith", "Mary Jane Smith"),  # a double forename, then the surname
    ("Łucja", "Wiśniewska", "łucja wiśniewska"),  # diacritics, and the case, as the cell has them
    ("Tobias", "Fenwick", "Toby Fenwick"),  # a nickname and the surname
    ("Aziz", ".", "Aziz"),  # one name: the surname is a placeholder
    ("Harriet", "Ashby", "Hattie"),  # a forename only, in the same column
]


def test_a_preferred_name_column_holding_whole_names_is_split(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "arbor.csv", rows_of(ARBOR_WHOLE_NAMES), header=ARBOR, bom=True)
    roster = read_roster(path, today=TODAY)
    assert roster.errors == []
    assert names(roster) == [
        ("Aaliyah", "Kowalski"), ("Zoë", "O’Brien"), ("Niamh", "O'Connor"), ("José", "de la Cruz"),
        ("Oliver", "St. John"), ("Siân", "Smith Jones"), ("Mary Jane", "Smith"), ("łucja", "wiśniewska"),
        ("Toby", "Fenwick"), ("Aziz", ""), ("Hattie", "Ashby"),
    ]  # fmt: skip
    first = roster.pupils[0]
    assert (first.forename, first.surname, first.display_name) == ("Aaliyah", "Kowalski", "Aaliyah Kowalski")
    assert (first.legal_forename, first.legal_surname) == ("Aaliyah", "Kowalski")  # the legal names untouched
    single = roster.pupils[9]
    assert (single.forename, single.surname, single.display_name) == ("Aziz", "", "Aziz")
    # What was decided, for how many rows, and where: the rows of the first nine pupils.
    (decision,) = roster.decisions
    assert (decision.kind, decision.column) == ("whole-name", "Preferred Name")
    assert decision.rows == tuple(range(2, 11))
    assert str(decision).startswith("Preferred Name: 9 rows held the whole name (forename and surname)")
    assert str(decision).endswith("(rows 2, 3, 4, 5, 6 and 4 more)")


def test_the_split_decision_is_said_with_its_count_and_rows_and_no_names(tmp_path: Path) -> None:
    many = [(f"Aaliyah{'a' * (i % 7)}", "Kowalski", f"Aaliyah{'a' * (i % 7)} Kowalski") for i in range(402)]
    roster = read_roster(write_csv(tmp_path / "arbor.csv", rows_of(many), header=ARBOR), today=TODAY)
    (decision,) = roster.decisions
    assert str(decision) == (
        "Preferred Name: 402 rows held the whole name (forename and surname), ending with the surname: split "
        "into the preferred forename and surname (rows 2, 3, 4, 5, 6 and 397 more)"
    )
    assert decision.as_dict()["count"] == 402 and decision.as_dict()["rows"][:3] == [2, 3, 4]
    assert "Aaliyah" not in str(decision) + json.dumps(decision.as_dict())
    assert "Kowalski" not in str(decision) + json.dumps(decision.as_dict())


def test_a_whole_name_read_by_counting_words_is_reported_apart(tmp_path: Path) -> None:
    rows = rows_of([("Aaliyah", "Kowalski", "Aaliyah Kowalska"), ("Aaliyah", "Kowalski", "Aaliyah Kowalski")])
    roster = read_roster(write_csv(tmp_path / "arbor.csv", rows, header=ARBOR), today=TODAY)
    assert names(roster) == [("Aaliyah", "Kowalska"), ("Aaliyah", "Kowalski")]
    assert [(d.kind, d.rows) for d in roster.decisions] == [
        ("whole-name", (3,)), ("whole-name-by-words", (2,))
    ]  # fmt: skip
    assert "check these rows" in str(roster.decisions[1])


def test_a_preferred_surname_of_its_own_is_kept(tmp_path: Path) -> None:
    header = [*ARBOR, "Preferred Last Name"]
    pupils = [("Jessica", "Okafor", "Jess Okafor"), ("Jessica", "Okafor", "Jess Okafor-Reid"),
              ("Aaliyah", "Kowalski", "Aaliyah Kowalski")]  # fmt: skip
    rows = [[*row, surname] for row, surname in zip(rows_of(pupils), ["Okafor-Reid", "Okafor-Reid", ""])]
    roster = read_roster(write_xlsx(tmp_path / "arbor.xlsx", rows, header=header), today=TODAY)
    assert names(roster) == [("Jess", "Okafor-Reid"), ("Jess", "Okafor-Reid"), ("Aaliyah", "Kowalski")]
    (decision,) = roster.decisions
    assert decision.rows == (2, 3, 4) and "'Preferred Last Name' has a value of its own" in decision.message


def test_sims_preferred_forenames_are_left_alone(tmp_path: Path) -> None:
    rows = rows_of([("Alexander", "Hartley", "Alex"), ("Mary Jane", "Smith", "Mary Jane"),
                    ("Mary-Jane", "Smith", "Mary Jane"), ("Jean-Luc", "Picard", "Jean-Luc"),
                    ("Maisie", "Thornbury", ""), ("Aziz", "-", "Aziz")], upn=True)  # fmt: skip
    roster = read_roster(write_xlsx(tmp_path / "sims.xlsx", rows, header=SIMS), today=TODAY)
    assert roster.errors == []
    assert names(roster) == [("Alex", "Hartley"), ("Mary Jane", "Smith"), ("Mary Jane", "Smith"),
                             ("Jean-Luc", "Picard"), ("Maisie", "Thornbury"), ("Aziz", "")]  # fmt: skip
    assert roster.decisions == []


def test_a_known_as_column_of_forenames_is_untouched_and_a_doubtful_one_is_said(tmp_path: Path) -> None:
    rows = rows_of([("Thomas", "Brown", "Tom"), ("Mary Jane", "Smith", "Mary Jane"),
                    ("Mary Josephine", "Smith", "Mary Jo"), ("Dáithí", "Ní Bhriain", "Dáithí")])  # fmt: skip
    roster = read_roster(write_csv(tmp_path / "bromcom.csv", rows, header=KNOWN_AS), today=TODAY)
    assert names(roster) == [("Tom", "Brown"), ("Mary Jane", "Smith"), ("Mary Jo", "Smith"),
                             ("Dáithí", "Ní Bhriain")]  # fmt: skip
    (decision,) = roster.decisions  # "Mary Jo" is not the legal forename: kept, and said
    assert (decision.kind, decision.column, decision.rows) == ("kept-as-forename", "Known As", (4,))


def test_a_chosen_name_written_surname_first_is_split(tmp_path: Path) -> None:
    rows = rows_of([("Aaliyah", "Kowalski", "Kowalski, Aaliyah"), ("Zoë", "O'Brien", "O’Brien, Zoë"),
                    ("José", "de la Cruz", "de la Cruz, Pepe"), ("Tom", "Smith", "Jones, Tom")])  # fmt: skip
    roster = read_roster(write_xlsx(tmp_path / "chosen.xlsx", rows, header=CHOSEN), today=TODAY)
    assert names(roster)[:3] == [("Aaliyah", "Kowalski"), ("Zoë", "O’Brien"), ("Pepe", "de la Cruz")]
    assert names(roster)[3] == ("Jones, Tom", "Smith"), "a comma not after the surname: never guessed"
    assert [(d.kind, d.rows) for d in roster.decisions] == [
        ("whole-name-surname-first", (2, 3, 4)), ("kept-as-forename", (5,))
    ]  # fmt: skip


def test_the_legal_name_setting_still_uses_the_legal_names(tmp_path: Path) -> None:
    from provisioner.settings import RosterSettings

    rows = rows_of([("Aaliyah", "Kowalski", "Ally Kowalski")])
    path = write_csv(tmp_path / "arbor.csv", rows, header=ARBOR)
    (p,) = read_roster(path, RosterSettings(use_preferred_names=False), today=TODAY).pupils
    assert (p.forename, p.surname, p.preferred_forename, p.preferred_surname) == (
        "Aaliyah", "Kowalski", "Ally", "Kowalski"
    )  # fmt: skip


# --- names that cannot be names --------------------------------------------------------------

NONSENSE = [
    ('=HYPERLINK("http://x.invalid","click")', "spreadsheet formula"),
    ("+44 7700 900123", "spreadsheet formula"),
    ("?ukasz", "'?'"),
    ("Zo\ufffd", "undecodable character"),
    ("12345", "no letters"),
    ("!!!", "no letters"),
    ("Ma\x07isie", "control character"),
    ("Ma\u202eisie", "invisible formatting character"),
    ("A" * 51, "more than 50 characters"),
    ("Maisie Please See Office Before Making Account", "or 6 words"),
]


@pytest.mark.parametrize(("value", "phrase"), NONSENSE)
@pytest.mark.parametrize("column", ["Legal Forename", "Legal Surname", "Preferred Forename"])
def test_a_name_that_cannot_be_a_name_is_a_row_error(tmp_path: Path, value: str, phrase: str, column: str):
    rows = rows_of([("Maisie", "Thornbury", ""), ("Tobias", "Fenwick", "")], upn=True)
    rows[1][SIMS.index(column)] = value
    roster = read_roster(write_csv(tmp_path / "sims.csv", rows, header=SIMS), today=TODAY)
    error = only(roster.errors, 3)
    assert error.column == column and phrase in error.message
    assert re.search(r": (correct|retype|check|type)", error.message), "says what to do"
    assert error.value == value and value not in error.message  # the cell is for the terminal only
    assert [p.row for p in roster.pupils] == [2] and roster.invalid_rows == 1


def test_a_preferred_surname_that_cannot_be_a_name_is_refused(tmp_path: Path) -> None:
    header = [*SIMS, "Preferred Surname"]
    rows = [[*rows_of([("Maisie", "Thornbury", "")], upn=True)[0], "0000"]]
    roster = read_roster(write_xlsx(tmp_path / "sims.xlsx", rows, header=header), today=TODAY)
    assert "no letters" in only(roster.errors, 2, "Preferred Surname").message


@pytest.mark.parametrize("placeholder", [".", "-", "*", "NFN", "fnu"])
def test_one_name_placeholders_still_mean_one_name(tmp_path: Path, placeholder: str) -> None:
    rows = rows_of([("Aziz", placeholder, placeholder)], upn=True)
    roster = read_roster(write_csv(tmp_path / "sims.csv", rows, header=SIMS), today=TODAY)
    assert roster.errors == []
    assert [(p.forename, p.surname) for p in roster.pupils] == [("Aziz", "")]


def test_names_that_are_names_are_not_refused(tmp_path: Path) -> None:
    good = [("Zoë", "O’Brien"), ("D'Andre", "St. John"), ("Jean-Luc", "de la Cruz"), ("J.", "Ng"),
            ("Siobhán", "Ní Bhriain"), ("Mohammad\u200cReza", "Karimi"), ("王", "芳"),
            ("Maria del Carmen", "Lopez de la Vega"), ("A" * 50, "Smith")]  # fmt: skip
    rows = rows_of([(f, s, "") for f, s in good], upn=True)
    roster = read_roster(write_xlsx(tmp_path / "sims.xlsx", rows, header=SIMS), today=TODAY)
    assert roster.errors == [] and roster.warnings == []
    assert [(p.legal_forename, p.legal_surname) for p in roster.pupils] == good


def _with_cached_value(path: Path, formula: str, shown: str) -> None:
    """Give a formula cell openpyxl wrote the value Excel would have saved with it."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    escaped = formula.replace("&", "&amp;")
    written = re.search(r'<c r="(\w+)"[^>]*><f>' + re.escape(escaped) + "</f><v */?>(</v>)?</c>", sheet)
    assert written, sheet
    cell = f'<c r="{written[1]}" t="str"><f>{escaped}</f><v>{shown}</v></c>'
    parts["xl/worksheets/sheet1.xml"] = (sheet[: written.start()] + cell + sheet[written.end():]).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_an_xlsx_name_cell_holding_a_formula_is_refused_whatever_it_showed(tmp_path: Path) -> None:
    formula = 'HYPERLINK("http://x.invalid","click")'
    rows = rows_of([("Maisie", "Thornbury", ""), (f"={formula}", "Fenwick", ""), ("Harriet", "=1+2", "")],
                   upn=True)  # fmt: skip
    rows[0][SIMS.index("Reg Group")] = '="3"&"A"'  # a formula in another column: used, with a warning
    path = write_xlsx(tmp_path / "sims.xlsx", rows, header=SIMS)
    _with_cached_value(path, formula, "click")
    _with_cached_value(path, '"3"&"A"', "3A")
    import python_calamine

    shown = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert (shown[2][2], shown[1][6]) == ("click", "3A"), "calamine reads what a formula showed"

    roster = read_roster(path, today=TODAY)
    forename = only(roster.errors, 3)
    assert forename.column == "Legal Forename"
    assert "holds a spreadsheet formula, not a name" in forename.message
    assert forename.value == f"={formula}"
    surname = only(roster.errors, 4)  # no value was ever calculated: refused, not called blank
    assert surname.column == "Legal Surname" and "spreadsheet formula" in surname.message
    assert [(p.row, p.class_name) for p in roster.pupils] == [(2, "3A")]
    assert "formula" in only(roster.warnings, 2, "Reg Group").message


def test_a_formula_name_on_the_roster_sheet_after_a_notes_sheet_is_refused(tmp_path: Path) -> None:
    rows = rows_of([("Maisie", "Thornbury", ""), ("Tobias", "Fenwick", '=CONCAT("To","by")')], upn=True)
    path = write_xlsx(tmp_path / "sims.xlsx", rows, header=SIMS, sheets_before=["Read me"])
    roster = read_roster(path, today=TODAY)
    error = only(roster.errors, 3)  # calamine shows the formula, never calculated, as a blank cell
    assert error.column == "Preferred Forename" and "holds a spreadsheet formula" in error.message
    assert [p.row for p in roster.pupils] == [2]



def test_a_formula_name_far_down_a_long_sheet_is_refused(tmp_path: Path) -> None:
    # The size check unzips each sheet a megabyte at a time and says which hold formulas at all,
    # so the formula search does not unzip a sheet without any again: a formula in the last row of
    # a sheet several megabytes long, and so in a later piece, is still found.
    pupils = [(f"Pupil{i}", "Thornbury", "") for i in range(9_000)] + [("Tobias", "=1+2", "")]
    path = write_xlsx(tmp_path / "sims.xlsx", rows_of(pupils, upn=True), header=SIMS)
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > 2 * 1024 * 1024
    roster = read_roster(path, today=TODAY)
    error = only(roster.errors, 9_002)
    assert error.column == "Legal Surname" and "holds a spreadsheet formula" in error.message
    assert len(roster.pupils) == 9_000

# --- what the problems carry, and the terminal ------------------------------------------------


def test_a_problems_value_is_never_in_its_json_its_text_or_its_repr() -> None:
    problem = Problem(4, "Legal Forename", "contains '?'", "error", "?ukasz")
    assert problem.value == "?ukasz"
    assert "ukasz" not in json.dumps(problem.as_dict()) + str(problem) + repr(problem)
    decision = Decision("whole-name", "Preferred Name", "held the whole name", (2, 3))
    assert str(decision) == "Preferred Name: 2 rows held the whole name (rows 2 and 3)"


LOST = ["?ukasz", "?ofia", "Ma?gorzata", "?ucja", "Wojciech?"]


@pytest.fixture
def lost_letters(tmp_path: Path) -> Path:
    """A Bromcom-like CSV from Excel's cp1252 'CSV': 57 names with a letter lost, and 3 whole names."""
    pupils = [(LOST[i % 5], "Nowak", "") for i in range(57)]
    pupils += [("Aaliyah", "Kowalski", "Aaliyah Kowalski")] * 3
    return write_csv(tmp_path / "bromcom.csv", rows_of(pupils), header=KNOWN_AS, encoding="cp1252")


def test_roster_check_prints_one_grouped_line_with_the_names_on_the_terminal(cli: Cli, lost_letters: Path):
    result = cli("roster", "check", str(lost_letters))
    assert result.exit_code == 3
    lines = [line for line in result.output.splitlines() if "where a letter should be" in line]
    assert len(lines) == 1, result.output
    (line,) = lines
    assert line.startswith("error column 'First Name', 57 rows (rows 2, 3, 4, 5, 6 and 52 more): contains")
    assert "e.g. '?ukasz', '?ofia', 'Ma?gorzata', ..." in line
    decided = [line for line in result.output.splitlines() if line.startswith("decided")]
    assert decided == [
        (
            "decided Known As: 3 rows held the whole name (forename and surname), ending with the surname: "
            "split into the preferred forename and surname (rows 59, 60 and 61)"
        )
    ]
    assert "57 error(s) in 57 row(s)" in result.output


def test_roster_check_json_carries_no_name_but_every_problem_and_decision(cli: Cli, lost_letters: Path):
    result = cli("roster", "check", str(lost_letters), "--json")
    assert result.exit_code == 3
    assert not any(name.strip("?") in result.stdout for name in [*LOST, "Nowak", "Aaliyah", "Kowalski"])
    data = json.loads(result.stdout)
    assert len(data["errors"]) == 57 and {e["column"] for e in data["errors"]} == {"First Name"}
    assert set(data["errors"][0]) == {"row", "column", "message"}
    [decision] = data["decisions"]
    assert (decision["kind"], decision["column"], decision["count"], decision["rows"]) == (
        "whole-name", "Known As", 3, [59, 60, 61]
    )  # fmt: skip


def test_plan_groups_the_errors_and_skipping_leaves_the_rows_out_and_says_so(cli: Cli, lost_letters: Path):
    stopped = cli("plan", str(lost_letters))
    assert stopped.exit_code == 3
    assert stopped.output.count("where a letter should be") == 1
    assert "57 rows (rows 2, 3, 4, 5, 6 and 52 more)" in stopped.output and "'?ukasz'" in stopped.output
    skipped = cli("plan", str(lost_letters), "--skip-invalid-rows")
    assert skipped.exit_code == 0, skipped.output
    assert "Left out 57 row(s) with errors" in skipped.output
    as_json = cli("plan", str(lost_letters), "--skip-invalid-rows", "--json")
    assert json.loads(as_json.stdout)["left_out"] == 57 and "ukasz" not in as_json.stdout


def test_control_characters_are_shown_visibly_and_long_cells_cut(cli: Cli, tmp_path: Path) -> None:
    rows = rows_of([("Ma\x07isie", "Thornbury", ""), ("Tobias", "Fenwick", "X" * 80)])
    result = cli("roster", "check", str(write_csv(tmp_path / "r.csv", rows, header=KNOWN_AS)))
    assert "\x07" not in result.output
    assert "row 2, column 'First Name': holds a control character" in result.output
    assert "(the cell: 'Ma\\x07isie')" in result.output
    assert "(the cell: '" + "X" * 27 + "...')" in result.output
