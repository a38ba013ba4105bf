"""Reading the files MIS products export: Excel with title rows, CSV in several encodings
and delimiters, and files that cannot be read at all."""

from __future__ import annotations

import hashlib
import os
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from roster_helpers import HEADER, TODAY, UPNS, only, pupil, write_csv, write_xlsx

from provisioner.errors import RosterError
from provisioner.roster import read_roster
from provisioner.synthetic import ROW_FIELDS, synthetic_pupils, write_roster_csv, write_roster_xlsx
from provisioner.upn import upn_problem


def test_sims_xlsx_with_title_rows_and_real_date_cells(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "sims.xlsx",
        [
            ["001234", UPNS[0], "Maisie", "Thornbury", "", 3, "3A", date(2018, 3, 14)],
            ["004321", UPNS[1], "Tobias", "Fenwick-Hale", "Toby", "R", "Oak", datetime(2020, 11, 2, 0, 0)],
        ],
        title_rows=[["Greenfield Primary - Pupil List"], ["Report run 15/01/2026 by office"]],
    )
    roster = read_roster(path, today=TODAY)
    assert roster.errors == []
    assert roster.columns["class_name"] == "Reg Group"
    assert roster.columns["mis_id"] == "Adno"
    first, second = roster.pupils
    # The header is spreadsheet row 3, so the first pupil is row 4, as Excel shows it.
    assert (first.row, second.row) == (4, 5)
    assert first.key == "mis:1234" and first.mis_id == "001234"  # compared without the zeros
    assert first.year_group == "3" and second.year_group == "R"
    assert first.date_of_birth == date(2018, 3, 14)
    assert second.date_of_birth == date(2020, 11, 2)
    assert (second.forename, second.surname, second.legal_forename) == ("Toby", "Fenwick-Hale", "Tobias")
    assert roster.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_whole_numbers_in_excel_have_no_decimal_point(tmp_path: Path) -> None:
    # Excel stored the admission number and the year as numbers (leading zeros already lost).
    path = write_xlsx(
        tmp_path / "numbers.xlsx", [[1234, UPNS[0], "Maisie", "Thornbury", "", 3.0, "3A", None]]
    )
    (p,) = read_roster(path, today=TODAY).pupils
    assert p.mis_id == "1234" and p.key == "mis:1234"
    assert p.year_group == "3"


def test_1904_date_system(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "mac.xlsx",
        [pupil(dob=date(2018, 3, 14))],
        epoch=CALENDAR_MAC_1904,
    )
    roster = read_roster(path, today=TODAY)
    assert roster.pupils[0].date_of_birth == date(2018, 3, 14)


def test_number_in_an_excel_date_column_is_a_serial_converted_with_a_warning(tmp_path: Path) -> None:
    for name, epoch, serial in (("pc.xlsx", None, 43173), ("mac.xlsx", CALENDAR_MAC_1904, 43173 - 1462)):
        path = write_xlsx(tmp_path / name, [pupil(dob=serial)], epoch=epoch)
        roster = read_roster(path, today=TODAY)
        assert roster.pupils[0].date_of_birth == date(2018, 3, 14), name
        assert "serial number" in only(roster.warnings, 2, "Date of Birth").message


def test_reads_the_first_sheet_with_a_roster_header(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "two.xlsx", [pupil()], sheets_before=["Read me"])
    roster = read_roster(path, today=TODAY)
    assert [p.key for p in roster.pupils] == ["mis:1001"]
    assert roster.pupils[0].row == 2


def test_xlsm_is_read_like_xlsx(tmp_path: Path) -> None:
    xlsx = write_xlsx(tmp_path / "roster.xlsx", [pupil()])
    xlsm = tmp_path / "roster.xlsm"
    xlsm.write_bytes(xlsx.read_bytes())
    assert read_roster(xlsm, today=TODAY).pupils[0].key == "mis:1001"


def test_arbor_csv_utf8_bom_with_day_first_text_dates(tmp_path: Path) -> None:
    header = ["Student ID", "UPN", "Legal First Name", "Legal Last Name", "Preferred First Name", "Year",
              "Registration Form", "Date of Birth", "Date of Admission"]  # fmt: skip
    rows = [
        ["7001", UPNS[0], "Siân", "Ní Bhriain", "", "Year 3", "3B", "01/09/2017", "02/09/2021"],
        ["7002", UPNS[1], "Jérôme", "D'Souza", "Jem", "Year 6", "6A", "31/08/2015", "03/09/2019"],
    ]
    path = write_csv(tmp_path / "arbor.csv", rows, header=header, bom=True)
    roster = read_roster(path, today=TODAY)
    assert roster.errors == [] and roster.warnings == []
    a, b = roster.pupils
    assert (a.legal_forename, a.legal_surname) == ("Siân", "Ní Bhriain")
    assert a.date_of_birth == date(2017, 9, 1) and a.admission_date == date(2021, 9, 2)
    assert b.date_of_birth == date(2015, 8, 31)
    assert (b.forename, b.surname) == ("Jem", "D'Souza")
    assert roster.columns["mis_id"] == "Student ID"  # the BOM is not part of the first header


def test_bromcom_cp1252_csv_keeps_names_and_leading_zeros(tmp_path: Path) -> None:
    header = ["Admission Number", "UPN", "First Name", "Last Name", "Year Group", "Tutor Group"]
    rows = [
        ["000123", UPNS[0], "Zoë", "O’Brien", "Y4", "4M"],
        ["000042", UPNS[1], "Renée", "Smith-Jones", "YR", "RB"],
        ["012345", UPNS[2], "Chloé", "O'Neill", "Y6", "6F"],
    ]
    path = write_csv(tmp_path / "bromcom.csv", rows, header=header, encoding="cp1252")
    roster = read_roster(path, today=TODAY)
    assert roster.errors == []
    assert [(p.mis_id, p.legal_forename, p.legal_surname) for p in roster.pupils] == [
        ("000123", "Zoë", "O’Brien"),
        ("000042", "Renée", "Smith-Jones"),
        ("012345", "Chloé", "O'Neill"),
    ]
    assert [p.year_group for p in roster.pupils] == ["4", "R", "6"]
    (warning,) = roster.warnings
    assert warning.row is None and "Windows-1252" in warning.message


def test_utf8_without_bom_needs_no_warning(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "plain.csv", [pupil(forename="Łukasz", surname="Wiśniewski")])
    roster = read_roster(path, today=TODAY)
    assert roster.warnings == []
    assert roster.pupils[0].legal_forename == "Łukasz"


def test_utf16_with_bom(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u16.csv", [pupil(forename="Şükrü")], encoding="utf-16", delimiter="\t")
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    roster = read_roster(path, today=TODAY)
    assert roster.pupils[0].legal_forename == "Şükrü" and roster.warnings == []


@pytest.mark.parametrize(
    ("delimiter", "suffix"), [(";", ".csv"), ("\t", ".txt"), ("\t", ".tsv"), ("|", ".csv")]
)
def test_delimiters_are_sniffed(tmp_path: Path, delimiter: str, suffix: str) -> None:
    # Values that contain commas must not split when the delimiter is something else.
    rows = [pupil(surname="de la Cruz, Jr"), pupil(adno="001002", upn=UPNS[1], reg="Class 3, Oak")]
    path = write_csv(tmp_path / f"roster{suffix}", rows, delimiter=delimiter)
    roster = read_roster(path, today=TODAY)
    assert roster.errors == []
    assert [p.legal_surname for p in roster.pupils] == ["de la Cruz, Jr", "Thornbury"]
    assert roster.pupils[1].class_name == "Class 3, Oak"


def test_quoted_comma_in_a_comma_csv(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "q.csv", [pupil(reg="Y3/4, Willow")])
    assert read_roster(path, today=TODAY).pupils[0].class_name == "Y3/4, Willow"


def test_csv_row_numbers_count_blank_lines_and_title_lines(tmp_path: Path) -> None:
    path = tmp_path / "titled.csv"
    path.write_bytes(
        b"Pupil list,,,,,,,\r\n"
        b"\r\n"
        + ",".join(HEADER).encode()
        + b"\r\n001001,B801200005001,Maisie,Thornbury,,3,3A,14/03/2018\r\n"
        b",,,,,,,\r\n"
        b"001002,C823201718001,Tobias,Fenwick,,3,3A,29/02/2018\r\n"
        b"Total: 2,,,,,,,\r\n"
    )
    roster = read_roster(path, today=TODAY)
    assert [p.row for p in roster.pupils] == [4]
    error = only(roster.errors, 6)
    assert error.column == "Date of Birth" and "no such date" in error.message
    footer = only(roster.warnings, 7)
    assert footer.column is None and "ignored" in footer.message
    assert roster.invalid_rows == 1


def test_short_csv_records_are_padded(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_bytes(",".join(HEADER).encode() + b"\r\n001001,B801200005001,Maisie,Thornbury,,3,3A\r\n")
    (p,) = read_roster(path, today=TODAY).pupils
    assert p.date_of_birth is None and p.class_name == "3A"


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "roster.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(RosterError) as caught:
        read_roster(path)
    assert "unsupported" in caught.value.message and ".xlsx" in caught.value.hint


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RosterError) as caught:
        read_roster(tmp_path / "nope.xlsx")
    assert "not found" in caught.value.message and caught.value.hint


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".ods", ".xlsm"])
def test_corrupt_workbook_is_a_clean_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"roster{suffix}"
    path.write_bytes(os.urandom(3000))
    with pytest.raises(RosterError) as caught:
        read_roster(path)
    assert "cannot be read" in caught.value.message
    assert "save it again" in caught.value.hint


def test_truncated_xlsx_is_a_clean_error(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", [pupil()])
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(RosterError, match="cannot be read"):
        read_roster(bad)


def test_workbook_saved_with_a_csv_name(tmp_path: Path) -> None:
    xlsx = write_xlsx(tmp_path / "real.xlsx", [pupil()])
    path = tmp_path / "roster.csv"
    path.write_bytes(xlsx.read_bytes())
    with pytest.raises(RosterError) as caught:
        read_roster(path)
    assert "rename it to .xlsx" in caught.value.hint


# --- the synthetic generator and its writers ---------------------------------------------------


def test_synthetic_rosters_are_deterministic_and_plausible() -> None:
    rows = synthetic_pupils(500, seed=11, today=TODAY, leavers=5)
    assert rows == synthetic_pupils(500, seed=11, today=TODAY, leavers=5)
    assert rows != synthetic_pupils(500, seed=12, today=TODAY, leavers=5)
    assert all(tuple(r) == ROW_FIELDS for r in rows)  # only the canonical fields, nothing else
    assert len({r["mis_id"] for r in rows}) == 500 and len({r["upn"] for r in rows}) == 500
    assert all(len(r["mis_id"]) == 6 and r["mis_id"].startswith("0") for r in rows)
    assert all(upn_problem(r["upn"]) is None for r in rows)
    assert {r["year_group"] for r in rows} == {"N2", "R", "1", "2", "3", "4", "5", "6"}
    # 1 September cut-off: in 2025/26, Year 3 were born 1 Sep 2017 - 31 Aug 2018.
    year3 = [r["date_of_birth"] for r in rows if r["year_group"] == "3"]
    assert min(year3) >= date(2017, 9, 1) and max(year3) <= date(2018, 8, 31)
    leavers = [r for r in rows if r["leaving_date"]]
    assert len(leavers) == 5
    assert all(r["admission_date"] < r["leaving_date"] < TODAY for r in leavers)
    assert any("’" in r["legal_surname"] or "'" in r["legal_surname"] for r in rows)
    assert any(not r["legal_forename"].isascii() for r in rows)


def test_synthetic_xlsx_round_trips(tmp_path: Path) -> None:
    rows = synthetic_pupils(300, seed=3, today=TODAY, leavers=4)
    path = tmp_path / "sims.xlsx"
    write_roster_xlsx(path, rows)
    roster = read_roster(path, today=TODAY)
    assert roster.errors == [] and roster.invalid_rows == 0
    assert roster.pupils[0].row == 4  # two title rows, then the header
    fields = ("mis_id", "upn", "legal_forename", "legal_surname", "preferred_forename", "year_group",
              "class_name", "date_of_birth", "gender", "admission_date", "leaving_date")  # fmt: skip
    assert [{f: getattr(p, f) for f in fields} for p in roster.pupils] == [
        {f: r[f] for f in fields} for r in rows
    ]


def test_synthetic_csv_styles_round_trip(tmp_path: Path) -> None:
    rows = synthetic_pupils(200, seed=5, today=TODAY)
    arbor = tmp_path / "arbor.csv"
    write_roster_csv(arbor, rows, style="arbor")
    assert arbor.read_bytes().startswith(b"\xef\xbb\xbf")
    roster = read_roster(arbor, today=TODAY)
    assert roster.errors == []
    assert [(p.legal_surname, p.date_of_birth, p.email) for p in roster.pupils] == [
        (r["legal_surname"], r["date_of_birth"], r["email"]) for r in rows
    ]

    bromcom = tmp_path / "bromcom.csv"
    write_roster_csv(bromcom, rows, style="bromcom")
    roster = read_roster(bromcom, today=TODAY)

    def lost(value: str) -> bool:  # Excel's cp1252 CSV writes "?" for a letter it cannot hold
        return value.encode("cp1252", errors="replace") != value.encode("cp1252", errors="ignore")

    damaged = {i + 2: [h for f, h in (("legal_forename", "First Name"), ("legal_surname", "Last Name")) if lost(r[f])]
               for i, r in enumerate(rows)}  # fmt: skip
    damaged = {row: columns for row, columns in damaged.items() if columns}
    assert damaged, "the synthetic names include letters cp1252 cannot hold"
    # Such a name is refused, at its row and column; every other row is read as written.
    assert {(p.row, p.column) for p in roster.errors} == {(row, c) for row, cs in damaged.items() for c in cs}
    kept = [r for i, r in enumerate(rows) if i + 2 not in damaged]
    assert [(p.mis_id, p.legal_forename, p.legal_surname) for p in roster.pupils] == [
        (r["mis_id"], r["legal_forename"], r["legal_surname"]) for r in kept
    ]
