"""What a roster cell holds, and what is said about it: cell text, clean text, year groups, dates.

Functions of one value, with no file, header or row in view: ``clean_text``, ``_cell_text``
(any workbook cell as text), ``normalise_mis_id`` (the form a MIS id is compared in),
``name_problem`` (a name cell that cannot be a name), ``parse_year_group`` and
``parse_date_text`` (day first, never guessing month-first), and the value rules they share
(placeholder names, formula-like starts, the Excel date epochs). It imports nothing else from the package, and the header and
row code build on it, so a header and a pupil's name are cleaned the same way.

The messages about a value that a person must fix or check are kept here too, beside the
rules they explain, so their wording can be read together. Like every roster message they
say what is wrong and never quote a pupil's name, id or date of birth.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

from provisioner.models import YEAR_GROUPS

PLACEHOLDERS = frozenset({".", "-", "*", "nfn", "fnu", "lnu"})
_FORMULA_START = ("=", "+", "@", "-")
_EXCEL_EPOCH_1900 = date(1899, 12, 30)
_EXCEL_EPOCH_1904 = date(1904, 1, 1)


# --- cell text -----------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """NFC, trimmed, each whitespace run (NBSP included) collapsed to one space."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


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


def normalise_mis_id(text: str) -> str:
    """A MIS id (admission number) in the form ids are compared in: no whitespace, upper case,
    no leading zeros ("0" when it is all zeros).

    The same pupil's id comes out of exports as "001000", "1000" (Excel stored it as a number
    and dropped the zeros) or " 001 000"; compared as written they would be two pupils, and the
    one child two accounts. The id as written is still kept for people to read.
    """
    if text.isdigit():  # the usual id, digits alone: nothing to take out but the zeros
        return text.lstrip("0") or text[:1]
    compact = "".join(text.split()).upper()
    return compact.lstrip("0") or compact[:1]


# Control characters (the whitespace ones are gone once the text is clean), the zero-width space,
# a byte-order mark inside text, the bidirectional overrides, isolates and marks, which can make a
# name display as something else, and the soft hyphen, word joiner and invisible operators, which
# show as nothing but make the text another one. Not the zero-width joiners, which some scripts'
# names need. (A newline is left out: clean text never holds one, so it can join a column for a
# search.)
_INVISIBLE_CHARS = (
    "\x00-\x09\x0b-\x1f\x7f-\x9f\u00ad\u200b\u200e\u200f\ufeff\u202a-\u202e\u2060-\u2064\u2066-\u2069"
)
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
_LETTER = re.compile(r"[^\W\d_]")


def name_problem(text: str) -> str | None:
    """What makes a clean name cell unusable as a name, or None.

    Refused: a formula-like start, control or invisible characters, '?' or U+FFFD where a
    letter was lost, no letter at all (only digits or punctuation), more than MAX_NAME_CHARS
    characters or MAX_NAME_WORDS words. A blank cell and the one-name placeholders ('.', '-',
    'nfn'...) are not problems here: what they mean depends on the other name.
    """
    if not text or text.casefold() in PLACEHOLDERS:
        return None
    if text[0] in _FORMULA_START:
        return MSG_NAME_FORMULA
    if _INVISIBLE.search(text):
        return MSG_NAME_CONTROL
    if "?" in text or "\ufffd" in text:
        return MSG_LOST_LETTER
    if not _LETTER.search(text):
        return MSG_NAME_NO_LETTERS
    if len(text) > MAX_NAME_CHARS or text.count(" ") >= MAX_NAME_WORDS:
        return MSG_NAME_TOO_LONG
    return None


def _blank(value: object) -> bool:
    return value is None or value == "" or (type(value) is str and value.isspace())


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


# --- messages about values -----------------------------------------------------------------

MSG_FORMULA = (
    "looks like a spreadsheet formula (starts with =, +, -, @, a tab or a carriage return): check the "
    "cell in the MIS; files made for people to open will neutralise it"
)
MSG_FORMULA_CELL = (
    "holds a spreadsheet formula, so the value it showed when the file was saved was used: check it, "
    "and export values rather than formulas"
)
MSG_LOST_LETTER = (
    "contains '?' or an undecodable character where a letter should be, often a letter lost when the "
    "file was saved in an encoding that could not hold it: correct the name in the MIS if it is wrong "
    "there, and export as 'CSV UTF-8'"
)
# Names are refused, not warned about, when they cannot be a name: an account made from one
# carries the nonsense to every platform, onto login slips, and into the name a child types.
MAX_NAME_CHARS = 50
MAX_NAME_WORDS = 6
MSG_NAME_FORMULA = (
    "looks like a spreadsheet formula (starts with =, +, - or @), not a name: correct the name in the "
    "MIS and export the roster again"
)
MSG_NAME_FORMULA_CELL = (
    "holds a spreadsheet formula, not a name: type the name in as text (in the MIS, or in this file) "
    "and export the roster again"
)
MSG_CLASS_CONTROL = (
    "holds a control character or an invisible formatting character: retype the class in the MIS and export "
    "the roster again"
)
MSG_NAME_CONTROL = (
    "holds a control character or an invisible formatting character, not a letter: retype the name "
    "in the MIS and export the roster again"
)
MSG_NAME_NO_LETTERS = (
    "has no letters, only digits or punctuation, so it is not a name: correct the cell in the MIS "
    "(for a pupil with only one name, the surname is '.')"
)
MSG_NAME_TOO_LONG = (
    f"is too long to be one name (more than {MAX_NAME_CHARS} characters or {MAX_NAME_WORDS} words): check "
    "the cell holds only this name, not notes or several columns run together, and correct it in the MIS"
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
