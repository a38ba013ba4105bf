"""Rosters made to mislead or to exhaust: a hidden first sheet, pupils split over sheets, files
far larger than any school's, a workbook that unzips to gigabytes, and names so long that
fitting them on a card could take minutes. Each is refused or warned about plainly, with no
traceback, and reading or drawing them costs in proportion to their size."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from data.hostile_corpus import OLE, far_cell, password_protected
from openpyxl import Workbook
from roster_helpers import HEADER, TODAY, UPNS, pupil, write_csv, write_xlsx
from typer.testing import CliRunner

from provisioner import slips
from provisioner.cli import app
from provisioner.errors import RosterError
from provisioner.roster import decode, read_roster
from provisioner.roster import rows as roster_rows

runner = CliRunner()


def workbook(path: Path, sheets: list[tuple[str, list[list], bool]]) -> Path:
    """An xlsx with these sheets: (title, rows with the header first, hidden)."""
    book = Workbook()
    book.remove(book.active)
    for title, rows, hidden in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if hidden:
            sheet.sheet_state = "hidden"
    book.active = next(i for i, (_, _, hidden) in enumerate(sheets) if not hidden)
    book.save(path)
    return path


def test_a_hidden_first_sheet_with_a_roster_is_refused(tmp_path):
    path = workbook(tmp_path / "roster.xlsx", [
        ("Last year", [HEADER, pupil()], True),
        ("Pupils", [HEADER, pupil(adno="001002", upn=UPNS[1]), pupil(adno="001003", upn=UPNS[2])], False),
    ])  # fmt: skip
    with pytest.raises(RosterError) as refused:
        read_roster(path, today=TODAY)
    assert "'Last year', is hidden in Excel" in refused.value.message
    assert "unhide" in refused.value.hint.lower()
    result = runner.invoke(app, ["roster", "check", str(path)])
    assert result.exit_code == 3 and "Traceback" not in result.output


def test_a_hidden_sheet_without_a_roster_is_no_matter(tmp_path):
    path = workbook(tmp_path / "roster.xlsx", [
        ("Lookups", [["Year codes"], ["R", "Reception"]], True),
        ("Pupils", [HEADER, pupil()], False),
    ])  # fmt: skip
    roster = read_roster(path, today=TODAY)
    assert len(roster.pupils) == 1 and not roster.warnings


def test_pupils_on_a_second_sheet_are_a_warning_naming_it(tmp_path):
    path = workbook(tmp_path / "roster.xlsx", [
        ("KS1", [HEADER, pupil()], False),
        ("KS2", [HEADER, pupil(adno="001002", upn=UPNS[1])], False),
    ])  # fmt: skip
    roster = read_roster(path, today=TODAY)
    assert [p.mis_id for p in roster.pupils] == ["001001"]
    [warning] = roster.warnings
    assert "only the sheet 'KS1' was read, but 'KS2' also has a roster's header row" in warning.message
    assert "would count as absent" in warning.message


def test_notes_on_an_earlier_sheet_are_still_passed_over(tmp_path):
    path = write_xlsx(tmp_path / "roster.xlsx", [pupil()], sheets_before=["Notes"])
    roster = read_roster(path, today=TODAY)
    assert len(roster.pupils) == 1 and not roster.warnings


@pytest.mark.parametrize("name", ["\u200b", "\ufeff\u2060", "\u00ad", "\u2060\u00ad\u200b"])
def test_a_name_of_only_invisible_characters_is_no_name(tmp_path, name):
    path = write_csv(tmp_path / "roster.csv", [pupil(forename=name)])
    roster = read_roster(path, today=TODAY)
    assert not roster.pupils
    [error] = [p for p in roster.errors if p.column == "Legal Forename"]
    assert error.row == 2


def test_a_name_longer_than_any_real_one_is_an_error_on_its_row(tmp_path):
    path = write_csv(tmp_path / "roster.csv", [pupil(), pupil(adno="001002", upn=UPNS[1], surname="A" * 20_000)])
    roster = read_roster(path, today=TODAY)
    assert len(roster.pupils) == 1
    [error] = roster.errors
    assert error.row == 3 and error.column == "Legal Surname"


def test_a_file_larger_than_any_roster_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(decode, "MAX_ROSTER_BYTES", 64 * 1024)
    path = write_csv(tmp_path / "roster.csv", [pupil()] + [pupil(adno=f"{i:06}") for i in range(2, 2000)])
    assert path.stat().st_size > 64 * 1024
    with pytest.raises(RosterError, match="a roster can be"):
        read_roster(path, today=TODAY)
    result = runner.invoke(app, ["roster", "check", str(path), "--json"])
    assert result.exit_code == 3 and "a roster can be" in result.output


def test_more_rows_than_any_roster_are_refused_as_they_are_read_naming_the_row(tmp_path, monkeypatch):
    monkeypatch.setattr(decode, "MAX_ROSTER_ROWS", 50)
    rows = [pupil(adno=f"{i:06}", upn="") for i in range(1, 60)]
    path = write_csv(tmp_path / "roster.csv", [rows[0], *[[""] * 8] * 500, *rows[1:]])
    with pytest.raises(RosterError) as refused:
        read_roster(path, today=TODAY)
    # Blank rows are not counted: the 51st row with something in it is the 552nd of the sheet.
    assert "more than 50 rows with something in them (row 552 is one more)" in refused.value.message
    result = runner.invoke(app, ["roster", "check", str(path), "--json"])
    assert result.exit_code == 3 and "rows with something in them" in result.output


def test_rows_up_to_the_limit_are_read(tmp_path, monkeypatch):
    monkeypatch.setattr(decode, "MAX_ROSTER_ROWS", 50)
    path = write_csv(tmp_path / "roster.csv", [pupil(adno=f"{i:06}", upn="") for i in range(1, 51)])
    assert len(read_roster(path, today=TODAY).pupils) == 50


def test_past_the_errors_listed_the_rest_are_counted_and_the_last_says_how_many(tmp_path, monkeypatch):
    """A file of garbage has errors in every row; the earliest rows' are listed, every one of
    each such row, and the last error says how many more there are; every row is still checked."""
    monkeypatch.setattr(roster_rows, "MAX_LISTED_PROBLEMS", 10)
    bad = [pupil(adno=f"{i:06}", upn="", year="Year 33", dob="31/02/2018") for i in range(1, 41)]
    roster = read_roster(write_csv(tmp_path / "roster.csv", bad), today=TODAY)
    assert roster.invalid_rows == 40 and roster.unlisted_errors > 0
    assert roster.error_count == 80, "two errors a row, all counted"
    *listed, last = roster.errors
    assert len(listed) + roster.unlisted_errors == 80
    assert last.row is None and f"{roster.unlisted_errors:,} more errors in rows after row" in last.message
    shown = {problem.row for problem in listed}
    assert all(sum(p.row == row for p in listed) == 2 for row in shown), "a row listed is listed whole"
    assert shown == set(range(2, max(shown) + 1)), "the earliest rows"
    result = runner.invoke(app, ["roster", "check", str(tmp_path / "roster.csv")])
    assert result.exit_code == 3 and "80 error(s) in 40 row(s)" in result.output


def test_a_csv_is_read_as_it_is_decoded_a_windows_1252_one_too(tmp_path):
    """The encoding is chosen over the whole file, a chunk at a time: a name in Windows-1252
    after the first megabyte still makes the file Windows-1252, read as such from its start."""
    good = [pupil(adno=f"{i:06}", upn="") for i in range(1, 25_001)]
    path = write_csv(tmp_path / "roster.csv", [*good, pupil(adno="025001", upn="", forename="Zoë")],
                     encoding="cp1252")  # fmt: skip
    assert path.stat().st_size > 1024 * 1024
    roster = read_roster(path, today=TODAY)
    assert len(roster.pupils) == 25_001 and roster.pupils[-1].legal_forename == "Zoë"
    assert [w.message[:53] for w in roster.warnings] == ["the file is not UTF-8, so it was read as Windows-1252"]


def zip_bomb(path: Path, unzipped: int) -> Path:
    """A real xlsx (openpyxl's) whose sheet is padded with ``unzipped`` bytes of spaces, which
    deflate to almost nothing: what a zip bomb disguised as a workbook looks like."""
    plain = io.BytesIO()
    write_xlsx(plain, [pupil()])
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * unzipped, 1)
            bomb.writestr(item.filename, data)
    return path


def test_a_workbook_that_unzips_to_far_more_than_a_roster_is_refused_as_it_unzips(tmp_path, monkeypatch):
    monkeypatch.setattr(decode, "MAX_UNZIPPED_BYTES", 4 * 1024 * 1024)
    path = zip_bomb(tmp_path / "roster.xlsx", 40 * 1024 * 1024)
    assert path.stat().st_size < 200 * 1024, "small on disk"
    with pytest.raises(RosterError, match="unzips to more than 4 MB"):
        read_roster(path, today=TODAY)
    result = runner.invoke(app, ["roster", "check", str(path)])
    assert result.exit_code == 3 and "unzips to more than" in result.output and "Traceback" not in result.output


def test_a_workbook_with_a_stray_cell_far_away_is_refused_before_it_is_read(tmp_path):
    """Read from A1 with every empty cell, one cell at XFD1048576 asked the workbook reader for
    550 GB and stopped the process with no answer at all."""
    path = tmp_path / "roster.xlsx"
    far_cell("XFD1048576")(path)
    assert path.stat().st_size < 20 * 1024
    with pytest.raises(RosterError) as refused:
        read_roster(path, today=TODAY)
    assert "reaching row 1,048,576 and column XFD" in refused.value.message
    assert "delete the rows below the pupils" in refused.value.hint
    result = runner.invoke(app, ["roster", "check", str(path), "--json"])
    assert result.exit_code == 3 and "Traceback" not in result.output


@pytest.mark.parametrize("reference", ["AZ3", "ZZ40", "A99000"])
def test_a_cell_right_or_down_within_the_limit_is_no_matter(tmp_path, reference):
    path = tmp_path / "roster.xlsx"
    far_cell(reference)(path)
    roster = read_roster(path, today=TODAY)
    assert len(roster.pupils) == 2


def test_a_padded_workbook_under_the_limit_is_read(tmp_path):
    path = zip_bomb(tmp_path / "roster.xlsx", 1024 * 1024)
    assert len(read_roster(path, today=TODAY).pupils) == 1


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".csv"])
def test_a_workbook_saved_with_a_password_is_named_as_such_whatever_its_name(tmp_path, suffix):
    """Excel's 'Encrypt with Password' writes an OLE compound file, as an old .xls is: the school
    is told to remove the password, not that the file is damaged."""
    path = tmp_path / f"roster{suffix}"
    password_protected([pupil()])(path)
    assert path.read_bytes().startswith(OLE) and decode.is_encrypted_workbook(path.read_bytes())
    with pytest.raises(RosterError) as refused:
        read_roster(path, today=TODAY)
    assert "protected with a password" in refused.value.message
    assert "remove the password" in refused.value.hint and ".xlsx" in refused.value.hint


def test_an_old_xls_or_a_damaged_file_is_not_taken_for_one_with_a_password(tmp_path):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(OLE + b"\x00" * 600)
    assert not decode.is_encrypted_workbook(path.read_bytes())
    with pytest.raises(RosterError, match=r"old Excel 97-2003 workbook \(\.xls\), or a damaged one"):
        read_roster(path, today=TODAY)


class CountingAdvances(dict):
    """A font's advance widths, counting how many characters are measured."""

    looked_up = 0

    def __getitem__(self, char):
        CountingAdvances.looked_up += 1
        return super().__getitem__(char)

    def __missing__(self, char):
        return 0.5


def measured(text: str, monkeypatch) -> int:
    face = slips.SANS_BOLD
    font = slips.metrics(face)
    monkeypatch.setattr(font, "by_char", CountingAdvances(font.by_char))
    CountingAdvances.looked_up = 0
    slips.fit(text, face, 40, (20, 12, 6), words=True, shorten=True)
    return CountingAdvances.looked_up


def test_fitting_a_name_on_a_card_costs_in_proportion_to_its_length(monkeypatch):
    short, long = measured("W" * 2_000, monkeypatch), measured("W" * 20_000, monkeypatch)
    assert long < 12 * short, f"ten times the text measured {long / short:.0f} times the characters"
