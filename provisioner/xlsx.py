"""The one way this tool writes an xlsx that a person will open.

Every text cell is stored as a string, never a formula: openpyxl turns any str that starts
with "=" into a formula (and "#N/A" and the like into error cells), so a pupil named
``=HYPERLINK(...)`` would otherwise run in Excel. Typed as a string the cell shows the value
unchanged, with no leading apostrophe. Cells that start with a formula trigger also get
Excel's "quote prefix" flag, so editing such a cell and pressing Enter keeps it text.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner import files

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

# openpyxl is imported where a workbook is written, not here: it takes a tenth of a second to
# load, and most commands write no xlsx (tests/test_startup.py).

# What openpyxl refuses (its ILLEGAL_CHARACTERS_RE, the C0 controls but tab and line ends; a
# test holds the two together), plus what XML 1.0 cannot hold at all (lone surrogates,
# U+FFFE/U+FFFF), which openpyxl would write into a file Excel then "repairs".
OPENPYXL_ILLEGAL = r"[\000-\010]|[\013-\014]|[\016-\037]"
UNWRITABLE_RE = re.compile(OPENPYXL_ILLEGAL + "|[\ud800-\udfff\ufffe\uffff]")
# A leading CR is stored as LF (see clean_text), so LF counts as a trigger too.
QUOTE_PREFIX_TRIGGERS = (*files.FORMULA_TRIGGERS, "\n")
MAX_TITLE_CHARS = 31  # Excel refuses longer sheet titles
INVALID_TITLE_RE = re.compile(r"[\[\]:*?/\\]")
MIN_WIDTH, MAX_WIDTH = 8, 60
TEXT_FORMAT = "@"  # Excel's Text number format


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a bold, frozen, filterable header row, then the rows.

    ``widths`` are column widths in characters; left out, each column is sized to its
    longest value (within 8 to 60 characters). ``as_text`` formats every cell as Text (number
    format ``@``), so Excel keeps a date or a leading zero as typed, even after an edit.
    """

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[object]]
    widths: Sequence[int] | None = None
    as_text: bool = False

    def __post_init__(self) -> None:
        if not self.title or len(self.title) > MAX_TITLE_CHARS or INVALID_TITLE_RE.search(self.title):
            raise ValueError(
                f"sheet title {self.title!r} must be 1 to {MAX_TITLE_CHARS} characters without []:*?/\\"
            )
        if not self.header:
            raise ValueError(f"sheet {self.title!r} needs a header")
        if self.widths is not None and len(self.widths) != len(self.header):
            raise ValueError(f"sheet {self.title!r}: {len(self.widths)} widths, {len(self.header)} columns")


def clean_text(value: str) -> str:
    """Text as an xlsx can hold it: the control characters it cannot hold are removed, and
    line ends are LF (XML reads a raw CR as LF anyway; Excel breaks lines in a cell at LF).

    (openpyxl itself cuts text at Excel's 32,767 characters.)"""
    return UNWRITABLE_RE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def _cell_value(value: object) -> object:
    """A value openpyxl writes natively (number, date, bool), or text."""
    if value is None or isinstance(value, (bool, int, Decimal)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)  # NaN or inf would corrupt the file
    if isinstance(value, (datetime, time)):
        return value if value.tzinfo is None else value.isoformat()  # Excel has no time zones
    if isinstance(value, date):
        return value
    return clean_text(str(value))


def _width(value: object) -> int:
    if value is None:
        return 0
    text = value if isinstance(value, str) else str(value)
    return max((len(line) for line in text.splitlines()), default=0)


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """An xlsx workbook of ``sheets``, in order, as bytes.

    Text is always a string cell (never a formula or an error), whatever it starts with;
    characters an xlsx cannot hold are dropped. Every row must have one value per header
    column; raises ValueError otherwise, or for duplicate sheet titles or no sheets.
    """
    from openpyxl import Workbook

    if not sheets:
        raise ValueError("an xlsx needs at least one sheet")
    titles = [sheet.title.casefold() for sheet in sheets]
    if len(set(titles)) != len(titles):
        raise ValueError("sheet titles must differ (Excel ignores case)")
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.creator = "provisioner"
    for sheet in sheets:
        _fill(workbook.create_sheet(sheet.title), sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fill(ws: Worksheet, sheet: Sheet) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    columns = len(sheet.header)
    rows = [list(sheet.header)]
    for number, row in enumerate(sheet.rows, start=1):
        values = list(row)
        if len(values) != columns:
            raise ValueError(f"sheet {sheet.title!r} row {number}: {len(values)} values, {columns} columns")
        rows.append(values)
    widths = [0] * columns
    bold = Font(bold=True)
    for r, values in enumerate(rows, start=1):
        for c, raw in enumerate(values, start=1):
            value = _cell_value(raw)
            if value is None:
                continue
            cell = ws.cell(row=r, column=c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # after the value: setting it is what makes "=..." a formula
                if value.startswith(QUOTE_PREFIX_TRIGGERS):
                    cell.quotePrefix = True
            if sheet.as_text:
                cell.number_format = TEXT_FORMAT
            if r == 1:
                cell.font = bold
            widths[c - 1] = max(widths[c - 1], _width(value))
    if sheet.widths is not None:
        widths = list(sheet.widths)
    else:
        widths = [min(max(width + 2, MIN_WIDTH), MAX_WIDTH) for width in widths]
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(columns)}{len(rows)}"


def write_private_xlsx(path: Path, sheets: Sequence[Sheet]) -> None:
    """Write ``xlsx_bytes(sheets)`` to ``path`` atomically, owner-only on POSIX."""
    files.atomic_write_bytes(path, xlsx_bytes(sheets))


def text_rows(path: Path) -> list[list[str]]:
    """The rows of the first sheet of an xlsx this tool wrote, every cell as text ("" when empty)."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [["" if value is None else str(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
