"""The one way this tool writes an xlsx that a person will open.

Every text cell is stored as a string, never a formula: openpyxl turns any str that starts
with "=" into a formula (and "#N/A" and the like into error cells), so a pupil named
``=HYPERLINK(...)`` would otherwise run in Excel. Typed as a string the cell shows the value
unchanged, with no leading apostrophe. Cells that start with a formula trigger also get
Excel's "quote prefix" flag, so editing such a cell and pressing Enter keeps it text.

Every sheet also prints: text wraps in columns of at most 45 characters, each row as tall as its
longest wrapped cell (Excel does not grow a row that a file says nothing about), the header row
frozen and repeated on every printed page, and the sheet fitted to the paper's width (A4
landscape unless the sheet asks for another).

A sheet of hundreds of thousands of rows (a trust's login cards) is written ``streamed``:
through openpyxl's write-only mode, row by row, and styled only where the style shows (the
bold header; wrapping on a row whose text wraps; the quote prefix; Text format where the sheet
asks for it), and each column is wide enough for its longest value on one line (up to the
widest column), so a row wraps only where a value is longer than that. What the sheet holds and
how it prints are otherwise the same; it is written in less than half the time, since openpyxl's
styling of every cell is most of the cost of a normal write.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
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
MIN_WIDTH, MAX_WIDTH = 8, 45  # a longer text wraps within MAX_WIDTH characters
LINE_POINTS = 15.0  # the height of a line of 11-point text, in points
MAX_ROW_POINTS = 409.0  # Excel's tallest row
PAPER_SIZES = {"A4": 9, "A3": 8}  # openpyxl's Worksheet.PAPERSIZE_A4 and _A3 (imported only to write)
TEXT_FORMAT = "@"  # Excel's Text number format


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a bold, frozen, filterable header row, then the rows.

    ``widths`` are column widths in characters; left out, each column is sized to its
    longest value (within 8 to ``max_width`` characters; longer text wraps). It prints on
    ``paper`` ("A4" or "A3") in ``orientation`` ("landscape" or "portrait"), fitted to
    ``pages_wide`` pages across, the first ``title_columns`` columns repeated on each of them,
    with ``footer`` and the page number at the foot of each page. ``as_text``
    formats every cell as Text (number format ``@``), so Excel keeps a date or a leading zero as
    typed, even after an edit.
    """

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[object]]
    widths: Sequence[int] | None = None
    as_text: bool = False
    max_width: int = MAX_WIDTH
    paper: str = "A4"
    orientation: str = "landscape"
    pages_wide: int = 1
    title_columns: int = 0
    footer: str = ""

    def __post_init__(self) -> None:
        if not self.title or len(self.title) > MAX_TITLE_CHARS or INVALID_TITLE_RE.search(self.title):
            raise ValueError(
                f"sheet title {self.title!r} must be 1 to {MAX_TITLE_CHARS} characters without []:*?/\\"
            )
        if not self.header:
            raise ValueError(f"sheet {self.title!r} needs a header")
        if self.widths is not None and len(self.widths) != len(self.header):
            raise ValueError(f"sheet {self.title!r}: {len(self.widths)} widths, {len(self.header)} columns")
        if self.paper not in PAPER_SIZES or self.orientation not in ("landscape", "portrait"):
            raise ValueError(f"sheet {self.title!r}: paper is A4 or A3, orientation landscape or portrait")


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


def _lines(value: object, width: float) -> int:
    """How many lines ``value`` takes wrapped in a column ``width`` characters wide (a little
    generously, as a proportional font's widest letters are wider than a character)."""
    if value is None:
        return 1
    text = value if isinstance(value, str) else str(value)
    usable = max(1.0, width - 1) * 0.9
    return sum(max(1, math.ceil(len(line) / usable)) for line in text.split("\n")) or 1


def _width(value: object) -> int:
    if value is None:
        return 0
    text = value if isinstance(value, str) else str(value)
    return max((len(line) for line in text.splitlines()), default=0)


def xlsx_bytes(sheets: Sequence[Sheet], *, streamed: bool = False) -> bytes:
    """An xlsx workbook of ``sheets``, in order, as bytes; ``streamed`` for a very long sheet
    (see the module's docstring).

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
    workbook = Workbook(write_only=streamed)
    if not streamed:
        workbook.remove(workbook.active)
    workbook.properties.creator = "provisioner"
    for sheet in sheets:
        (_stream if streamed else _fill)(workbook.create_sheet(sheet.title), sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _checked_rows(sheet: Sheet) -> list[list[object]]:
    """The header and the rows, each with one value per column (else ValueError, naming the row)."""
    columns = len(sheet.header)
    rows = [list(sheet.header)]
    for number, row in enumerate(sheet.rows, start=1):
        values = list(row)
        if len(values) != columns:
            raise ValueError(f"sheet {sheet.title!r} row {number}: {len(values)} values, {columns} columns")
        rows.append(values)
    return rows


def _one_line_widths(sheet: Sheet, rows: list[list[object]]) -> list[int]:
    """Column widths in which each column's longest value stays on one line, as ``_lines``
    measures it (generously), up to the sheet's widest column; the sheet's own widths if it has them."""
    if sheet.widths is not None:
        return list(sheet.widths)
    widths = [0] * len(sheet.header)
    for values in rows:
        for c, value in enumerate(values):
            widths[c] = max(widths[c], _width(value))
    return [min(max(math.ceil(width / 0.9) + 2, MIN_WIDTH), sheet.max_width) for width in widths]


def _stream(ws, sheet: Sheet) -> None:
    """``_fill`` for a write-only sheet: the widths, panes, filter, print setup and each row's
    height are set before its rows are written, and a cell is styled only where it shows."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES, Cell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    rows = [[_cell_value(v) for v in values] for values in _checked_rows(sheet)]
    widths = _one_line_widths(sheet, rows)
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(widths))}{len(rows)}"
    _print_setup(ws, sheet)
    bold = Font(bold=True)
    wrapped = Alignment(wrap_text=True, vertical="top")

    @cache
    def style(header: bool, wraps: bool, trigger: bool):
        """Each combination of styles is made once (openpyxl's registering a style is the cost)."""
        template = WriteOnlyCell(ws)
        if header or wraps:
            template.alignment = wrapped
        if header:
            template.font = bold
        template.quotePrefix = trigger
        if sheet.as_text:
            template.number_format = TEXT_FORMAT
        return template._style

    def plain(value: object) -> bool:
        """openpyxl stores it as it is, unstyled: a number, a date, or text that is only text."""
        if not isinstance(value, str):
            return not sheet.as_text
        return not (sheet.as_text or value.startswith(QUOTE_PREFIX_TRIGGERS) or value[:1] == "="
                    or value in ERROR_CODES)  # fmt: skip

    def cell(value: object, *, header: bool, wraps: bool) -> object:
        text = isinstance(value, str)
        trigger = text and value.startswith(QUOTE_PREFIX_TRIGGERS)
        styled = Cell(ws, row=1, column=1, value=value, style_array=copy(style(header, wraps, trigger)))
        if text:
            styled.data_type = "s"  # after the value: setting it is what makes "=..." a formula
        return styled

    for r, values in enumerate(rows, start=1):
        lines = max((_lines(v, w) for v, w in zip(values, widths)), default=1)
        if lines > 1:
            ws.row_dimensions[r].height = min(lines * LINE_POINTS, MAX_ROW_POINTS)
        if r > 1 and lines == 1 and all(plain(v) for v in values):
            ws.append(values)
        else:  # every cell of the row a cell of its own: openpyxl writes a plain value after a styled
            # cell into that cell, with its style
            ws.append([None if v is None else cell(v, header=r == 1, wraps=lines > 1) for v in values])


def _fill(ws: Worksheet, sheet: Sheet) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    columns = len(sheet.header)
    rows = _checked_rows(sheet)
    widths = [0] * columns
    bold = Font(bold=True)
    wrapped = Alignment(wrap_text=True, vertical="top")
    for r, values in enumerate(rows, start=1):
        for c, raw in enumerate(values, start=1):
            value = _cell_value(raw)
            if value is None:
                continue
            cell = ws.cell(row=r, column=c)
            cell.value = value
            cell.alignment = wrapped
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
        widths = [min(max(width + 2, MIN_WIDTH), sheet.max_width) for width in widths]
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    for r, values in enumerate(rows, start=1):
        lines = max((_lines(_cell_value(v), w) for v, w in zip(values, widths)), default=1)
        if lines > 1:
            ws.row_dimensions[r].height = min(lines * LINE_POINTS, MAX_ROW_POINTS)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(columns)}{len(rows)}"
    _print_setup(ws, sheet)


def _print_setup(ws: Worksheet, sheet: Sheet) -> None:
    """The header row on every printed page, the sheet fitted to its pages across (as many pages
    down as it needs), on the sheet's paper and orientation."""
    from openpyxl.utils import get_column_letter

    ws.print_title_rows = "1:1"
    if sheet.title_columns:
        ws.print_title_cols = f"A:{get_column_letter(sheet.title_columns)}"
    ws.page_setup.paperSize = PAPER_SIZES[sheet.paper]
    ws.page_setup.orientation = sheet.orientation
    ws.page_setup.fitToWidth = sheet.pages_wide
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    if sheet.footer:
        ws.oddFooter.left.text = sheet.footer.replace("&", "&&")  # "&" starts a code in a footer
        ws.oddFooter.left.size = 8
    ws.oddFooter.right.text = "Page &P of &N"
    ws.oddFooter.right.size = 8


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
