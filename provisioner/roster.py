"""Read the pupil roster exported from the school's MIS (SIMS, Arbor, Bromcom...).

``read_roster`` accepts Excel/OpenDocument workbooks (.xlsx .xlsm .xls .ods, read with
python-calamine) and delimited text (.csv .txt .tsv). It finds the header row below any
report title rows, maps the school's header spellings to canonical field names, normalises
every value, and checks each row. Row problems are collected, never raised: a row with an
error is left out of ``Roster.pupils``. Problems with the file as a whole raise RosterError.

Messages name the row (as the spreadsheet shows it) and the column header, never a pupil's
name, id or date of birth.
"""

from __future__ import annotations

import csv
import difflib
import gc
import hashlib
import io
import re
import unicodedata
import zipfile
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

from provisioner.errors import EmptyRosterError, RosterError
from provisioner.models import YEAR_GROUPS, Problem, Pupil, Roster
from provisioner.settings import RosterSettings
from provisioner.upn import la_code_known, upn_problem

WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")
TEXT_EXTENSIONS = (".csv", ".txt", ".tsv")

FIELDS: tuple[str, ...] = (
    "mis_id", "upn", "legal_forename", "legal_surname", "preferred_forename", "preferred_surname",
    "year_group", "class_name", "date_of_birth", "gender", "admission_date", "leaving_date",
    "enrolment_status", "email",
)  # fmt: skip
REQUIRED: tuple[str, ...] = ("legal_forename", "legal_surname", "year_group", "class_name")
DROPPED = "middle_names"  # recognised so it is not mistaken for anything else, then dropped
IGNORE = "ignore"  # a [roster.columns] value: skip this column
_SETTING_SYNONYMS = {"class": "class_name", "dob": "date_of_birth"}

# Header spellings seen in MIS exports (uk-school-data.md §1.6). Matching ignores case,
# spaces and punctuation, so "Person_id", "PERSON ID" and "Reg. Group" all match.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "upn": ("UPN", "Unique Pupil Number"),
    "mis_id": (
        "Adno", "Admission No", "Admission Number", "Admissions Number", "Person_id", "Person ID",
        "Pupil ID", "Student ID", "MIS ID", "Id",
    ),
    "legal_forename": ("Legal Forename", "Forename", "Legal First Name", "First Name", "FirstName", "Given Name"),
    "legal_surname": ("Legal Surname", "Surname", "Legal Last Name", "Last Name", "LastName", "Family Name"),
    "preferred_forename": (
        "Preferred Forename", "Preferred First Name", "Preferred Name", "Known As", "Known As First Name",
        "Chosen Name",
    ),
    "preferred_surname": ("Preferred Surname", "Preferred Last Name", "Known As Surname"),
    "middle_names": ("Middle Names", "Middle Name(s)", "Middle Name"),
    "date_of_birth": ("DOB", "Date of Birth", "Birth Date"),
    "gender": ("Gender", "Sex"),
    "year_group": ("Year", "Year Group", "NC Year", "NC Year Actual", "Year Taught In", "Curriculum Year"),
    "class_name": (
        "Reg Group", "Registration Group", "Reg", "Form", "Registration Form", "Tutor Group",
        "Form/Tutor Group", "Class",
    ),
    "admission_date": (
        "Admission Date", "Date of Admission", "Admissions Date", "Enrolment Date", "Entry Date", "Start Date",
    ),
    "leaving_date": ("Leaving Date", "Date of Leaving", "End Date"),
    "enrolment_status": ("Enrolment Status", "Enrol Status", "Registration Type"),
    "email": ("Email", "School Email Address", "Pupil Email", "Email Address"),
}  # fmt: skip

LABELS = {
    "mis_id": "MIS id (admission number)", "upn": "UPN", "legal_forename": "legal forename",
    "legal_surname": "legal surname", "preferred_forename": "preferred forename",
    "preferred_surname": "preferred surname", "year_group": "year group", "class_name": "class",
    "date_of_birth": "date of birth", "gender": "gender", "admission_date": "admission date",
    "leaving_date": "leaving date", "enrolment_status": "enrolment status", "email": "email address",
}  # fmt: skip

HEADER_SCAN_ROWS = 30
_HEADER_MIN_MATCHES = 3
DATE_FIELDS = ("date_of_birth", "admission_date", "leaving_date")
NAME_FIELDS = ("legal_forename", "legal_surname", "preferred_forename", "preferred_surname")
PLACEHOLDERS = frozenset({".", "-", "*", "nfn", "fnu", "lnu"})
_FORMULA_START = ("=", "+", "@", "-")
_GENDERS = {"m": "M", "male": "M", "f": "F", "female": "F"}
_EXCEL_EPOCH_1900 = date(1899, 12, 30)
_EXCEL_EPOCH_1904 = date(1904, 1, 1)


def fold_header(text: str) -> str:
    """Header text reduced to lower-case letters and digits, for alias matching."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def clean_text(text: str) -> str:
    """NFC, trimmed, each whitespace run (NBSP included) collapsed to one space."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


# --- year groups ---------------------------------------------------------------------------

_NUMBER_WORDS = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen",
)  # fmt: skip


def _year_group_spellings() -> dict[str, str]:
    """Folded spelling (lower case, no spaces) -> canonical code."""
    out: dict[str, str] = {}
    prefixes = ("", "y", "yr", "year", "yeargroup", "ncyear", "nc")
    for code, words in {
        "N": ("n", "nur", "nurs", "nursery"),
        "N1": ("n1", "nur1", "nursery1"),
        "N2": ("n2", "nur2", "nursery2"),
        "R": (
            "r",
            "rec",
            "reception",
            *(p + r for p in ("y", "yr", "year", "ncyear") for r in ("r", "rec", "reception")),
        ),
        "X": ("x", "yearx", "ncyearx", "outofyear"),
    }.items():
        for word in words:
            out[word] = code
    for n in range(1, 15):
        spellings = {str(n), f"{n:02d}", f"{n}.0", f"{n:02d}.0"}
        for prefix in prefixes:
            for spelling in spellings:
                out[prefix + spelling] = str(n)
            out[prefix + _NUMBER_WORDS[n - 1]] = str(n)
    assert set(out.values()) <= set(YEAR_GROUPS)
    return out


YEAR_GROUP_SPELLINGS = _year_group_spellings()


def parse_year_group(text: str) -> str | None:
    """Canonical year-group code (models.YEAR_GROUPS) for a spelling, or None."""
    return YEAR_GROUP_SPELLINGS.get(text.casefold().replace(" ", "").replace("_", ""))


# --- dates ---------------------------------------------------------------------------------

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_ISO_RE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME)
_DMY_RE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d+)" + _TIME)
_DMONY_RE = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[ -]([a-z]+)\.?,?[ -](\d+)" + _TIME, re.IGNORECASE)
_SERIAL_RE = re.compile(r"\d{5}(?:\.0+)?")

_DAY_FIRST = "write it day first, as dd/mm/yyyy (e.g. 01/09/2015), or as yyyy-mm-dd"
MSG_TWO_DIGIT_YEAR = f"the year has only two digits: write the year in full; {_DAY_FIRST}"
MSG_MONTH_FIRST = (
    "the month would be over 12: this looks like a month-first (US) date, which is never guessed; "
    + _DAY_FIRST
)
MSG_NO_SUCH_DATE = f"there is no such date: check the day and month; {_DAY_FIRST}"
MSG_BAD_DATE = f"not a date this tool can read: {_DAY_FIRST}; month-first dates are not accepted"
MSG_SERIAL = (
    "this date was saved as an Excel serial number and has been converted: check it, and format "
    "the column as a date in the export"
)


def _make_date(year: int, month: int, day: int) -> tuple[date | None, str | None]:
    try:
        return date(year, month, day), None
    except ValueError:
        if month > 12 and day <= 12:
            return None, MSG_MONTH_FIRST
        return None, MSG_NO_SUCH_DATE


def _serial_date(serial: float, epoch: date) -> date | None:
    if serial < 61 and epoch == _EXCEL_EPOCH_1900:  # before the 1900 leap-year bug: not a pupil's date
        return None
    try:
        return epoch + timedelta(days=int(serial))
    except OverflowError:
        return None


def parse_date_text(text: str) -> tuple[date | None, str | None, str | None]:
    """(date, error, warning) for a date written as text, day first. Never guesses month-first."""
    if len(text) == 10 and text[2] == "/" and text[5] == "/":  # dd/mm/yyyy, the common case
        d, m, y = text[:2], text[3:5], text[6:]
        if d.isdigit() and m.isdigit() and y.isdigit():
            value, error = _make_date(int(y), int(m), int(d))
            return value, error, None
    match = _ISO_RE.fullmatch(text)
    if match:
        value, error = _make_date(int(match[1]), int(match[3]), int(match[4]))
        return value, error, None
    match = _DMY_RE.fullmatch(text)
    if match:
        year = match[4]
        if len(year) == 2:
            return None, MSG_TWO_DIGIT_YEAR, None
        if len(year) != 4:
            return None, MSG_BAD_DATE, None
        value, error = _make_date(int(year), int(match[3]), int(match[1]))
        return value, error, None
    match = _DMONY_RE.fullmatch(text)
    if match:
        month = _MONTHS.get(match[2].casefold())
        if month is None:
            return None, MSG_BAD_DATE, None
        year = match[3]
        if len(year) == 2:
            return None, MSG_TWO_DIGIT_YEAR, None
        if len(year) != 4:
            return None, MSG_BAD_DATE, None
        value, error = _make_date(int(year), month, int(match[1]))
        return value, error, None
    if _SERIAL_RE.fullmatch(text):
        value = _serial_date(float(text), _EXCEL_EPOCH_1900)
        if value is not None:
            return value, None, MSG_SERIAL
    return None, MSG_BAD_DATE, None


# --- reading files -------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    """A cell as text: whole numbers without ".0", dates as yyyy-mm-dd."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    if value is None:
        return ""
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)  # type: ignore[union-attr]
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is datetime:
        if value.time() == datetime.min.time():  # type: ignore[union-attr]
            return value.date().isoformat()  # type: ignore[union-attr]
        return value.isoformat(sep=" ")  # type: ignore[union-attr]
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return str(value)


def _blank(value: object) -> bool:
    return value is None or value == "" or (type(value) is str and value.isspace())


def _decode(data: bytes, name: str, warnings: list[Problem]) -> str:
    head = data[:8]
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):  # zip (xlsx, ods) or OLE2 (xls)
        raise RosterError(
            f"{name} is a spreadsheet workbook, not a text file, "
            f"although its name ends in {Path(name).suffix}",
            hint="rename it to .xlsx (or .xls) and run again, or export the roster again as CSV",
        )
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
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
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        encoding = encodings[-1]
        text = data.decode(encoding, errors="replace")
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
    if "\ufffd" in text:
        warnings.append(
            Problem(
                None,
                None,
                "the file contains characters that could not be decoded (shown as \ufffd): names may be "
                "damaged; export the roster again as 'CSV UTF-8'",
                "warning",
            )
        )
    return text


def _sniff_delimiter(text: str, aliases: dict[str, str]) -> str:
    """The delimiter (, ; TAB |) under which some early row reads most like a roster header."""
    sample = text[:65536]
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


def _read_text(data: bytes, name: str, aliases: dict[str, str], warnings: list[Problem]) -> list[list]:
    text = _decode(data, name, warnings)
    delimiter = _sniff_delimiter(text, aliases)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise RosterError(
            f"{name} cannot be read as CSV: {exc}",
            hint="open it in Excel and save it again as 'CSV UTF-8', or give the Excel file",
        ) from None


def _unreadable(name: str, suffix: str) -> RosterError:
    return RosterError(
        f"{name} cannot be read as a {suffix} spreadsheet: "
        f"the file is damaged or is not really a {suffix} file",
        hint="open it in Excel and save it again as .xlsx (or export the roster again from the MIS)",
    )


def _read_workbook(data: bytes, name: str, suffix: str):
    """Yield each sheet's rows (lists of cells; row i is spreadsheet row i + 1)."""
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        count = len(workbook.sheet_names)
    except python_calamine.PasswordError:
        raise RosterError(
            f"{name} is protected with a password",
            hint="save an unprotected copy in a safe place and give that file",
        ) from None
    except Exception:  # noqa: BLE001 - calamine raises many kinds for a damaged file; all mean that
        raise _unreadable(name, suffix) from None
    failed = 0
    for index in range(count):
        try:
            # skip_empty_area=False keeps leading blank rows, so row numbers match the sheet.
            rows = workbook.get_sheet_by_index(index).to_python(skip_empty_area=False)
        except Exception:  # noqa: BLE001 - e.g. a chart sheet: look at the others
            failed += 1
            continue
        yield rows
    if count and failed == count:
        raise _unreadable(name, suffix)


def _uses_1904_dates(data: bytes) -> bool:
    """Whether an .xlsx/.xlsm workbook uses the 1904 date system (old Mac Excel)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            xml = archive.read("xl/workbook.xml")
    except Exception:  # noqa: BLE001 - not a readable xlsx zip: then calamine decided the dates
        return False
    return re.search(rb'date1904="(1|true)"', xml) is not None


# --- header --------------------------------------------------------------------------------


def _alias_map(settings: RosterSettings) -> dict[str, str]:
    """Folded header text -> canonical field (or DROPPED / IGNORE); settings take precedence."""
    aliases = {fold_header(alias): field for field, names in HEADER_ALIASES.items() for alias in names}
    allowed = (*FIELDS, DROPPED, IGNORE)
    for header, target in settings.columns.items():
        canonical = target.strip()
        canonical = _SETTING_SYNONYMS.get(canonical.casefold(), canonical)
        if canonical not in allowed:
            raise RosterError(
                f"[roster.columns] maps the header {header!r} to {target!r}, which is not a field name; "
                f"allowed names: {', '.join(allowed)}",
                hint=f'fix provisioner.toml, e.g. [roster.columns] "{header}" = "class_name"',
            )
        folded = fold_header(header)
        if not folded:
            raise RosterError(
                f"[roster.columns] has a header {header!r} with no letters or digits",
                hint="write the header text as it appears in the roster file",
            )
        aliases[folded] = canonical
    return aliases


def _header_matches(row: list, aliases: dict[str, str]) -> int:
    n = 0
    for cell in row:
        if type(cell) is str and cell and aliases.get(fold_header(cell), IGNORE) != IGNORE:
            n += 1
    return n


def _find_header(rows: list[list], aliases: dict[str, str]) -> int | None:
    """Index of the header row: the first of the top rows with several known headers."""
    fallback = None
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        matches = _header_matches(row, aliases)
        if matches >= _HEADER_MIN_MATCHES:
            return index
        if matches >= 2 and fallback is None:
            fallback = index
    return fallback


def _guess_columns(missing: list[str], headers: list[str]) -> list[tuple[str, str]]:
    """(header, field) pairs where an unrecognised header looks like an alias of a missing field."""
    guesses = []
    for field in missing:
        candidates = ("mis_id", "upn") if field not in FIELDS else (field,)
        folded = {fold_header(a): f for f in candidates for a in HEADER_ALIASES[f]}
        for header in headers:
            close = difflib.get_close_matches(fold_header(header), list(folded), n=1, cutoff=0.7)
            if close:
                guesses.append((header, folded[close[0]]))
                break
    return guesses


def _map_columns(header: list, aliases: dict[str, str]) -> dict[str, tuple[int, str]]:
    """Canonical field -> (column index, header text). Raises for ambiguous or missing columns."""
    found: dict[str, tuple[int, str]] = {}
    unrecognised: list[str] = []
    seen: list[str] = []
    for index, cell in enumerate(header):
        text = clean_text(_cell_text(cell))
        if not text:
            continue
        seen.append(text)
        field = aliases.get(fold_header(text))
        if field is None:
            unrecognised.append(text)
            continue
        if field in (IGNORE, DROPPED):
            continue
        if field in found:
            first = found[field][1]
            raise RosterError(
                f"ambiguous columns: both '{first}' and '{text}' hold the {field} field; "
                "the tool cannot tell which to use",
                hint=(
                    "remove one of them from the export, or tell the tool to skip one in provisioner.toml: "
                    f'[roster.columns] "{text}" = "ignore"'
                ),
                problems=[Problem(None, text, f"same field ({field}) as column '{first}'")],
            )
        found[field] = (index, text)
    missing = [field for field in REQUIRED if field not in found]
    if "mis_id" not in found and "upn" not in found:
        missing.insert(0, "mis_id or upn")
    if missing:

        def example(field: str) -> str:
            names = HEADER_ALIASES.get(field) or HEADER_ALIASES["mis_id"][:1] + HEADER_ALIASES["upn"][:1]
            return f"{field} (e.g. {' or '.join(repr(n) for n in names[:2])})"

        shown = ", ".join(repr(h) for h in seen[:40]) + (" ..." if len(seen) > 40 else "")
        guesses = _guess_columns(missing, unrecognised)
        example_setting = " ".join(f'"{h}" = "{f}"' for h, f in guesses) or '"Reg Grp" = "class_name"'
        raise RosterError(
            f"required columns missing: {', '.join(example(f) for f in missing)}. Headers found: {shown}",
            hint=(
                "add the columns to the MIS report, or say which header holds each field in "
                f"provisioner.toml, e.g. [roster.columns] {example_setting}"
            ),
            problems=[Problem(None, None, f"required column missing: {f}") for f in missing],
        )
    return found


# --- the reader ----------------------------------------------------------------------------

MSG_FORMULA = (
    "looks like a spreadsheet formula (starts with =, +, -, @, a tab or a carriage return): check the "
    "cell in the MIS; files made for people to open will neutralise it"
)
MSG_LOST_LETTER = (
    "contains '?' or an undecodable character, often a letter lost when the file was saved in an "
    "encoding that could not hold it: check the name in the MIS, and export as 'CSV UTF-8'"
)
MSG_FOOTER = "ignored: only one cell is filled in (a total or a note, not a pupil)"
MSG_NO_PUPILS = "refused: the roster has no pupils"
HINT_NO_PUPILS = (
    "export the pupil list from the MIS again; an empty export is never taken to mean that everyone left"
)
_BLANK_MESSAGES = {
    "legal_forename": (
        "the legal forename is blank: fill it in (for a pupil with only one name, put the name here "
        "and '.' in the surname)"
    ),
    "legal_surname": (
        "the legal surname is blank: fill it in, or put '.' in the surname for a pupil with only one name"
    ),
    "year_group": "the year group is blank: fill it in",
    "class_name": "the class is blank: fill it in (every pupil needs a registration class)",
    "mis_id": "the MIS id (admission number) is blank: every pupil needs one; fill it in from the MIS",
    "upn": "the UPN is blank: every pupil needs one when the roster has no MIS id (admission number) column",
}
MSG_DATE_IN_TEXT_COLUMN = (
    "this cell holds a date, not text: Excel may have changed it (a class such as 3/4 becomes a date); "
    "type it as text in the export"
)
MSG_UNKNOWN_LA = "the UPN's LA code (characters 2 to 4) is not one the school census accepts: check the UPN"
MSG_BOTH_PLACEHOLDERS = (
    "the legal forename and surname are both placeholders: put the pupil's name in the forename, "
    "and '.' in the surname for a pupil with only one name"
)
MSG_EMAIL = "does not look like an email address (it needs exactly one @): check it"
_YEAR_ALLOWED = (
    "use N1, N2 or N (nursery), R (reception), 1 to 14 (written e.g. 3, Y3, Year 3) or X (out of year)"
)


def read_roster(path: Path, settings: RosterSettings | None = None, today: date | None = None) -> Roster:
    """Read and check a roster export. See the module docstring."""
    settings = settings or RosterSettings()
    today = today or date.today()
    path = Path(path)
    aliases = _alias_map(settings)
    name = path.name
    suffix = path.suffix.lower()
    if not path.is_file():
        raise RosterError(
            f"roster file not found: {path}" if not path.exists() else f"{path} is not a file",
            hint="check the path, or export the pupil list from the MIS again",
        )
    if suffix not in WORKBOOK_EXTENSIONS + TEXT_EXTENSIONS:
        raise RosterError(
            f"{name}: unsupported file type '{suffix or '(none)'}'",
            hint="export the roster as Excel or CSV; accepted: "
            + " ".join(WORKBOOK_EXTENSIONS + TEXT_EXTENSIONS),
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RosterError(
            f"cannot read {path}: {exc.strerror or exc}", hint="check the file is not open elsewhere"
        ) from None
    sha256 = hashlib.sha256(data).hexdigest()
    with _gc_paused():
        return _read(path, data, sha256, suffix, aliases, settings, today)


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while a roster is read.

    Reading makes a few hundred thousand long-lived objects and next to no garbage; left on,
    the collector rescans them again and again (about 10% of a 50,000-pupil read).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read(
    path: Path,
    data: bytes,
    sha256: str,
    suffix: str,
    aliases: dict[str, str],
    settings: RosterSettings,
    today: date,
) -> Roster:
    name = path.name
    warnings: list[Problem] = []

    if suffix in TEXT_EXTENSIONS:
        sheets = iter([_read_text(data, name, aliases, warnings)]) if data.strip() else iter([])
    else:
        sheets = _read_workbook(data, name, suffix)

    rows: list[list] | None = None
    header_index = None
    any_content = False
    for sheet in sheets:
        if not any_content and any(not _blank(c) for row in sheet for c in row):
            any_content = True
        header_index = _find_header(sheet, aliases)
        if header_index is not None:
            rows = sheet
            break
    if rows is None or header_index is None:
        if not any_content:
            raise EmptyRosterError(
                f"{MSG_NO_PUPILS}: {name} is empty",
                hint=HINT_NO_PUPILS,
                problems=[Problem(None, None, MSG_NO_PUPILS)],
            )
        raise RosterError(
            f"{name}: no header row found (looked for column names such as 'UPN', 'Legal Forename', "
            f"'Year', 'Reg Group' in the first {HEADER_SCAN_ROWS} rows of each sheet)",
            hint=(
                "check this is the pupil list and that it has a header row; for unusual header names, say "
                'which field each holds in provisioner.toml, e.g. [roster.columns] "Reg Grp" = "class_name"'
            ),
        )

    columns = _map_columns(rows[header_index], aliases)
    epoch = (
        _EXCEL_EPOCH_1904 if suffix in (".xlsx", ".xlsm") and _uses_1904_dates(data) else _EXCEL_EPOCH_1900
    )
    pupils, errors, row_warnings, invalid, pupil_rows = _read_rows(
        rows, header_index, columns, settings, today, epoch
    )
    warnings.extend(row_warnings)
    if pupil_rows == 0:
        raise EmptyRosterError(
            f"{MSG_NO_PUPILS}: {name} has a header row but no pupil rows",
            hint=HINT_NO_PUPILS,
            problems=[Problem(None, None, MSG_NO_PUPILS), *warnings],
        )
    return Roster(
        source=str(path),
        pupils=pupils,
        errors=errors,
        warnings=warnings,
        columns={field: header for field, (_, header) in columns.items()},
        sha256=sha256,
        invalid_rows=invalid,
    )


_SEP = "\x00"  # joins a column for whole-column checks; never whitespace, never in a cell
_NEEDS_CLEANING = re.compile(r"[^\S ]|  |^ | $| \x00|\x00 ")  # whitespace other than single inner spaces


def _text_column(
    cells: list, numbers: list[int], field: str, header: str, warnings: list[Problem]
) -> list[str]:
    """One column as clean text (see clean_text); warns about formula-like and date cells.

    Whole-column checks done in C find the usual case (nothing to change) without looking
    at each cell in Python.
    """
    kinds = set(map(type, cells))
    if kinds == {str}:
        joined = _SEP.join(cells)
        if _NEEDS_CLEANING.search(joined) or not unicodedata.is_normalized("NFC", joined):
            out = [" ".join(v.split()) if v.isascii() else clean_text(v) for v in cells]
            suspects = [i for i, v in enumerate(cells) if v[:1] in ("\t", "\r")]
        else:
            out = cells
            suspects = []
    else:
        out = [
            (" ".join(v.split()) if v.isascii() else clean_text(v))
            if type(v) is str
            else clean_text(_cell_text(v))
            for v in cells
        ]
        if date in kinds or datetime in kinds:
            for i in [i for i, v in enumerate(cells) if type(v) is date or type(v) is datetime]:
                warnings.append(Problem(numbers[i], header, MSG_DATE_IN_TEXT_COLUMN, "warning"))
        suspects = [i for i, v in enumerate(cells) if type(v) is str and v[:1] in ("\t", "\r")]
    joined = _SEP + _SEP.join(out)
    if any(_SEP + c in joined for c in _FORMULA_START):
        suspects += [i for i, t in enumerate(out) if t[:1] in _FORMULA_START]
    for i in sorted(set(suspects)):
        if field in NAME_FIELDS and out[i] in PLACEHOLDERS:  # "-" alone: a pupil with one name
            continue
        warnings.append(Problem(numbers[i], header, MSG_FORMULA, "warning"))
    return out


def _date_column(
    cells: list,
    numbers: list[int],
    field: str,
    header: str,
    epoch: date,
    errors: list[Problem],
    warnings: list[Problem],
    bad: set[int],
) -> list[date | None]:
    """One column as dates (None when blank or unreadable; unreadable is an error)."""
    out: list[date | None] = [v if type(v) is date else None for v in cells]
    label = LABELS[field]
    for i in [i for i, v in enumerate(cells) if type(v) is not date and v != "" and v is not None]:
        raw = cells[i]
        kind = type(raw)
        value = error = warning = None
        if kind is datetime:
            value = raw.date()
        elif kind is str:
            text = clean_text(raw)
            if text:
                if text[0] in _FORMULA_START or raw[0] in "\t\r":
                    warnings.append(Problem(numbers[i], header, MSG_FORMULA, "warning"))
                value, error, warning = parse_date_text(text)
        elif (kind is float or kind is int) and 10000 <= raw <= 99999 and raw == int(raw):
            value, warning = _serial_date(raw, epoch), MSG_SERIAL
        else:
            error = MSG_BAD_DATE
        if error:
            errors.append(Problem(numbers[i], header, f"{label}: {error}"))
            bad.add(i)
        if warning:
            warnings.append(Problem(numbers[i], header, f"{label}: {warning}", "warning"))
        out[i] = value
    return out


def _read_rows(
    rows: list[list],
    header_index: int,
    columns: dict[str, tuple[int, str]],
    settings: RosterSettings,
    today: date,
    epoch: date,
) -> tuple[list[Pupil], list[Problem], list[Problem], int, int]:
    """Check the rows below the header. Columns are cleaned a column at a time (fast), then
    each row is checked as a whole."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    width = max(col for col, _ in columns.values()) + 1
    numbers: list[int] = []
    data: list[list] = []
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        filled = 0
        for cell in row:
            if cell != "" and cell is not None and not (type(cell) is str and cell.isspace()):
                filled += 1
                if filled > 1:
                    break
        if filled == 0:
            continue
        if filled == 1:
            warnings.append(Problem(index + 1, None, MSG_FOOTER, "warning"))
            continue
        if len(row) < width:  # a short CSV record
            row = [*row, *([""] * (width - len(row)))]
        numbers.append(index + 1)
        data.append(row)
    if not data:
        return [], errors, warnings, 0, 0

    bad: set[int] = set()
    blank = [""] * len(data)
    text: dict[str, list[str]] = {}
    dates: dict[str, list[date | None]] = {}
    for field, (col, header) in columns.items():
        cells = [row[col] for row in data]
        if field in DATE_FIELDS:
            dates[field] = _date_column(cells, numbers, field, header, epoch, errors, warnings, bad)
        else:
            text[field] = _text_column(cells, numbers, field, header, warnings)
    nodates = [None] * len(data)

    header_of = {f: h for f, (_, h) in columns.items()}
    key_field = "mis_id" if "mis_id" in columns else "upn"
    key_prefix = "mis:" if key_field == "mis_id" else "upn:"
    key_header = header_of[key_field]
    upn_header = header_of.get("upn")
    use_preferred = settings.use_preferred_names
    seen_keys: dict[str, int] = {}
    seen_upns: dict[str, tuple[int, str]] = {}
    # The first of two clashing rows is as doubtful as the second: key -> (column, message)
    clashes: dict[str, tuple[str, str]] = {}
    placeholders = PLACEHOLDERS
    year_spellings = YEAR_GROUP_SPELLINGS
    pupils: list[Pupil] = []
    invalid = 0
    today_md = (today.month, today.day)
    validate_pupil = Pupil.model_validate

    for (
        i, row_number, mis_id, upn, legal_forename, legal_surname, preferred_forename, preferred_surname,
        year_text, class_name, gender, status, email, dob, admitted, left,
    ) in zip(
        range(len(data)), numbers, text.get("mis_id", blank), text.get("upn", blank),
        text["legal_forename"], text["legal_surname"], text.get("preferred_forename", blank),
        text.get("preferred_surname", blank), text["year_group"], text["class_name"], text.get("gender", blank),
        text.get("enrolment_status", blank), text.get("email", blank), dates.get("date_of_birth", nodates),
        dates.get("admission_date", nodates), dates.get("leaving_date", nodates),
    ):  # fmt: skip
        row_errors: list[Problem] = []

        # ids
        if upn:
            if not (upn.isalnum() and upn.isupper()):
                upn = "".join(upn.split()).upper()
            problem = upn_problem(upn)
            if problem:
                row_errors.append(Problem(row_number, upn_header, f"invalid UPN: {problem}"))
            elif not la_code_known(upn):
                warnings.append(Problem(row_number, upn_header, MSG_UNKNOWN_LA, "warning"))
        key_value = mis_id if key_field == "mis_id" else upn
        key = None
        if not key_value:
            row_errors.append(Problem(row_number, key_header, _BLANK_MESSAGES[key_field]))
        else:
            key = key_prefix + key_value
            first = seen_keys.get(key)
            if first is None:
                seen_keys[key] = row_number
            else:
                row_errors.append(
                    Problem(
                        row_number,
                        key_header,
                        f"duplicate {LABELS[key_field]}: the same as row {first}; each pupil must "
                        "appear once, so remove the repeated row or correct the id in the MIS",
                    )
                )
                clashes.setdefault(key, (key_header, f"duplicate {LABELS[key_field]}: row {row_number} has the "
                                         "same id; both rows are left out until the MIS is corrected"))
            if upn and key_field == "mis_id":
                earlier = seen_upns.get(upn)
                if earlier is None:
                    seen_upns[upn] = (row_number, key)
                elif earlier[1] != key:
                    row_errors.append(
                        Problem(
                            row_number,
                            upn_header,
                            f"duplicate UPN: the same as row {earlier[0]}, which has a different MIS id; "
                            "a UPN belongs to one pupil, so check both rows in the MIS",
                        )
                    )
                    clashes.setdefault(earlier[1], (upn_header, f"duplicate UPN: row {row_number} has the same UPN "
                                       "with a different MIS id; both rows are left out until the MIS is corrected"))

        # names
        single = False
        forename_placeholder = legal_forename.casefold() in placeholders
        surname_placeholder = legal_surname.casefold() in placeholders
        if not legal_forename:
            row_errors.append(
                Problem(row_number, header_of["legal_forename"], _BLANK_MESSAGES["legal_forename"])
            )
        if not legal_surname:
            row_errors.append(
                Problem(row_number, header_of["legal_surname"], _BLANK_MESSAGES["legal_surname"])
            )
        if forename_placeholder or surname_placeholder:
            if forename_placeholder and surname_placeholder:
                row_errors.append(Problem(row_number, header_of["legal_forename"], MSG_BOTH_PLACEHOLDERS))
            elif legal_forename and legal_surname:
                single = True
                field = "legal_forename" if forename_placeholder else "legal_surname"
                warnings.append(
                    Problem(
                        row_number,
                        header_of[field],
                        f"a pupil with one name: the {LABELS[field]} is a placeholder, so the name is "
                        "used as the forename and the surname is left empty",
                        "warning",
                    )
                )
                if forename_placeholder:
                    legal_forename = ""
                else:
                    legal_surname = ""
        for field, value in (
            ("legal_forename", legal_forename),
            ("legal_surname", legal_surname),
            ("preferred_forename", preferred_forename),
            ("preferred_surname", preferred_surname),
        ):
            if "?" in value or "\ufffd" in value:
                warnings.append(Problem(row_number, header_of[field], MSG_LOST_LETTER, "warning"))
        real_forename = (legal_forename or legal_surname) if single else legal_forename
        real_surname = "" if single else legal_surname
        if not preferred_forename or preferred_forename.casefold() in placeholders:
            preferred_forename = real_forename
        if not preferred_surname or preferred_surname.casefold() in placeholders:
            preferred_surname = real_surname
        elif single and preferred_surname in (real_forename, preferred_forename):
            preferred_surname = ""  # the MIS copied the one name into both preferred fields

        # school
        year_group = ""
        if not year_text:
            row_errors.append(Problem(row_number, header_of["year_group"], _BLANK_MESSAGES["year_group"]))
        else:
            year_group = year_spellings.get(year_text.casefold().replace(" ", "").replace("_", ""), "")
            if not year_group:
                shown = year_text if len(year_text) <= 20 else year_text[:20] + "..."
                row_errors.append(
                    Problem(
                        row_number,
                        header_of["year_group"],
                        f"impossible year group {shown!r}: {_YEAR_ALLOWED}",
                    )
                )
        if not class_name:
            row_errors.append(Problem(row_number, header_of["class_name"], _BLANK_MESSAGES["class_name"]))

        # the rest
        if dob is not None:
            age = today.year - dob.year - (today_md < (dob.month, dob.day))
            if not 2 <= age <= 19:
                warnings.append(
                    Problem(
                        row_number,
                        header_of["date_of_birth"],
                        f"the date of birth gives an age outside 2 to 19 on {today:%d/%m/%Y}: check it",
                        "warning",
                    )
                )
        if gender:
            gender = _GENDERS.get(gender.casefold(), gender)
        if email and email.count("@") != 1:
            warnings.append(Problem(row_number, header_of["email"], MSG_EMAIL, "warning"))

        if row_errors or i in bad:
            errors.extend(row_errors)
            invalid += 1
            continue
        pupils.append(
            validate_pupil(  # a dict through Pupil's validator: full validation, faster than Pupil(**kw)
                {
                    "key": key,
                    "row": row_number,
                    "mis_id": mis_id or None,
                    "upn": upn or None,
                    "legal_forename": legal_forename,
                    "legal_surname": legal_surname,
                    "preferred_forename": preferred_forename,
                    "preferred_surname": preferred_surname,
                    "forename": preferred_forename if use_preferred else real_forename,
                    "surname": preferred_surname if use_preferred else real_surname,
                    "year_group": year_group,
                    "class_name": class_name,
                    "date_of_birth": dob,
                    "gender": gender or None,
                    "admission_date": admitted,
                    "leaving_date": left,
                    "enrolment_status": status or None,
                    "email": email or None,
                }
            )
        )

    if clashes:
        kept = []
        for pupil in pupils:
            clash = clashes.get(pupil.key)
            if clash is None:
                kept.append(pupil)
                continue
            errors.append(Problem(pupil.row, *clash))
            invalid += 1
        pupils = kept

    # Problems in the order a person reads the sheet: by row, then column.
    position = {h: c for c, h in columns.values()}

    def order(problem: Problem) -> tuple[int, int]:
        return (problem.row or 0, position.get(problem.column, -1))

    errors.sort(key=order)
    warnings.sort(key=order)
    return pupils, errors, warnings, invalid, len(data)
