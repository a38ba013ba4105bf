"""A roster file's bytes as rows of cells: text encodings, delimiters, CSV and workbooks.

Delimited text (.csv .txt .tsv) is decoded (a byte-order mark, else UTF-8, else the
Windows-1252 that Excel's plain 'CSV' writes, with a warning) and split on the delimiter under
which an early row reads most like a roster header, so the sniffing needs the header aliases.
Workbooks (.xlsx .xlsm .xls .ods) are read with python-calamine, sheet by sheet, keeping
leading blank rows so row numbers match what the school sees; an .xlsx saved with the 1904
date system (old Mac Excel) is detected here so serial dates convert from the right day, and
so are an .xlsx's formula cells, which calamine reads as the values they last showed.

A workbook saved with a password (Excel's 'Encrypt with Password') is not a zip at all but an
OLE compound file, the container an old Excel 97-2003 .xls also uses (both begin with the bytes
D0 CF 11 E0 A1 B1 1A E1); the compound file's directory tells them apart, an encrypted workbook
naming the streams EncryptionInfo and EncryptedPackage ([MS-OFFCRYPTO] 2.3.4), so the school is
told to remove the password rather than that its file is damaged.

Nothing here checks a value: a file that cannot be read at all raises RosterError, and
doubts about the whole file (the encoding) are returned as warnings.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

from provisioner.errors import RosterError
from provisioner.models import Problem
from provisioner.roster.headers import HEADER_SCAN_ROWS, _header_matches

WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")
TEXT_EXTENSIONS = (".csv", ".txt", ".tsv")

# How big a roster may be. A workbook is read whole, every cell a Python object, so a file far
# larger than any school's is refused before it is read (a CSV is read as it is decoded): a
# trust's export of 100,000 pupils is about 10 MB as CSV and 6 MB as xlsx, whose sheets unzip
# to about 60 MB. A workbook's parts are counted as they unzip, so a small file that would
# unzip to gigabytes (a "zip bomb") is refused after MAX_UNZIPPED_BYTES, not read whole.
MAX_ROSTER_BYTES = 50 * 1024 * 1024
MAX_UNZIPPED_BYTES = 300 * 1024 * 1024
# And how many rows with something in them: one and a half times the 100,000 pupils of the
# largest trust the tool is made for. A CSV is read a row at a time, keeping only the roster's
# columns of each row, so its memory grows with these rows, not with its bytes: 49 MB of short
# pupils' rows took 1.6 GB (and 49 MB of rows in error 13 GB) while it was read whole; past this
# many rows it is refused as it is read (bench/RESULTS.md, "Reading a roster in bounded memory").
MAX_ROSTER_ROWS = 150_000
_UNZIP_CHUNK = 1024 * 1024
_DECODE_CHUNK = 1024 * 1024
_SNIFF_CHARS = 65536  # the start of a text file searched for the delimiter


def check_size(path: Path) -> None:
    """Refuse a file larger than any roster (``MAX_ROSTER_BYTES``) before reading it."""
    size = path.stat().st_size
    if size > MAX_ROSTER_BYTES:
        raise RosterError(
            f"{path.name} is {size / 1024 / 1024:.0f} MB, more than the {MAX_ROSTER_BYTES // 1024 // 1024} MB "
            "a roster can be (a trust's 100,000 pupils are about 10 MB)",
            hint="check it is the pupil list exported from the MIS, with only the columns the roster needs",
        )


def too_many_rows(row: int) -> RosterError:
    """The refusal of a sheet whose row ``row`` is one more with something in it than any roster has."""
    return RosterError(
        f"the roster has more than {MAX_ROSTER_ROWS:,} rows with something in them (row {row} is one more), "
        f"more than any school or trust has pupils (a trust of 100,000 pupils has 100,000 rows)",
        hint="check it is the pupil list exported from the MIS, one row a pupil, and not another report",
    )


def _check_unzipped_size(data: bytes, name: str) -> dict[str, bool]:
    """A zipped workbook (xlsx, xlsm, ods) whose parts unzip to more than MAX_UNZIPPED_BYTES is
    refused, counting what each part really gives (not what its header claims), a chunk at a time.
    So is an .xlsx whose sheet reaches too far down or right (``_check_sheet_reach``).

    Returns each .xlsx sheet part read to its end and whether it has formulas at all (an "f>"
    somewhere), so ``_formula_cells`` need not unzip a sheet without any a second time."""
    scanned: dict[str, bool] = {}
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return scanned  # not a zip: the workbook reader says what is wrong with it
    total = 0
    try:
        with archive:
            for member in archive.infolist():
                sheet = member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")
                last_row, last_column, tail, formulas = 0, 0, b"", False
                with archive.open(member) as part:
                    while chunk := part.read(_UNZIP_CHUNK):
                        total += len(chunk)
                        if total > MAX_UNZIPPED_BYTES:
                            raise RosterError(
                                f"{name} unzips to more than {MAX_UNZIPPED_BYTES // 1024 // 1024} MB, far more "
                                "than any roster: it is damaged or not a real export",
                                hint="export the roster from the MIS again, or open it in Excel and save it "
                                "again as .xlsx",
                            )
                        if sheet:  # a reference cut between two chunks is whole in the tail and the next
                            window = tail + chunk
                            last_row = max(last_row, _last_row(window))
                            shape = window.translate(_SHAPES, _NOT_IN_SHAPES)  # searched first (see _SHAPES)
                            if _FAR_ROW_SHAPE in shape:
                                last_row = max(last_row, 0, *map(int, _FAR_ROW.findall(window)))
                            if _WIDE_COLUMN_SHAPE in shape:
                                last_column = max(last_column, 0, *map(_column_number, _WIDE_COLUMN.findall(window)))
                            formulas = formulas or _ends_a_formula(window)
                            tail = chunk[-32:]
                            _check_sheet_reach(name, last_row, last_column)
                if sheet:
                    if last_column > 26:  # rows written out of order would hide how far a wide sheet reaches
                        with archive.open(member) as part:
                            _check_sheet_reach(name, max(last_row, _highest_row(part)), last_column)
                    scanned[member.filename] = formulas
    except RosterError:
        raise
    except Exception:  # noqa: BLE001 - a damaged part (bad CRC, encrypted): the workbook reader says so
        return scanned
    return scanned


# How far a sheet may reach. The workbook reader (python-calamine) holds a sheet as every cell
# from A1 to its last row and column, empty ones included, so one stray cell at XFD1048576 in a
# file of a few kilobytes asked for 550 GB and stopped the process; a sheet reaching further than
# MAX_SHEET_CELLS (150,000 rows of 26 columns) is refused before it is read. Searching every
# cell's reference took a third as long as the whole read, so the sheet's last row is the last
# <row r="..."> (rows are written in order), and only references at row 100,000 or beyond, or in
# column AA or beyond, are searched for (a roster has few or none). Within 26 columns and 100,000
# rows a sheet is within the limit whatever its order; a sheet reaching further right has every
# reference read again for its highest row (``_highest_row``), as a file made to deceive may put
# its rows out of order.
MAX_SHEET_CELLS = 4_000_000
_FAR_ROW = re.compile(rb' r="[A-Z]{0,3}([0-9]{6,})"')  # a row's or a cell's reference, row 100,000 on
_WIDE_COLUMN = re.compile(rb' r="([A-Z]{2,3})[0-9]')  # a cell's reference in column AA or beyond
_ROW_NUMBER = re.compile(rb'<row r="([0-9]+)"')
_ANY_ROW = re.compile(rb' r="[A-Z]{0,3}([0-9]+)"')  # a row's or a cell's reference, any row
# The XML with each digit made 0 and each capital A, and every byte neither references need (a
# digit, a capital, ' r="') left out: a far reference (six digits and a quote) or a wide one (two
# capitals after ' r="') is found by two substring searches in C, and the two patterns above are
# run only on a piece holding one, as a roster's pieces seldom do. Left out, the tags, the
# lower-case names and the text around the references, the shape is half the XML: made and
# searched in about 40 ms where the whole XML's shape took 60 (a 50,000-pupil sheet's 26 MB). A
# reference keeps every byte of its own, so a piece holding one holds its shape still.
_SHAPES = bytes.maketrans(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"0" * 10 + b"A" * 26)
_NOT_IN_SHAPES = bytes(byte for byte in range(256) if byte not in b'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ r="')
_FAR_ROW_SHAPE, _WIDE_COLUMN_SHAPE = b'000000"', b' r="AA'
# Whether a sheet has formulas at all: an "f>" anywhere (``_formula_cells``). An "f" is rare in a
# sheet's XML (names hold a few, where their text is in the sheet), so each is found by ``find``,
# which skips to it a word at a time, and the byte after it looked at: 3 ms for the 26 MB of a
# 50,000-pupil sheet, where a pattern took 18 ms and a substring search, stepping along the many
# ">", 28. Past _F_LOOKED_AT in a piece (a sheet of text full of "f"), the pattern searches the rest.
_FORMULA_END = re.compile(rb"f>")
_F_LOOKED_AT = 1000


def _ends_a_formula(xml: bytes) -> bool:
    """Whether a piece of a sheet's XML holds "f>", the end of a formula (see _FORMULA_END)."""
    at = xml.find(b"f")
    for _ in range(_F_LOOKED_AT):
        if at < 0:
            return False
        if xml[at + 1 : at + 2] == b">":
            return True
        at = xml.find(b"f", at + 1)
    return at >= 0 and _FORMULA_END.search(xml, at) is not None


def _last_row(xml: bytes) -> int:
    """The number of the last <row r="..."> in a piece of a sheet's XML (0 if none)."""
    found = _ROW_NUMBER.match(xml, max(xml.rfind(b"<row r="), 0))
    return int(found[1]) if found else 0


def _highest_row(part) -> int:
    """The highest row any row or cell of a sheet's XML names, read a chunk at a time: a sheet
    reaching column AA or beyond is checked by it, since its last <row> need not be its highest
    (Excel writes them in order; a file made to look small need not)."""
    highest, tail = 0, b""
    while chunk := part.read(_UNZIP_CHUNK):
        window = tail + chunk
        highest = max(highest, 0, *map(int, _ANY_ROW.findall(window)))
        tail = chunk[-32:]
    return highest


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _check_sheet_reach(name: str, last_row: int, last_column: int) -> None:
    """Refuse a sheet whose cells from A1 to its last row and column (``last_row``: 0 where no row
    says its number; ``last_column``: 0 where no cell is in column AA or beyond) are more than
    MAX_SHEET_CELLS."""
    if (last_row or 99_999) * max(last_column, 26) <= MAX_SHEET_CELLS:
        return
    from provisioner.xlsx import column_letter  # the writer's, loaded only for this refusal (tests/test_startup.py)

    reach = " and ".join(([f"row {last_row:,}"] if last_row else [])
                         + ([f"column {column_letter(last_column)}"] if last_column else []))  # fmt: skip
    raise RosterError(
        f"{name} has a sheet reaching {reach}: read from A1, empty cells and all, that is more than "
        f"{MAX_SHEET_CELLS:,} cells, far more than any roster's (a trust's 100,000 pupils in 14 columns are "
        "1.4 million)",
        hint="open it in Excel, delete the rows below the pupils and the columns to the right of the roster "
        "(a stray cell far down or far to the right makes the sheet this large), save it and run again; or "
        "export the roster again from the MIS",
    )


# --- OLE compound files: an old .xls, or a workbook encrypted with a password ----------------

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAMS = {"EncryptionInfo", "EncryptedPackage"}
_LAST_SECTOR = 0xFFFFFFFA  # sector numbers from here on mark a chain's end or a free sector
_DIRECTORY_ENTRY = 128


def _compound_file_names(data: bytes) -> set[str]:
    """The names of the storages and streams in an OLE compound file's directory ([MS-CFB] 2.2
    to 2.6: the header's sector size, the FAT's sectors listed in the header and in any DIFAT
    sectors, the directory's chain of sectors through the FAT), or an empty set for a file too
    damaged to say."""
    try:
        shift = struct.unpack_from("<H", data, 0x1E)[0]
        if shift not in (9, 12):  # 512-byte sectors (version 3) or 4096-byte (version 4)
            return set()
        size = 1 << shift
        per_sector = size // 4
        sectors = (len(data) >> shift) + 1  # no chain is longer: a loop in a damaged one ends here
        fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
        difat, difat_count = struct.unpack_from("<II", data, 0x44)
        for _ in range(min(difat_count, sectors)):
            if difat >= _LAST_SECTOR:
                break
            entries = struct.unpack_from(f"<{per_sector}I", data, (difat + 1) * size)
            fat_sectors += entries[:-1]
            difat = entries[-1]
        fat_sectors = [sector for sector in fat_sectors if sector < _LAST_SECTOR]

        def next_sector(sector: int) -> int:
            fat = fat_sectors[sector // per_sector]
            return struct.unpack_from("<I", data, (fat + 1) * size + sector % per_sector * 4)[0]

        names = set()
        sector = struct.unpack_from("<I", data, 0x30)[0]
        for _ in range(sectors):
            if sector >= _LAST_SECTOR:
                break
            start = (sector + 1) * size
            for entry in range(start, start + size, _DIRECTORY_ENTRY):
                length = struct.unpack_from("<H", data, entry + 0x40)[0]  # in bytes, with its closing NUL
                if 2 < length <= 64 and length % 2 == 0:
                    names.add(data[entry : entry + length - 2].decode("utf-16-le", "replace"))
            sector = next_sector(sector)
        return names
    except (struct.error, IndexError):
        return set()


def is_encrypted_workbook(data: bytes) -> bool:
    """Whether the bytes are an Office document encrypted with a password: an OLE compound file
    holding an EncryptionInfo and an EncryptedPackage stream."""
    return data.startswith(OLE_MAGIC) and _ENCRYPTED_STREAMS <= _compound_file_names(data)


def _password_protected(name: str) -> RosterError:
    return RosterError(
        f"{name} is a workbook protected with a password, so it cannot be read",
        hint="open it in Excel, remove the password (File, Info, Protect Workbook, Encrypt with Password: clear "
        "the password, OK), save it as an Excel Workbook (.xlsx) and give that copy; keep the copy somewhere "
        "safe, as it is no longer protected",
    )


# --- delimited text ------------------------------------------------------------------------


def _encoding(data: bytes, name: str, warnings: list[Problem]) -> tuple[str, str]:
    """The text encoding to read the bytes in, and its errors setting ("strict", or "replace"
    where no encoding reads them all), after refusing a workbook or a file with NUL bytes. The
    text is decoded a chunk at a time here, to choose, and not kept."""
    head = data[:8]
    if is_encrypted_workbook(data):
        raise _password_protected(name)
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # zip (xlsx, ods) or OLE2 (xls)
        raise RosterError(
            f"{name} is a spreadsheet workbook, not a text file, "
            f"although its name ends in {Path(name).suffix}",
            hint="rename it to .xlsx (or .xls) and run again, or export the roster again as CSV",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):  # before UTF-16's: it begins the same
        encodings = ["utf-32"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        if b"\x00" in data[:4096]:
            raise RosterError(
                f"{name} does not look like a text (CSV) file: it contains NUL bytes",
                hint="export the roster from the MIS again as CSV (UTF-8), or give the Excel file",
            )
        encodings = ["utf-8", "cp1252"]
    for encoding in encodings:
        decodes, replaced = _decodes(data, encoding)
        if decodes:
            errors = "strict"
            break
    else:
        encoding, errors, replaced = encodings[-1], "replace", True
    if encoding == "cp1252":
        warnings.append(
            Problem(
                None,
                None,
                "the file is not UTF-8, so it was read as Windows-1252 (what Excel's 'CSV (Comma delimited)' "
                "writes): check that names with accents look right, or export as 'CSV UTF-8'",
                "warning",
            )
        )
    if replaced:
        warnings.append(
            Problem(
                None,
                None,
                "the file contains characters that could not be decoded (shown as \ufffd): names may be "
                "damaged; export the roster again as 'CSV UTF-8'",
                "warning",
            )
        )
    return encoding, errors


def _decodes(data: bytes, encoding: str) -> tuple[bool, bool]:
    """Whether the bytes read as text in the encoding, and whether that text holds U+FFFD (the
    character another program put in place of one it could not read); decoded a chunk at a time."""
    decoder = codecs.getincrementaldecoder(encoding)()
    replaced = False
    try:
        for start in range(0, len(data), _DECODE_CHUNK):
            replaced = "\ufffd" in decoder.decode(data[start : start + _DECODE_CHUNK]) or replaced
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False, False
    return True, replaced


def _text(data: bytes, encoding: str, errors: str) -> io.TextIOWrapper:
    """The bytes as a text stream, decoded as it is read (the bytes themselves are not copied)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors=errors, newline="")


def _sniff_delimiter(text: str, aliases: dict[str, str]) -> str:
    """The delimiter (, ; TAB |) under which some early row reads most like a roster header.
    ``text`` is the start of the file: more than ``_SNIFF_CHARS`` characters if the file has more."""
    sample = text[:_SNIFF_CHARS]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t", "|"):
        try:
            rows = []
            for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
                rows.append(row)
                if len(rows) >= HEADER_SCAN_ROWS:
                    break
        except csv.Error:
            continue
        score = max((_header_matches(row, aliases) for row in rows), default=0)
        if score > best_score:
            best, best_score = delimiter, score
    if best_score <= 0:  # no header recognised: the delimiter most used on the first line
        first = next((line for line in sample.splitlines() if line.strip()), "")
        best = max((",", ";", "\t", "|"), key=first.count)
    return best


def _text_rows(data: bytes, name: str, aliases: dict[str, str], warnings: list[Problem]) -> Iterator[list[str]]:
    """A delimited text file's rows, one at a time as they are read: a 50 MB file is never
    all in memory as text, nor all as rows (see read_roster). The encoding and the delimiter
    are chosen before the first row is given, so their warnings and refusals come first."""
    encoding, errors = _encoding(data, name, warnings)
    delimiter = _sniff_delimiter(_text(data, encoding, errors).read(_SNIFF_CHARS + 1), aliases)
    return _csv_rows(_text(data, encoding, errors), name, delimiter)


def _csv_rows(text: io.TextIOWrapper, name: str, delimiter: str) -> Iterator[list[str]]:
    reader = csv.reader(text, delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as exc:
        # csv's own limit on a cell (128 KB) keeps an enormous cell from filling the memory.
        why = "a cell is larger than any roster's (over 128 KB)" if "field limit" in str(exc) else str(exc)
        raise RosterError(
            f"{name} cannot be read as CSV: {why}, at line {reader.line_num}",
            hint="open it in Excel and save it again as 'CSV UTF-8', or give the Excel file",
        ) from None


def _read_text(data: bytes, name: str, aliases: dict[str, str], warnings: list[Problem]) -> list[list]:
    """All of a delimited text file's rows (a platform's pupil export, a few thousand rows)."""
    return list(_text_rows(data, name, aliases, warnings))


# --- workbooks -----------------------------------------------------------------------------


def _unreadable(name: str, suffix: str) -> RosterError:
    return RosterError(
        f"{name} cannot be read as a {suffix} spreadsheet: "
        f"the file is damaged or is not really a {suffix} file",
        hint="open it in Excel and save it again as .xlsx (or export the roster again from the MIS)",
    )


def _read_workbook(data: bytes, name: str, suffix: str, scanned: dict[str, bool] | None = None):
    """Yield each sheet's name, rows (lists of cells; row i is spreadsheet row i + 1, cell j
    column j + 1) and whether Excel hides it (a hidden sheet is one the school does not see).
    ``scanned`` is given what the size check found of each sheet part (``_check_unzipped_size``)."""
    import python_calamine

    if is_encrypted_workbook(data):
        raise _password_protected(name)
    found = _check_unzipped_size(data, name)
    if scanned is not None:
        scanned.update(found)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        count = len(workbook.sheet_names)
        hidden = [sheet.visible != python_calamine.SheetVisibleEnum.Visible for sheet in workbook.sheets_metadata]
    except python_calamine.PasswordError:  # an .xls whose sheets are encrypted inside the compound file
        raise _password_protected(name) from None
    except Exception:  # noqa: BLE001 - calamine raises many kinds for a damaged file; all mean that
        if data.startswith(OLE_MAGIC) and suffix != ".xls":
            raise RosterError(
                f"{name} is not a {suffix} workbook: it is an old Excel 97-2003 workbook (.xls), or a damaged one",
                hint="open it in Excel and save it as an Excel Workbook (.xlsx), or export the roster again from "
                "the MIS",
            ) from None
        raise _unreadable(name, suffix) from None
    failed = 0
    for index in range(count):
        try:
            # skip_empty_area=False keeps leading blank rows, so row numbers match the sheet.
            rows = workbook.get_sheet_by_index(index).to_python(skip_empty_area=False)
        except Exception:  # noqa: BLE001 - e.g. a chart sheet: look at the others
            failed += 1
            continue
        yield workbook.sheet_names[index], rows, hidden[index]
    if count and failed == count:
        raise _unreadable(name, suffix)


_FORMULA_CELL = re.compile(
    rb"<(?:\w+:)?c\b([^>]*)(?<!/)>\s*<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.DOTALL
)
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')


def _formula_cells(data: bytes, sheet_name: str, scanned: dict[str, bool] | None = None) -> dict[tuple[int, int], str]:
    """The formula cells of one sheet of an .xlsx/.xlsm workbook: (row index, column index), as
    in the rows ``_read_workbook`` yields, -> the formula ("=..."; "" for a shared one).

    python-calamine gives a formula cell's value as it was when the file was saved (or nothing,
    if no spreadsheet program ever calculated it), never saying it was a formula; a name that
    is really =HYPERLINK(...) would pass as the text it showed. So the sheet's XML is searched
    for the cells with an <f> element, which comes first in a cell. A sheet without formulas,
    the usual export, costs nothing more: ``scanned`` (``_check_unzipped_size``'s answer) says the
    size check, which unzips every sheet anyway, found no "f>" in it.
    """
    from xml.etree import ElementTree
    from xml.sax.saxutils import unescape

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            relations = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            rel_id = None
            for sheet in book.iter():  # by local name: "strict" workbooks use other namespaces
                if sheet.tag.rpartition("}")[2] == "sheet" and sheet.get("name") == sheet_name:
                    rel_id = next((v for k, v in sheet.attrib.items() if k.rpartition("}")[2] == "id"), None)
                    break
            target = next((r.get("Target", "") for r in relations if r.get("Id") == rel_id), "")
            if not target:
                return {}
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            if scanned is not None and scanned.get(path) is False:
                return {}  # the size check read the whole sheet and found no formula
            xml = archive.read(path)
    except Exception:  # noqa: BLE001 - calamine read the file; without its parts there is nothing to add
        return {}
    if b"f>" not in xml:  # every formula closes "</f>" (a shared formula's other cells refer to it)
        return {}
    found = {}
    for cell in _FORMULA_CELL.finditer(xml):
        ref = _CELL_REF.search(cell[1])
        if ref is None:
            continue  # a cell without a reference: rare, and then its place is not known
        column = 0
        for letter in ref[1]:
            column = column * 26 + letter - 64
        formula = unescape(cell[2].decode("utf-8", "replace")) if cell[2] else ""
        found[(int(ref[2]) - 1, column - 1)] = "=" + formula if formula else ""
    return found


def _uses_1904_dates(data: bytes) -> bool:
    """Whether an .xlsx/.xlsm workbook uses the 1904 date system (old Mac Excel)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read("xl/workbook.xml")
    except Exception:  # noqa: BLE001 - not a readable xlsx zip: then calamine decided the dates
        return False
    return re.search(rb'date1904="(1|true)"', xml) is not None
