"""Normalising what MIS exports contain: header spellings, year groups, dates, names,
whitespace, Unicode forms, ids."""

from __future__ import annotations

import sys
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from roster_helpers import HEADER, TODAY, UPNS, only, pupil, write_csv, write_xlsx

from provisioner.roster import clean_text, normalise_mis_id, read_roster
from provisioner.roster.columns import _ASCII_WHITESPACE, _OTHER_WHITESPACE, _SEP, _needs_cleaning
from provisioner.roster.rows import _given_twice, _mis_keys, _or_else
from provisioner.settings import RosterSettings

YEAR_SPELLINGS = {
    "N": ["Nursery", "Nur", "N", "nursery"],
    "N1": ["N1", "Nursery 1"],
    "N2": ["N2", "Nursery 2", "n2"],
    "R": ["R", "Rec", "Reception", "YR", "Year R", "rec", "RECEPTION", "Yr R"],
    "1": ["Y1", "Year 1", "1", "01", "Year One"],
    "3": [
        "Y3",
        "Yr3",
        "Yr 3",
        "Year 3",
        "Year Three",
        "3",
        "03",
        "3.0",
        "NC Year 3",
        "year  3",
        "Y 3",
        "YEAR THREE",
    ],
    "6": ["Year Six", "Y6", "Yr6", "6"],
    "10": ["Year 10", "Y10", "10", "Year Ten"],
    "14": ["Year 14", "14", "Y14"],
    "X": ["X", "x"],
}


def test_every_year_group_spelling(tmp_path: Path) -> None:
    rows, expected = [], []
    for code, spellings in YEAR_SPELLINGS.items():
        for spelling in spellings:
            n = len(rows)
            rows.append(pupil(adno=f"{n:06d}", upn="", year=spelling))
            expected.append((spelling, code))
    roster = read_roster(write_csv(tmp_path / "years.csv", rows), today=TODAY)
    assert roster.errors == []
    assert [(spelling, p.year_group) for (spelling, _), p in zip(expected, roster.pupils)] == expected


def test_year_groups_as_excel_numbers(tmp_path: Path) -> None:
    rows = [pupil(adno="1", upn=UPNS[0], year=3), pupil(adno="2", upn=UPNS[1], year=4.0),
            pupil(adno="3", upn=UPNS[2], year="R")]  # fmt: skip
    roster = read_roster(write_xlsx(tmp_path / "y.xlsx", rows), today=TODAY)
    assert [p.year_group for p in roster.pupils] == ["3", "4", "R"]


@pytest.mark.parametrize(
    "header",
    [
        ["Person_id", "UPN", "Forename", "Surname", "Known As", "NC Year", "Reg. Group", "DOB"],
        ["PERSON ID", "Unique Pupil Number", "legal first name", "LEGAL LAST NAME", "Chosen Name", "Year Group",
         "Form/Tutor Group", "Birth Date"],
        ["  admission no. ", "upn", "Legal_Forename", "Legal-Surname", "Preferred  Name", "Curriculum Year",
         "registration form", "date of birth"],
    ],
)  # fmt: skip
def test_header_aliases_ignore_case_spaces_and_punctuation(tmp_path: Path, header: list[str]) -> None:
    roster = read_roster(write_csv(tmp_path / "h.csv", [pupil(preferred="Mae")], header=header), today=TODAY)
    assert roster.errors == []
    (p,) = roster.pupils
    assert (p.key, p.forename, p.legal_forename, p.year_group, p.class_name) == (
        "mis:1001", "Mae", "Maisie", "3", "3A"
    )  # fmt: skip
    assert p.date_of_birth == date(2018, 3, 14)
    assert roster.columns["class_name"] == header[6].strip()


def test_middle_names_are_recognised_and_dropped(tmp_path: Path) -> None:
    header = [*HEADER, "Middle Name(s)"]
    roster = read_roster(
        write_csv(tmp_path / "m.csv", [[*pupil(), "Rose Evangeline"]], header=header), today=TODAY
    )
    assert "middle_names" not in roster.columns
    assert "Rose" not in repr(roster.pupils[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14/03/2018", date(2018, 3, 14)),
        ("4/3/2018", date(2018, 3, 4)),
        ("14-03-2018", date(2018, 3, 14)),
        ("14.03.2018", date(2018, 3, 14)),
        ("2018-03-14", date(2018, 3, 14)),
        ("2018-03-14 00:00:00", date(2018, 3, 14)),
        ("2018-03-14T09:30", date(2018, 3, 14)),
        ("14/03/2018 00:00", date(2018, 3, 14)),
        ("1 Sep 2017", date(2017, 9, 1)),
        ("01-Sep-2017", date(2017, 9, 1)),
        ("1 September 2017", date(2017, 9, 1)),
        ("1st Sept 2017", date(2017, 9, 1)),
        ("12/05/2018", date(2018, 5, 12)),  # day first, never 5 December
    ],
)
def test_dates_written_as_text(tmp_path: Path, text: str, expected: date) -> None:
    roster = read_roster(write_csv(tmp_path / "d.csv", [pupil(dob=text)]), today=TODAY)
    assert roster.errors == [] and roster.warnings == []
    assert roster.pupils[0].date_of_birth == expected


@pytest.mark.parametrize(
    ("text", "phrase"),
    [("09/25/2015", "month-first"), ("14/03/18", "in full"), ("1-Sep-17", "in full"), ("31/02/2018", "no such date"),
     ("2018/14/03", "month-first"), ("March 14 2018", "dd/mm/yyyy"), ("14/03/20188", "dd/mm/yyyy")],
)  # fmt: skip
def test_dates_that_are_refused(tmp_path: Path, text: str, phrase: str) -> None:
    roster = read_roster(write_csv(tmp_path / "d.csv", [pupil(dob=text)]), today=TODAY)
    assert phrase in only(roster.errors, 2, "Date of Birth").message
    assert roster.pupils == []


def test_excel_serial_saved_as_text_is_converted_with_a_warning(tmp_path: Path) -> None:
    roster = read_roster(write_csv(tmp_path / "d.csv", [pupil(dob="43173")]), today=TODAY)
    assert roster.pupils[0].date_of_birth == date(2018, 3, 14)
    assert "serial number" in only(roster.warnings, 2, "Date of Birth").message


def test_whitespace_is_trimmed_and_collapsed(tmp_path: Path) -> None:
    rows = [
        pupil(
            forename="  Mary\u00a0 Ann ", surname="Lloyd   Webber", reg=" 3A\u00a0", upn=" b801 2000 05001 "
        )
    ]
    (p,) = read_roster(write_csv(tmp_path / "w.csv", rows), today=TODAY).pupils
    assert (p.legal_forename, p.legal_surname, p.class_name) == ("Mary Ann", "Lloyd Webber", "3A")
    assert p.upn == "B801200005001"


def test_names_keep_apostrophes_hyphens_and_diacritics_exactly(tmp_path: Path) -> None:
    names = [("Zoë", "O’Brien"), ("Łukasz", "O'Neill"), ("José", "de la Cruz"), ("Siân", "Smith-Jones"),
             ("Dáithí", "Ní Bhriain"), ("Ayşe", "Öztürk")]  # fmt: skip
    rows = [pupil(adno=str(i), upn="", forename=f, surname=s) for i, (f, s) in enumerate(names)]
    roster = read_roster(write_xlsx(tmp_path / "n.xlsx", rows), today=TODAY)
    assert [(p.legal_forename, p.legal_surname) for p in roster.pupils] == names
    assert [(p.forename, p.surname) for p in roster.pupils] == names


def test_decomposed_unicode_comes_out_composed(tmp_path: Path) -> None:
    nfd = [unicodedata.normalize("NFD", s) for s in ("Zoë", "Brontë", "Siân")]
    assert nfd[0] != "Zoë"
    header = [*HEADER, "Preferred Surname"]
    rows = [[*pupil(forename=nfd[0], surname=nfd[1], preferred=nfd[2]), nfd[1]]]
    for path in (
        write_csv(tmp_path / "nfd.csv", rows, header=header),
        write_xlsx(tmp_path / "nfd.xlsx", rows, header=header),
    ):
        (p,) = read_roster(path, today=TODAY).pupils
        assert (p.legal_forename, p.legal_surname, p.preferred_forename, p.preferred_surname) == (
            "Zoë", "Brontë", "Siân", "Brontë"
        )  # fmt: skip
        assert p.forename == "Siân"


def test_ids_are_text_kept_as_written_and_keyed_without_leading_zeros(tmp_path: Path) -> None:
    rows = [pupil(adno="000123", upn=UPNS[0]), pupil(adno="ADM-0042/B", upn=UPNS[1])]
    roster = read_roster(write_csv(tmp_path / "ids.csv", rows), today=TODAY)
    assert [p.mis_id for p in roster.pupils] == ["000123", "ADM-0042/B"]
    assert [p.key for p in roster.pupils] == ["mis:123", "mis:ADM-0042/B"]  # zeros inside an id stay


@pytest.mark.parametrize(
    ("written", "compared"),
    [("001000", "1000"), ("1000", "1000"), (" 00 1000\u00a0", "1000"), ("000", "0"), ("0", "0"), ("", ""),
     ("adm-0042/b", "ADM-0042/B"), ("0A7", "A7")],
)  # fmt: skip
def test_normalise_mis_id(written: str, compared: str) -> None:
    assert normalise_mis_id(written) == compared


def test_an_id_with_or_without_leading_zeros_gives_the_same_key(tmp_path: Path) -> None:
    with_zeros = read_roster(write_csv(tmp_path / "a.csv", [pupil(adno="001000")]), today=TODAY).pupils[0]
    without = read_roster(write_xlsx(tmp_path / "b.xlsx", [pupil(adno=1000)]), today=TODAY).pupils[0]
    assert with_zeros.key == without.key == "mis:1000"
    assert (with_zeros.mis_id, without.mis_id) == ("001000", "1000")  # as written in each file


def test_preferred_names_and_the_legal_name_setting(tmp_path: Path) -> None:
    header = [*HEADER, "Preferred Surname"]
    rows = [[*pupil(adno="1", upn=UPNS[0], forename="Alexander", surname="Hartley", preferred="Alex"), ""],
            [*pupil(adno="2", upn=UPNS[1], forename="Jessica", surname="Okafor"), "Okafor-Reid"]]  # fmt: skip
    path = write_csv(tmp_path / "p.csv", rows, header=header)
    a, b = read_roster(path, today=TODAY).pupils
    assert (a.preferred_forename, a.preferred_surname) == ("Alex", "Hartley")  # blank preferred -> legal
    assert (a.forename, a.surname, b.forename, b.surname) == ("Alex", "Hartley", "Jessica", "Okafor-Reid")
    a, b = read_roster(path, RosterSettings(use_preferred_names=False), today=TODAY).pupils
    assert (a.forename, a.surname, b.forename, b.surname) == ("Alexander", "Hartley", "Jessica", "Okafor")


def test_gender_values(tmp_path: Path) -> None:
    header = [*HEADER, "Sex"]
    values = ["M", "male", "F", "Female", "X", "", "Not known"]
    rows = [[*pupil(adno=str(i), upn=""), v] for i, v in enumerate(values)]
    roster = read_roster(write_csv(tmp_path / "g.csv", rows, header=header), today=TODAY)
    assert [p.gender for p in roster.pupils] == ["M", "M", "F", "F", "X", None, "Not known"]


def test_optional_fields_and_blank_rows(tmp_path: Path) -> None:
    header = [*HEADER, "Enrolment Status", "Leaving Date", "Admission Date", "Email"]
    rows = [[*pupil(adno="1", upn=UPNS[0]), "C", "", "02/09/2021", " 000001@pupils.example.org "],
            ["", "", "", "", "", "", "", "", "", "", "", ""],
            [*pupil(adno="2", upn=UPNS[1]), "", "18/07/2025", "", ""]]  # fmt: skip
    roster = read_roster(write_csv(tmp_path / "o.csv", rows, header=header), today=TODAY)
    assert roster.errors == [] and roster.warnings == []
    a, b = roster.pupils
    assert (a.enrolment_status, a.leaving_date, a.admission_date, a.email) == (
        "C", None, date(2021, 9, 2), "000001@pupils.example.org"
    )  # fmt: skip
    assert (b.row, b.enrolment_status, b.leaving_date, b.admission_date, b.email) == (
        4,
        None,
        date(2025, 7, 18),
        None,
        None,
    )


_NAME_CHARS = st.sampled_from(list("abcdefzABCXYZ'’-. éëŁłŞşñöÖ") + ["\u00a0", "e\u0301", "\t"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.lists(_NAME_CHARS, min_size=1, max_size=20).map("".join))
def test_any_name_survives_a_csv_as_its_clean_form(tmp_path: Path, name: str) -> None:
    expected = " ".join(unicodedata.normalize("NFC", name).split())
    if not expected or expected.casefold() in {".", "-", "*"}:
        return  # blank or a single-name placeholder: covered by their own tests
    path = write_csv(tmp_path / "h.csv", [pupil(surname=name)], bom=True)
    roster = read_roster(path, today=TODAY)
    if expected[0] == "-" or not any(ch.isalpha() for ch in expected) or len(expected.split()) > 6:
        # Not a name: a formula's start, no letter at all, or more words than a name has.
        assert roster.pupils == [] and [(e.row, e.column) for e in roster.errors] == [(2, "Legal Surname")]
        return
    (p,) = roster.pupils
    assert p.legal_surname == expected == clean_text(name)
    assert unicodedata.is_normalized("NFC", p.legal_surname)


@given(st.lists(st.text(st.sampled_from("ab \t\n\r\x0b\x0c\x1c\x85\xa0\u2003\u3000\u200bé"), max_size=6), min_size=1))
def test_a_column_needs_cleaning_exactly_when_a_cell_does(cells: list[str]) -> None:
    # The reader looks at a whole column at once and cleans it cell by cell only when this says so.
    assert _needs_cleaning(_SEP.join(cells)) == any(" ".join(cell.split()) != cell for cell in cells)


def test_the_whitespace_the_reader_looks_for_is_what_python_splits_on() -> None:
    every = {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()} - {" "}
    assert set(_ASCII_WHITESPACE + _OTHER_WHITESPACE) == every


@given(st.lists(st.one_of(
    st.sampled_from(["", "0", "000", "00123", "0123", "123", "\u0663", "0\u0663", "\u00b2", " 01 2", "a01"]),
    st.text("0123456789", max_size=6),
)))
def test_a_column_of_mis_ids_gives_each_row_the_key_of_its_id_alone(ids: list[str]) -> None:
    # A column of digits alone is made keys by map: the same keys as each id normalised alone.
    assert _mis_keys(ids) == ["mis:" + normalise_mis_id(i) if i else "" for i in ids]


@given(st.lists(st.sampled_from(["", "a", "b", "A", "a "]), max_size=8))
def test_a_column_s_repeated_and_blank_cells_are_found_as_one_by_one(cells: list[str]) -> None:
    from collections import Counter

    others = [f"other {i}" for i in range(len(cells))]
    assert _given_twice(cells) == {cell for cell, count in Counter(cells).items() if count > 1}
    assert _or_else(cells, others) == [cell or other for cell, other in zip(cells, others)]
