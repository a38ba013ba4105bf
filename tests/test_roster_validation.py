"""Broken rosters: each problem is reported where the admin can find it (spreadsheet row and
column header), says what to do, and never quotes the pupil's name or id."""

from __future__ import annotations

from pathlib import Path

import pytest
from roster_helpers import HEADER, TODAY, UPNS, only, pupil, write_csv, write_xlsx

from provisioner.errors import RosterError
from provisioner.roster import read_roster
from provisioner.settings import RosterSettings


def roster_of(tmp_path: Path, rows: list[list], header: list[str] = HEADER, **settings):
    path = write_csv(tmp_path / "roster.csv", rows, header=header)
    return read_roster(path, RosterSettings(**settings), today=TODAY)


def test_missing_required_column_names_the_field_the_headers_and_the_setting(tmp_path: Path) -> None:
    header = ["Adno", "UPN", "Legal Forename", "Legal Surname", "Year", "Reg Grp"]
    path = write_csv(
        tmp_path / "r.csv", [["001001", UPNS[0], "Maisie", "Thornbury", "3", "3A"]], header=header
    )
    with pytest.raises(RosterError) as caught:
        read_roster(path, today=TODAY)
    error = caught.value
    assert "class_name" in error.message and "'Reg Grp'" in error.message
    assert "legal_forename" not in error.message  # only what is missing
    assert '[roster.columns] "Reg Grp" = "class_name"' in error.hint
    assert error.problems


def test_missing_column_hint_only_suggests_a_header_that_looks_right(tmp_path: Path) -> None:
    header = ["Adm No", "Legal Forename", "Legal Surname", "Year", "SEN Status"]
    path = write_csv(tmp_path / "r.csv", [["1", "Maisie", "Thornbury", "3", "K"]], header=header)
    with pytest.raises(RosterError) as caught:
        read_roster(path, today=TODAY)
    assert "mis_id or upn" in caught.value.message and "class_name" in caught.value.message
    assert '"Adm No" = "mis_id"' in caught.value.hint
    assert "SEN Status" not in caught.value.hint


def test_a_roster_without_any_id_column(tmp_path: Path) -> None:
    header = ["Legal Forename", "Legal Surname", "Year", "Reg Group"]
    path = write_csv(tmp_path / "r.csv", [["Maisie", "Thornbury", "3", "3A"]], header=header)
    with pytest.raises(RosterError, match="mis_id or upn"):
        read_roster(path, today=TODAY)


def test_settings_map_an_odd_header_and_take_precedence(tmp_path: Path) -> None:
    header = ["Pupil No", "Forename", "Legal Surname", "Preferred Forename", "Year", "Reg Grp"]
    rows = [["55", "Maisie", "Thornbury", "", "3", "3A"]]
    roster = roster_of(
        tmp_path,
        rows,
        header,
        columns={"Pupil No": "mis_id", "REG GRP": "class_name", "Forename": "legal_forename"},
    )
    (p,) = roster.pupils
    assert (p.key, p.class_name) == ("mis:55", "3A")
    assert roster.columns["class_name"] == "Reg Grp"
    # Precedence: the school says its "Year" column is not the one to use.
    header = ["Adno", "Legal Forename", "Legal Surname", "Year", "NC Year Actual", "Reg Group"]
    roster = roster_of(
        tmp_path, [["1", "Maisie", "Thornbury", "Y3", "4", "3A"]], header, columns={"Year": "ignore"}
    )
    assert roster.pupils[0].year_group == "4"


def test_unknown_field_name_in_settings(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [pupil()])
    with pytest.raises(RosterError) as caught:
        read_roster(path, RosterSettings(columns={"Reg Grp": "klass"}), today=TODAY)
    assert "'klass'" in caught.value.message and "class_name" in caught.value.message


def test_two_columns_for_one_field_are_ambiguous(tmp_path: Path) -> None:
    header = ["Adno", "Person_id", "Legal Forename", "Legal Surname", "Year", "Reg Group"]
    path = write_csv(tmp_path / "r.csv", [["1", "2", "Maisie", "Thornbury", "3", "3A"]], header=header)
    with pytest.raises(RosterError) as caught:
        read_roster(path, today=TODAY)
    assert "'Adno'" in caught.value.message and "'Person_id'" in caught.value.message
    assert '"Person_id" = "ignore"' in caught.value.hint
    roster = read_roster(path, RosterSettings(columns={"Person_id": "ignore"}), today=TODAY)
    assert roster.pupils[0].key == "mis:1"


def test_duplicate_ids_reject_both_rows_and_name_each_other(tmp_path: Path) -> None:
    rows = [
        pupil(adno="001001", upn=UPNS[0]),
        pupil(adno="001002", upn=UPNS[1], forename="Tobias"),
        pupil(adno="001001", upn=UPNS[2], forename="Harriet"),
    ]
    roster = roster_of(tmp_path, rows)
    later = only(roster.errors, 4)
    assert later.column == "Adno" and "row 2" in later.message and "duplicate" in later.message
    earlier = only(roster.errors, 2)
    assert earlier.column == "Adno" and "row 4" in earlier.message
    # Which of the two is right cannot be told, so neither gets an account until it is fixed.
    assert [p.row for p in roster.pupils] == [3]
    assert roster.invalid_rows == 2


def test_ids_that_differ_only_in_leading_zeros_spaces_or_case_are_duplicates(tmp_path: Path) -> None:
    rows = [
        pupil(adno="001000", upn=UPNS[0]),
        pupil(adno="1000", upn=UPNS[1], forename="Tobias"),
        pupil(adno="adm07", upn=UPNS[2], forename="Harriet"),
        pupil(adno=" ADM 07 ", upn=UPNS[3], forename="Imogen"),
        pupil(adno="10000", upn=UPNS[4], forename="Rufus"),  # a zero at the end is part of the id
    ]
    roster = roster_of(tmp_path, rows)
    later = only(roster.errors, 3, "Adno")
    assert "duplicate" in later.message and "row 2" in later.message and "leading zeros" in later.message
    assert "row 3" in only(roster.errors, 2, "Adno").message  # both rows are left out
    assert "row 4" in only(roster.errors, 5, "Adno").message and "row 5" in only(roster.errors, 4, "Adno").message
    assert [p.key for p in roster.pupils] == ["mis:10000"]


def test_one_upn_under_two_mis_ids(tmp_path: Path) -> None:
    roster = roster_of(tmp_path, [pupil(adno="001001"), pupil(adno="001002", forename="Tobias")])
    error = only(roster.errors, 3)
    assert error.column == "UPN" and "row 2" in error.message and "different MIS id" in error.message


def test_upn_keyed_roster(tmp_path: Path) -> None:
    header = ["UPN", "Forename", "Surname", "Year", "Class"]
    rows = [[UPNS[0].lower(), "Maisie", "Thornbury", "3", "3A"], ["", "Tobias", "Fenwick", "3", "3A"],
            [UPNS[0], "Harriet", "Ashby", "3", "3A"]]  # fmt: skip
    roster = roster_of(tmp_path, rows, header)
    assert roster.columns["upn"] == "UPN" and "mis_id" not in roster.columns
    assert "blank" in only(roster.errors, 3, "UPN").message
    assert "row 2" in only(roster.errors, 4, "UPN").message
    assert "row 4" in only(roster.errors, 2, "UPN").message
    assert roster.pupils == []
    single = roster_of(tmp_path, rows[:1], header)
    assert [p.key for p in single.pupils] == [f"upn:{UPNS[0]}"]


def test_blank_mis_id_is_an_error(tmp_path: Path) -> None:
    roster = roster_of(tmp_path, [pupil(adno="  ")])
    assert "blank" in only(roster.errors, 2, "Adno").message
    assert roster.pupils == []


@pytest.mark.parametrize(
    ("forename", "surname", "column"), [("", "Thornbury", "Legal Forename"), ("Maisie", " ", "Legal Surname")]
)
def test_blank_name_says_fill_it_in_or_use_a_dot(
    tmp_path: Path, forename: str, surname: str, column: str
) -> None:
    roster = roster_of(tmp_path, [pupil(forename=forename, surname=surname)])
    error = only(roster.errors, 2)
    assert error.column == column
    assert "fill it in" in error.message and "'.' in the surname" in error.message
    assert roster.pupils == [] and roster.invalid_rows == 1


def test_wrong_upn_check_letter_and_bad_format(tmp_path: Path) -> None:
    rows = [
        pupil(adno="1", upn="Q207000016049"),  # the vendors' worked example: really P...
        pupil(adno="2", upn="P20700001604"),
        pupil(adno="3", upn="P207000016049"),
    ]
    roster = roster_of(tmp_path, rows)
    assert "check letter" in only(roster.errors, 2, "UPN").message
    assert "13 characters" in only(roster.errors, 3, "UPN").message
    assert [p.row for p in roster.pupils] == [4]


def test_unknown_la_code_is_only_a_warning(tmp_path: Path) -> None:
    roster = roster_of(tmp_path, [pupil(upn="A123456789012")])  # valid check letter, LA 123 unknown
    assert roster.errors == [] and len(roster.pupils) == 1
    assert "LA code" in only(roster.warnings, 2, "UPN").message


@pytest.mark.parametrize("year", ["Year 15", "Y0", "-1", "banana", "0", "15", "Year 3/4"])
def test_impossible_year_group(tmp_path: Path, year: str) -> None:
    roster = roster_of(tmp_path, [pupil(year=year)])
    error = only(roster.errors, 2, "Year")
    assert error.message.startswith("impossible year group") and "R (reception)" in error.message
    assert roster.pupils == []


def test_header_only_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["", "", "", "", "", "", "", ""]])
    with pytest.raises(RosterError) as caught:
        read_roster(path, today=TODAY)
    assert "refused: the roster has no pupils" in caught.value.message
    assert "never taken to mean that everyone left" in caught.value.hint


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\r\n"])
def test_empty_csv_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    with pytest.raises(RosterError, match="refused: the roster has no pupils"):
        read_roster(path, today=TODAY)


def test_empty_and_header_only_workbooks_are_refused(tmp_path: Path) -> None:
    for path in (write_xlsx(tmp_path / "empty.xlsx", [], header=None), write_xlsx(tmp_path / "h.xlsx", [])):
        with pytest.raises(RosterError, match="refused: the roster has no pupils"):
            read_roster(path, today=TODAY)


def test_footer_only_roster_is_refused(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "f.xlsx", [["Total: 0"]])
    with pytest.raises(RosterError, match="no pupils"):
        read_roster(path, today=TODAY)


def test_no_header_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [pupil()], header=None)
    with pytest.raises(RosterError) as caught:
        read_roster(path, today=TODAY)
    assert "no header row" in caught.value.message
    assert "Maisie" not in caught.value.message + caught.value.hint


def test_dates_that_cannot_be_read_are_errors(tmp_path: Path) -> None:
    rows = [
        pupil(adno="1", upn=UPNS[0], dob="09/25/2015"),
        pupil(adno="2", upn=UPNS[1], dob="14/03/18"),
        pupil(adno="3", upn=UPNS[2], dob="soon"),
    ]
    roster = roster_of(tmp_path, rows)
    assert "month-first" in only(roster.errors, 2, "Date of Birth").message
    assert "write the year in full" in only(roster.errors, 3, "Date of Birth").message
    assert "dd/mm/yyyy" in only(roster.errors, 4, "Date of Birth").message
    assert roster.pupils == [] and roster.invalid_rows == 3


def test_age_outside_school_range_is_a_warning(tmp_path: Path) -> None:
    rows = [pupil(adno="1", upn=UPNS[0], dob="01/01/2001"), pupil(adno="2", upn=UPNS[1], dob="01/06/2025")]
    roster = roster_of(tmp_path, rows)
    assert roster.errors == [] and len(roster.pupils) == 2
    assert "age outside 2 to 19" in only(roster.warnings, 2).message
    assert "age outside 2 to 19" in only(roster.warnings, 3).message


@pytest.mark.parametrize(
    ("forename", "surname", "placeholder_column"),
    [("Aziz", ".", "Legal Surname"), ("-", "Aziz", "Legal Forename"), ("NFN", "Aziz", "Legal Forename"),
     ("Aziz", "lnu", "Legal Surname"), ("Aziz", "*", "Legal Surname"), ("fnu", "Aziz", "Legal Forename")],
)  # fmt: skip
def test_single_name_pupils(tmp_path: Path, forename: str, surname: str, placeholder_column: str) -> None:
    roster = roster_of(tmp_path, [pupil(forename=forename, surname=surname)])
    assert roster.errors == []
    (p,) = roster.pupils
    assert (p.forename, p.surname, p.display_name) == ("Aziz", "", "Aziz")
    if placeholder_column == "Legal Surname":
        assert (p.legal_forename, p.legal_surname) == ("Aziz", "")
    else:
        assert (p.legal_forename, p.legal_surname) == ("", "Aziz")
    warning = only(roster.warnings, 2, placeholder_column)
    assert "one name" in warning.message
    assert not [w for w in roster.warnings if "formula" in w.message]  # "-" is a placeholder here


def test_single_name_with_mis_copied_preferred_names(tmp_path: Path) -> None:
    header = [*HEADER, "Preferred Surname"]
    roster = roster_of(tmp_path, [[*pupil(forename=".", surname="Aziz", preferred="."), "Aziz"]], header)
    (p,) = roster.pupils
    assert (p.forename, p.surname) == ("Aziz", "")


def test_both_names_placeholders_is_an_error(tmp_path: Path) -> None:
    roster = roster_of(tmp_path, [pupil(forename=".", surname="-")])
    assert "both placeholders" in only(roster.errors, 2).message


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x")', "+44 1234", "@SUM(A1)", "-Maisie", "\t=Maisie"])
def test_formula_looking_names_are_refused(tmp_path: Path, value: str) -> None:
    roster = roster_of(tmp_path, [pupil(forename=value)])
    assert "looks like a spreadsheet formula" in only(roster.errors, 2, "Legal Forename").message
    assert roster.pupils == [] and roster.warnings == []


def test_a_name_after_a_tab_is_used_with_a_warning(tmp_path: Path) -> None:
    roster = roster_of(tmp_path, [pupil(forename="\tMaisie")])
    assert "looks like a spreadsheet formula" in only(roster.warnings, 2, "Legal Forename").message
    assert [p.legal_forename for p in roster.pupils] == ["Maisie"]


def test_formula_looking_cells_in_other_columns(tmp_path: Path) -> None:
    roster = roster_of(tmp_path, [pupil(reg="@3A", dob="=DATE(2018,3,14)", year="+3")])
    assert "formula" in only(roster.warnings, 2, "Reg Group").message
    assert "formula" in only(roster.warnings, 2, "Year").message
    assert "formula" in only(roster.warnings, 2, "Date of Birth").message


def test_email_without_exactly_one_at_is_a_warning(tmp_path: Path) -> None:
    header = [*HEADER, "Email"]
    rows = [[*pupil(adno="1", upn=UPNS[0]), "maisie.t.pupils.example.org"],
            [*pupil(adno="2", upn=UPNS[1]), "a@b@pupils.example.org"],
            [*pupil(adno="3", upn=UPNS[2]), "001003@pupils.example.org"]]  # fmt: skip
    roster = roster_of(tmp_path, rows, header)
    assert len(roster.pupils) == 3 and roster.errors == []
    assert [w.row for w in roster.warnings if w.column == "Email"] == [2, 3]


def test_problems_never_quote_names_ids_or_dates_of_birth(tmp_path: Path) -> None:
    header = [*HEADER, "Email", "Gender"]
    rows = [
        [*pupil("004711", "Q207000016049", "Wilhelmina", "Quarterfield", "", "Year 15", "", "09/25/2016"),
         "wilhelmina", "F"],
        [*pupil("004711", "X00180001701A", "", "Ravensworth-Pike", "=Mina", "R", "Oak", "31/02/2019"), "", "F"],
        [*pupil("004712", "X00180001701A", "Bartholomew", "Z?llner", "", "Y1", "1A", "01/01/2001"), "", "M"],
        [*pupil("004713", "A123456789012", "Cordelia", ".", "", "banana", "1A", "12/05/19"), "", "F"],
    ]  # fmt: skip
    roster = roster_of(tmp_path, rows, header)
    problems = roster.errors + roster.warnings
    assert len(roster.errors) >= 8 and len(roster.warnings) >= 4
    secrets = ["Wilhelmina", "Quarterfield", "Ravensworth", "Mina", "Bartholomew", "llner", "Cordelia", "004711",
               "004712", "004713", "Q207000016049", "X00180001701A", "A123456789012", "2016", "2019", "2001"]  # fmt: skip
    for problem in problems:
        assert problem.row in (2, 3, 4, 5) and problem.column in header
        for secret in secrets:
            assert secret.lower() not in problem.message.lower(), (secret, problem)


def test_problems_are_listed_in_sheet_order(tmp_path: Path) -> None:
    rows = [pupil(adno="1", upn=UPNS[0], year="Y99", reg=""), pupil(adno="2", upn="bad", forename="")]
    roster = roster_of(tmp_path, rows)
    assert [(p.row, p.column) for p in roster.errors] == [
        (2, "Year"), (2, "Reg Group"), (3, "UPN"), (3, "Legal Forename")
    ]  # fmt: skip
