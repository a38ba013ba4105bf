"""Helpers for the roster tests: write small synthetic roster files.

Every name here is made up. Files are written for real (openpyxl for xlsx, explicit bytes
for CSV) so the reader is tested on what a school would give it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from provisioner.models import Problem

TODAY = date(2026, 1, 15)  # spring term 2025/26: Year 3 were born 1 Sep 2017 - 31 Aug 2018

HEADER = [
    "Adno",
    "UPN",
    "Legal Forename",
    "Legal Surname",
    "Preferred Forename",
    "Year",
    "Reg Group",
    "Date of Birth",
]
# Valid UPNs (check letters computed with provisioner.upn; LA codes from the census list).
UPNS = ["B801200005001", "C823201718001", "R823201718002", "F823201718003", "V823201718004"]


def pupil(
    adno: str = "001001",
    upn: str = "B801200005001",
    forename: str = "Maisie",
    surname: str = "Thornbury",
    preferred: str = "",
    year: object = "Year 3",
    reg: str = "3A",
    dob: object = "14/03/2018",
) -> list:
    return [adno, upn, forename, surname, preferred, year, reg, dob]


def write_csv(
    path: Path,
    rows: list[list],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    bom: bool = False,
    header: list[str] | None = HEADER,
) -> Path:
    """A CSV written byte for byte: quoted only where needed, CRLF line ends like Excel."""

    def field(value: object) -> str:
        text = "" if value is None else str(value)
        if any(ch in text for ch in (delimiter, '"', "\n", "\r")):
            text = '"' + text.replace('"', '""') + '"'
        return text

    lines = ([header] if header else []) + rows
    text = "".join(delimiter.join(field(v) for v in line) + "\r\n" for line in lines)
    data = text.encode(encoding)
    if bom:
        data = {"utf-8": b"\xef\xbb\xbf"}.get(encoding, b"") + data
    path.write_bytes(data)
    return path


def write_xlsx(
    path: Path,
    rows: list[list],
    *,
    title_rows: list[list] = (),
    header: list[str] | None = HEADER,
    epoch=None,
    sheets_before: list[str] = (),
) -> Path:
    """An xlsx via openpyxl: optional title rows above the header, optional earlier sheets."""
    from openpyxl import Workbook

    wb = Workbook()
    if epoch is not None:
        wb.epoch = epoch
    first = wb.active
    for i, title in enumerate(sheets_before):
        ws = first if i == 0 else wb.create_sheet()
        ws.title = title
        ws.append(["These notes are not the roster."])
        ws.append(["Exported for the provisioning tool"])
    ws = wb.create_sheet("Pupils") if sheets_before else first
    for row in title_rows:
        ws.append(list(row))
    if header:
        ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def at(problems: list[Problem], row: int | None) -> list[Problem]:
    return [p for p in problems if p.row == row]


def only(problems: list[Problem], row: int | None = None, column: str | None = None) -> Problem:
    """The single problem at a row (and column); fails if there is not exactly one."""
    found = [p for p in problems if p.row == row and (column is None or p.column == column)]
    assert len(found) == 1, f"expected one problem at row {row} column {column}, got {found}"
    return found[0]
