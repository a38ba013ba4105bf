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

A sheet of hundreds of thousands of rows (a trust's login cards) is written ``streamed``: its
XML is written here, row by row, straight into the zip, without openpyxl (whose work per cell,
even in its write-only mode, took 40 s for a trust's 300,000 rows of cards; this takes a few).
Such a workbook is styled only where the style shows (the bold header; wrapping on a row whose
text wraps; the quote prefix; Text format where the sheet asks for it), and each column is wide
enough for its longest value on one line (up to the widest column), so a row wraps only where a
value is longer than that. The file holds what openpyxl's write-only mode wrote (the same parts,
text as inline strings, the same styles, print setup and defined names), and the same rules keep
text text: every string is a string cell (``t="inlineStr"``), which no spreadsheet reads as a
formula or an error, and the quote prefix is set where a formula trigger starts it.
"""

from __future__ import annotations

import io
import itertools
import math
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
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
    if not sheets:
        raise ValueError("an xlsx needs at least one sheet")
    titles = [sheet.title.casefold() for sheet in sheets]
    if len(set(titles)) != len(titles):
        raise ValueError("sheet titles must differ (Excel ignores case)")
    if streamed:
        return _streamed_workbook(sheets)
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.creator = "provisioner"
    for sheet in sheets:
        _fill(workbook.create_sheet(sheet.title), sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _checked_rows(sheet: Sheet) -> list[Sequence[object]]:
    """The header and the rows, each with one value per column (else ValueError, naming the row)."""
    columns = len(sheet.header)
    rows = [list(sheet.header), *(row if isinstance(row, (list, tuple)) else list(row) for row in sheet.rows)]
    if set(map(len, rows)) != {columns}:
        number, values = next((n, values) for n, values in enumerate(rows) if len(values) != columns)
        raise ValueError(f"sheet {sheet.title!r} row {number}: {len(values)} values, {columns} columns")
    return rows


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
    """The rows of the first sheet of an xlsx this tool wrote, every cell as text ("" when empty).

    Read with python-calamine (the roster reader's), not openpyxl: a trust's paste sheet is read
    back for its passwords when the login cards are drawn, 50,000 rows, and openpyxl's cell
    objects took seconds. A cell reads as the roster reader reads it (``1234``, not ``1234.0``)."""
    import python_calamine

    from provisioner.roster.values import _cell_text

    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    finally:
        workbook.close()
    return [[_cell_text(value) for value in row] for row in rows]


# --- a streamed workbook, its XML written here ------------------------------------------------

SPREADSHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
WINDOWS_EPOCH = datetime(1899, 12, 30)
# Excel's number formats for what openpyxl writes as dates: (the format's id in the workbook, its code).
DATE_FORMATS = {date: (164, "yyyy-mm-dd"), datetime: (165, "yyyy-mm-dd h:mm:ss"), time: (166, "h:mm:ss")}
TEXT_FORMAT_ID = 49  # Excel's built-in Text format ("@")
XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
NEEDS_ESCAPING_RE = re.compile("[&<>]")
ROWS_A_WRITE = 2_000  # rows joined into one write to the zip
SHAPES_KEPT = 20_000  # the most row templates a sheet keeps by their values' lengths (``_write_sheet``)


def _xml_text(text: str) -> str:
    return text.translate(XML_ESCAPES) if NEEDS_ESCAPING_RE.search(text) else text


def column_letter(number: int) -> str:
    """1 is A, 27 is AA (openpyxl's get_column_letter, without loading openpyxl)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _excel_serial(value: date | datetime | time) -> float:
    """A date or time as Excel's serial number of days (openpyxl's ``to_excel``)."""
    if isinstance(value, time):
        return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400
    moment = value if isinstance(value, datetime) else datetime.combine(value, time())
    days = (moment - WINDOWS_EPOCH).days
    if 0 < days <= 60:  # Excel counts a 29 February 1900 that never was
        days -= 1
    fraction = (moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6) / 86400
    return days + fraction if fraction else days


class _Styles:
    """The cell formats a streamed workbook uses, each written once, numbered in order of first use
    (0, the plain cell, always there)."""

    def __init__(self) -> None:
        self.ids: dict[tuple[bool, bool, bool, int], int] = {(False, False, False, 0): 0}

    def of(self, *, bold: bool, wrap: bool, quote: bool, number_format: int) -> str:
        """The ``s`` attribute of a cell with these styles ("" for the plain cell)."""
        key = (bold, wrap, quote, number_format)
        if key not in self.ids:
            self.ids[key] = len(self.ids)
        number = self.ids[key]
        return f' s="{number}"' if number else ""

    def xml(self) -> str:
        formats = "".join(f'<numFmt numFmtId="{number}" formatCode="{code}"/>' for number, code in DATE_FORMATS.values())
        cells = []
        for bold, wrap, quote, number_format in self.ids:
            applied, alignment = (' applyAlignment="1"', '<alignment vertical="top" wrapText="1"/>') if wrap else ("", "")
            cells.append(f'<xf numFmtId="{number_format}" fontId="{int(bold)}" fillId="0" borderId="0" xfId="0"'
                         f'{applied} quotePrefix="{int(quote)}">{alignment}</xf>')  # fmt: skip
        return (f'<styleSheet xmlns="{SPREADSHEET_NS}"><numFmts count="{len(DATE_FORMATS)}">{formats}</numFmts>'
                '<fonts count="2"><font><name val="Calibri"/><family val="2"/><sz val="11"/></font>'
                '<font><b val="1"/><name val="Calibri"/><family val="2"/><sz val="11"/></font></fonts>'
                '<fills count="2"><fill><patternFill/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
                '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
                '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                f'<cellXfs count="{len(cells)}">{"".join(cells)}</cellXfs>'
                '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')  # fmt: skip


def _streamed_workbook(sheets: Sequence[Sheet]) -> bytes:
    """The workbook of ``xlsx_bytes(..., streamed=True)``: each sheet's XML written as it is made."""
    import zipfile

    styles = _Styles()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        names = []
        for number, sheet in enumerate(sheets, start=1):
            with archive.open(f"xl/worksheets/sheet{number}.xml", "w") as out:
                names.append(_write_sheet(out, sheet, styles, number - 1))
        sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
        overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{sheet_type}"/>'
                            for n in range(1, len(sheets) + 1))  # fmt: skip
        archive.writestr("[Content_Types].xml", (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            f"{overrides}</Types>"))  # fmt: skip
        archive.writestr("_rels/.rels", (
            f'<Relationships xmlns="{PACKAGE_RELATIONSHIPS_NS}">'
            f'<Relationship Id="rId1" Type="{RELATIONSHIPS_NS}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{PACKAGE_RELATIONSHIPS_NS}/metadata/core-properties" '
            'Target="docProps/core.xml"/></Relationships>'))  # fmt: skip
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        stamp = 'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' \
                'xsi:type="dcterms:W3CDTF"'  # fmt: skip
        archive.writestr("docProps/core.xml", (
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties">'
            '<dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">provisioner</dc:creator>'
            f"<dcterms:created {stamp}>{now}</dcterms:created><dcterms:modified {stamp}>{now}</dcterms:modified>"
            "</cp:coreProperties>"))  # fmt: skip
        listed = "".join(f'<sheet name="{_xml_text(sheet.title)}" sheetId="{n}" r:id="rId{n}"/>'
                         for n, sheet in enumerate(sheets, start=1))  # fmt: skip
        archive.writestr("xl/workbook.xml", (
            f'<workbook xmlns="{SPREADSHEET_NS}" xmlns:r="{RELATIONSHIPS_NS}"><workbookPr/>'
            '<bookViews><workbookView activeTab="0"/></bookViews>'
            f'<sheets>{listed}</sheets><definedNames>{"".join(names)}</definedNames>'
            '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'))  # fmt: skip
        parts = "".join(f'<Relationship Id="rId{n}" Type="{RELATIONSHIPS_NS}/worksheet" '
                        f'Target="/xl/worksheets/sheet{n}.xml"/>' for n in range(1, len(sheets) + 1))  # fmt: skip
        archive.writestr("xl/_rels/workbook.xml.rels", (
            f'<Relationships xmlns="{PACKAGE_RELATIONSHIPS_NS}">{parts}'
            f'<Relationship Id="rId{len(sheets) + 1}" Type="{RELATIONSHIPS_NS}/styles" Target="styles.xml"/>'
            "</Relationships>"))  # fmt: skip
        archive.writestr("xl/styles.xml", styles.xml())
    return buffer.getvalue()


# A row of text whose cells need none of a cell's care: no character an xlsx cannot hold or XML
# must escape, no cell starting with a formula trigger, none starting or ending with whitespace.
NEEDS_CARE_RE = re.compile(r"[\x00-\x1f&<>\ud800-\udfff\ufffe\uffff]")
TRIGGERS = itertools.repeat(QUOTE_PREFIX_TRIGGERS)
MAX_TEXT = 32_767  # Excel's longest text, where openpyxl cuts it
SEQUENCES = itertools.repeat((list, tuple))  # a row as ``_as_row`` takes it as it is
CHECKED_AT_ONCE = 10_000  # rows


def _carefree(values: Sequence[object]) -> bool:
    """Whether these values (a row's, or every cell's) are all text that needs no care (``NEEDS_CARE_RE``)."""
    try:
        joined = "".join(values)  # type: ignore[arg-type]
    except TypeError:  # a number, a date or an empty cell
        return False
    return (NEEDS_CARE_RE.search(joined) is None and max(map(len, values), default=0) <= MAX_TEXT
            and not any(map(str.startswith, values, TRIGGERS)) and all(map(str.__eq__, map(str.strip, values), values)))  # fmt: skip


# A block's cells joined by NUL (which no cell holds: counted), searched once for what
# ``_carefree`` looks for cell by cell: a character needing care, a cell starting with a formula
# trigger, or one starting or ending with whitespace (``\s`` is what ``str.strip`` takes away);
# a cell holding NUL, itself a trigger, makes the count come out wrong.
CELLS_APART = "\0"
_STARTING = "|".join(re.escape(trigger) for trigger in QUOTE_PREFIX_TRIGGERS if trigger != CELLS_APART)
BLOCK_CARE_RE = re.compile(rf"[\x01-\x1f&<>\ud800-\udfff\ufffe\uffff]|(?:^|\x00)(?:\s|{_STARTING})"
                           r"|\s(?:\x00|\Z)")  # fmt: skip


def _block_carefree(cells: list[object]) -> bool:
    """``_carefree(cells)``, with every cell looked at in one search of their text (a block's
    10,000 rows of a trust's cards are 70,000 cells)."""
    try:
        joined = CELLS_APART.join(cells)  # type: ignore[arg-type]
    except TypeError:  # a number, a date or an empty cell
        return False
    return (joined.count(CELLS_APART) == len(cells) - 1 and BLOCK_CARE_RE.search(joined) is None
            and max(map(len, cells), default=0) <= MAX_TEXT)  # type: ignore[arg-type]  # fmt: skip


def _as_row(row: Iterable[object]) -> Sequence[object]:
    return row if isinstance(row, (list, tuple)) else list(row)


def _cleaned_rows(sheet: Sheet, rows: Iterable[Sequence[object]]) -> tuple[int, list[bool], dict[int, list], list[int]]:
    """A first reading of the rows (``rows``, the sheet's): how many there are with the header;
    whether each is plain text (``_carefree``: written as it is, from a template); each other
    row's values as the cell holds them (``_cell_value``), by row number (the header's is 0);
    and each column's longest value in characters (``_width``). Raises ValueError, naming the
    row, for a row without one value per column, before anything is written.

    The rows are read CHECKED_AT_ONCE at a time, every cell of a block checked in a few calls
    (a trust's cards are all plain text), and only the rows needing care are kept: the writer
    reads the rows again, so a trust's 300,000 are never held at once."""
    width = len(sheet.header)
    header = [_cell_value(v) for v in sheet.header]
    carefree = [False]  # the header is styled
    cleaned: dict[int, list] = {0: header}
    longest = [0] * width
    rows = iter(rows)
    start = 1
    while block := list(itertools.islice(rows, CHECKED_AT_ONCE)):
        if not all(map(isinstance, block, SEQUENCES)):  # rows given as lists or tuples are taken as they are
            block = list(map(_as_row, block))
        if set(map(len, block)) != {width}:
            number, values = next((n, v) for n, v in enumerate(block, start=start) if len(v) != width)
            raise ValueError(f"sheet {sheet.title!r} row {number}: {len(values)} values, {width} columns")
        cells = list(itertools.chain.from_iterable(block))  # row after row
        if _block_carefree(cells):
            carefree += [True] * len(block)
            longest = [max(longest[c], *map(len, cells[c::width])) for c in range(width)]  # type: ignore[arg-type]
        else:
            for r, values in enumerate(block, start=start):
                if _carefree(values):
                    carefree.append(True)
                    longest = list(map(max, longest, map(len, values)))  # type: ignore[arg-type]
                    continue
                carefree.append(False)
                values = cleaned[r] = [_cell_value(v) for v in values]
                for c, value in enumerate(values):
                    if isinstance(value, str):
                        value = values[c] = value[:MAX_TEXT]
                    longest[c] = max(longest[c], _width(value))
        start += len(block)
    longest = [max(length, _width(value)) for length, value in zip(longest, header)]
    return start, carefree, cleaned, longest


def _write_sheet(out, sheet: Sheet, styles: _Styles, index: int) -> str:
    """Write one sheet's XML to ``out``; its defined names (the filter, the print titles) for the workbook.

    A row of plain text (most rows) is one string format of a template made once for its shape
    (which cells are empty, whether it wraps); any other row is written cell by cell."""
    # Read twice, the widths first: rows given as an iterator (read once) are kept in a list
    # here; a trust's cards come as an iterable making them afresh (``slips_xlsx_bytes``).
    rows = sheet.rows if iter(sheet.rows) is not sheet.rows else list(sheet.rows)
    count, carefree, cleaned, longest = _cleaned_rows(sheet, rows)
    if sheet.widths is not None:
        widths = list(sheet.widths)
    else:
        widths = [min(max(math.ceil(width / 0.9) + 2, MIN_WIDTH), sheet.max_width) for width in longest]
    letters = [column_letter(c) for c in range(1, len(widths) + 1)]
    # The longest value that stays on one line of its column (``_lines``).
    one_line = [max(1.0, width - 1) * 0.9 for width in widths]
    text_format = TEXT_FORMAT_ID if sheet.as_text else 0
    last = f"{letters[-1]}{count}"
    columns = "".join(f'<col min="{c}" max="{c}" width="{width}" customWidth="1"/>'
                      for c, width in enumerate(widths, start=1))  # fmt: skip
    out.write(
        f'<worksheet xmlns="{SPREADSHEET_NS}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1"/>'
        '<pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<dimension ref="A1:{last}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft" activeCell="A1" sqref="A1"/></sheetView></sheetViews>'
        f'<sheetFormatPr baseColWidth="8" defaultRowHeight="15"/><cols>{columns}</cols><sheetData>'.encode()
    )  # fmt: skip

    templates: dict[tuple[tuple[bool, ...], bool], str] = {}

    def template(shape: tuple[bool, ...], wraps: bool) -> str:
        """The row's XML as a format of its number ({0}), its height ({1}) and its values."""
        style = styles.of(bold=False, wrap=wraps, quote=False, number_format=text_format)
        value = itertools.count(2)
        cells = "".join(f'<c r="{letter}{{0}}"{style} t="inlineStr"><is><t>{{{next(value)}}}</t></is></c>' if present
                        else f'<c r="{letter}{{0}}"{style}/>' if style else ""
                        for letter, present in zip(letters, shape))  # fmt: skip
        height = ' ht="{1:g}" customHeight="1"' if wraps else ""
        return f'<row r="{{0}}"{height}>{cells}</row>'

    # A row's template and height depend only on its values' lengths, and a sheet's rows have
    # a few thousand sets of lengths (a class's cards, a platform's address): each worked out
    # once, up to SHAPES_KEPT of them (a sheet of rows all unlike each other keeps no more).
    by_lengths: dict[tuple[int, ...], tuple[str, float]] = {}

    def form_of(lengths: tuple[int, ...]) -> tuple[str, float]:
        wraps = any(map(float.__lt__, one_line, lengths))
        shape = tuple(map(bool, lengths))
        if (shape, wraps) not in templates:
            templates[shape, wraps] = template(shape, wraps)
        height = 0.0
        if wraps:
            lines = max(map(math.ceil, map(operator.truediv, lengths, one_line)))  # at least 2: it wraps
            height = min(lines * LINE_POINTS, MAX_ROW_POINTS)
        form = templates[shape, wraps], height
        if len(by_lengths) < SHAPES_KEPT:
            by_lengths[lengths] = form
        return form

    chunk: list[str] = []
    for r, (values, plain) in enumerate(zip(itertools.chain([sheet.header], rows), carefree), start=1):
        if not isinstance(values, (list, tuple)):  # ``_as_row``, without a call a row
            values = list(values)
        if plain:
            lengths = tuple(map(len, values))
            form, height = by_lengths.get(lengths) or form_of(lengths)
            chunk.append(form.format(r, height, *filter(None, values)))
        else:
            chunk.append(_row_xml(r, cleaned[r - 1], widths, styles, text_format))
        if len(chunk) == ROWS_A_WRITE:
            out.write("".join(chunk).encode())
            chunk = []
    out.write("".join(chunk).encode())
    footer = _xml_text(f"&L&8 {sheet.footer.replace('&', '&&')}" if sheet.footer else "")
    title = "'" + sheet.title.replace("'", "''") + "'"
    out.write(
        f'</sheetData><autoFilter ref="A1:{last}"/><printOptions gridLines="1"/>'
        '<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.5" header="0.5" footer="0.5"/>'
        f'<pageSetup orientation="{sheet.orientation}" paperSize="{PAPER_SIZES[sheet.paper]}" fitToHeight="0" '
        f'fitToWidth="{sheet.pages_wide}"/>'
        f'<headerFooter><oddFooter>{footer}{_xml_text("&R&8 Page &P of &N")}</oddFooter></headerFooter></worksheet>'.encode()
    )  # fmt: skip
    print_titles = f"{title}!$1:$1"
    if sheet.title_columns:
        print_titles += f",{title}!$A:${letters[sheet.title_columns - 1]}"
    return (f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" hidden="1">'
            f'{_xml_text(title)}!$A$1:${letters[-1]}${count}</definedName>'
            f'<definedName name="_xlnm.Print_Titles" localSheetId="{index}">{_xml_text(print_titles)}</definedName>')  # fmt: skip


def _row_xml(r: int, values: list[object], widths: list[int], styles: _Styles, text_format: int) -> str:
    """One row cell by cell: the header, and any row with a number, a date, an empty cell or text needing care."""
    header = r == 1
    lines = max((_lines(v, w) for v, w in zip(values, widths)), default=1)
    wrap = header or lines > 1
    cells = []
    for c, value in enumerate(values):
        if value is None:
            continue
        letter = column_letter(c + 1)
        if value == "":  # an empty cell, formatted as the row is (Text, where the sheet asks)
            style = styles.of(bold=header, wrap=wrap, quote=False, number_format=text_format)
            cells.append(f'<c r="{letter}{r}"{style}/>' if style else "")
            continue
        if isinstance(value, str):
            style = styles.of(bold=header, wrap=wrap, quote=value.startswith(QUOTE_PREFIX_TRIGGERS),
                              number_format=text_format)  # fmt: skip
            space = "" if value == value.strip() else ' xml:space="preserve"'
            cells.append(f'<c r="{letter}{r}"{style} t="inlineStr"><is><t{space}>{_xml_text(value)}</t></is></c>')
            continue
        number_format = text_format
        if isinstance(value, bool):
            kind, shown = "b", str(int(value))
        elif isinstance(value, (date, time)):  # a datetime is a date
            number_format = DATE_FORMATS[type(value) if type(value) in DATE_FORMATS else date][0]
            kind, shown = "n", repr(_excel_serial(value))
        else:
            kind, shown = "n", repr(value) if isinstance(value, float) else str(value)
        style = styles.of(bold=header, wrap=wrap, quote=False, number_format=number_format)
        cells.append(f'<c r="{letter}{r}"{style} t="{kind}"><v>{shown}</v></c>')
    height = f' ht="{min(lines * LINE_POINTS, MAX_ROW_POINTS):g}" customHeight="1"' if lines > 1 else ""
    return f'<row r="{r}"{height}>{"".join(cells)}</row>'
