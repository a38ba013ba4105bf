"""Names as the MIS exports put them: names that cannot be names are refused with their row and
column, and the cell is kept for the terminal, never for JSON.

Files are written for real in several house styles; every name is made up."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
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


# --- what the problems carry, and the terminal ------------------------------------------------


def test_a_problems_value_is_never_in_its_json_its_text_or_its_repr() -> None:
    problem = Problem(4, "Legal Forename", "contains '?'", "error", "?ukasz")
    assert problem.value == "?ukasz"
    assert "ukasz" not in json.dumps(problem.as_dict()) + str(problem) + repr(problem)
    decision = Decision("whole-name", "Preferred Name", "held the whole name", (2, 3))
    assert str(decision) == "Preferred Name: 2 rows held the whole name (rows 2 and 3)"
