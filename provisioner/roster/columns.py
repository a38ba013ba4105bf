"""A roster's columns cleaned as a whole, before its rows are checked one by one (``rows``).

The usual cell needs nothing: joined with the rest of its column, a few searches over the whole
text show which cells (if any) need a closer look, so a trust's 50,000 rows cost no Python work
of their own. ``_text_column`` cleans text (whitespace, control characters), ``_name_column``
finds cells that cannot be names, ``_formula_column`` a workbook's formula cells, and
``_date_column`` reads each distinct date once. The rules for single values and the wording of
their messages are in ``values``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from itertools import compress, islice

from provisioner.models import Problem
from provisioner.roster.headers import LABELS, NAME_FIELDS
from provisioner.roster.values import (
    _FORMULA_START,
    _INVISIBLE_CHARS,
    MAX_NAME_CHARS,
    MAX_NAME_WORDS,
    MSG_BAD_DATE,
    MSG_DATE_IN_TEXT_COLUMN,
    MSG_FORMULA,
    MSG_FORMULA_CELL,
    MSG_NAME_FORMULA_CELL,
    MSG_SERIAL,
    PLACEHOLDERS,
    _cell_text,
    _serial_date,
    clean_text,
    name_problem,
    parse_date_text,
)


_SEP = "\x00"  # joins a column for whole-column checks; never whitespace, never in a cell
# Whitespace other than the plain space (what str.split splits on, as str.isspace says).
_ASCII_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"
_OTHER_WHITESPACE = ("\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                     "\u2028\u2029\u202f\u205f\u3000")


def _needs_cleaning(joined: str) -> bool:
    """Whether a column joined by _SEP has a cell that cleaning changes: whitespace other than
    single spaces between words. Each a substring search in C (a regular expression of the same
    took most of a column's time)."""
    if "  " in joined or joined[:1] == " " or joined[-1:] == " " or " " + _SEP in joined or _SEP + " " in joined:
        return True
    spaces = _ASCII_WHITESPACE if joined.isascii() else _ASCII_WHITESPACE + _OTHER_WHITESPACE
    return any(space in joined for space in spaces)


def _text_column(
    cells: list, numbers: list[int], field: str, header: str, warnings: list[Problem]
) -> tuple[list[str], set[str] | None]:
    """One column as clean text (see clean_text), and its distinct values where it found them
    (None where it did not: ``rows._usual_rows`` looks at them); warns about formula-like and
    date cells.

    Whole-column checks done in C find the usual case (nothing to change) without looking
    at each cell in Python.
    """
    distinct = _few_distinct(cells)
    try:
        # A column of text alone, the usual one (any other cell refuses to join).
        joined = _SEP.join(cells if distinct is None else distinct)
    except TypeError:
        joined = None
    if joined is not None:
        if _needs_cleaning(joined) or not unicodedata.is_normalized("NFC", joined):
            out = [" ".join(v.split()) if v.isascii() else clean_text(v) for v in cells]
            suspects = [i for i, v in enumerate(cells) if v[:1] in ("\t", "\r")]
            distinct = None if distinct is None else set(out)
            joined = _SEP.join(out if distinct is None else distinct)
        else:
            out = cells
            suspects = []
    else:
        # Numbers among text (a year column of 1 to 6 and "R"): each distinct cell is made text
        # once. 1, 1.0 and True are equal, and each reads otherwise: in a column holding more
        # than one of their types, each cell is told apart by its type too.
        kinds = set(map(type, cells))
        if len(kinds & _NUMBER_TYPES) > 1:
            keys: list = list(zip(map(type, cells), cells))
            as_text = {(kind, v): _as_text(kind, v) for kind, v in set(keys)}
            texts = {v for kind, v in as_text if kind is str}
        else:  # equal cells are of one type: each cell is its own key
            keys = cells
            as_text = {v: _as_text(type(v), v) for v in (set(cells) if distinct is None else distinct)}
            texts = {v for v in as_text if type(v) is str}
        out = list(map(as_text.__getitem__, keys))
        distinct = set(as_text.values())
        if date in kinds or datetime in kinds:
            for i in [i for i, v in enumerate(cells) if type(v) is date or type(v) is datetime]:
                warnings.append(Problem(numbers[i], header, MSG_DATE_IN_TEXT_COLUMN, "warning"))
        tabbed = {v for v in texts if v[:1] in ("\t", "\r")}  # no other cell equals a text
        suspects = list(compress(range(len(cells)), map(tabbed.__contains__, cells))) if tabbed else []
        joined = _SEP.join(distinct)
    if joined[:1] in _FORMULA_START or any(_SEP + c in joined for c in _FORMULA_START):
        suspects += [i for i, t in enumerate(out) if t[:1] in _FORMULA_START]
    for i in sorted(set(suspects)):
        # "-" alone is a pupil with one name; a name that starts a formula is refused (_name_column).
        if field in NAME_FIELDS and (out[i] in PLACEHOLDERS or out[i][:1] in _FORMULA_START):
            continue
        warnings.append(Problem(numbers[i], header, MSG_FORMULA, "warning", out[i]))
    return out, distinct


# The whole-column searches of a text column (``_text_column``) look for what is in a cell or not,
# however many cells hold it: a column of few distinct values (names, classes, year groups: a
# trust's 50,000 forenames are a few thousand) is searched as its distinct values, which the rows'
# checks look at after; one whose values mostly differ (ids) as every cell, as its set would cost
# more to make than the searches it saves (20 ms against 7 for 50,000 MIS ids). Its first cells
# tell which.
_FIRST_CELLS = 1000


def _few_distinct(cells: list) -> set | None:
    """The column's distinct cells where its first cells hold at most half as many distinct values
    as cells, else None."""
    first = cells[:_FIRST_CELLS]
    return set(cells) if 2 * len(set(first)) <= len(first) else None


_NUMBER_TYPES = {int, float, bool}  # their equal values (1, 1.0, True) are made text otherwise


def _as_text(kind: type, value: object) -> str:
    """A cell of a text column as clean text (``_text_column``), its type given."""
    if kind is str:
        return " ".join(value.split()) if value.isascii() else clean_text(value)  # type: ignore[attr-defined]
    return clean_text(_cell_text(value))


# Cells that might not be names, found by searches of a name column joined by "\n" (never in
# clean text), each done in C, the word count's only when some cell has enough spaces to fail
# it; name_problem then judges each cell found. (One pattern of alternatives would be searched
# three times slower.)
_FORMULA_LINE = re.compile(r"^[=+\-@]", re.MULTILINE)
_NOT_A_LETTER = re.compile(rf"[{_INVISIBLE_CHARS}?\ufffd]")
_HIDDEN_IN_TEXT = re.compile(f"[{_INVISIBLE_CHARS}]")
_NO_LETTER_LINE = re.compile(r"^(?:[^\w\n]|[\d_])+$", re.MULTILINE)
_LONG_LINE = re.compile(rf"^.{{{MAX_NAME_CHARS + 1}}}", re.MULTILINE)
_MANY_WORDS = re.compile(rf"(?: [^ \n]+){{{MAX_NAME_WORDS}}}")
# The column's bytes less all but its spaces and line breaks: a cell with MAX_NAME_WORDS spaces
# is that many spaces in a row. (Searching for the longest cell, and for the cell with most
# spaces, a call a cell, took longer than the pattern for long cells and this together.)
_ALL_BUT_SPACES = bytes(byte for byte in range(256) if byte not in b" \n")
_SPACES_OF_MANY_WORDS = b" " * MAX_NAME_WORDS


def _name_column(
    values: list[str], names: set[str], numbers: list[int], header: str, errors: list[Problem], bad: set[int]
) -> set[int]:
    """Refuse the cells of a name column that cannot be a name (see ``name_problem``): an error
    each, with the cell as the problem's value. Returns the refused rows' indexes. ``names``: the
    column's distinct values.

    Each distinct name is searched and judged once (a trust's 50,000 forenames are a few
    thousand names; searching every cell took 15 to 23 ms a column), then the refused ones are
    found among the cells by map."""
    distinct = list(names)
    joined = "\n".join(distinct)
    patterns = [_FORMULA_LINE, _NOT_A_LETTER, _NO_LETTER_LINE, _LONG_LINE]
    if _SPACES_OF_MANY_WORDS in joined.encode("utf-8", "surrogatepass").translate(None, _ALL_BUT_SPACES):
        patterns.append(_MANY_WORDS)
    found = sorted({match.start() for pattern in patterns for match in pattern.finditer(joined)})
    messages: dict[str, str] = {}  # each refused name -> why
    index, position = 0, 0
    for start in found:
        index += joined.count("\n", position, start)  # the name the match is in
        position = start
        name = distinct[index]
        if name not in messages:
            message = name_problem(name)
            if message:
                messages[name] = message
    if not messages:
        return set()
    refused = list(compress(range(len(values)), map(messages.__contains__, values)))
    for index in refused:
        errors.append(Problem(numbers[index], header, messages[values[index]], "error", values[index]))
    bad.update(refused)
    return set(refused)


def _formula_column(
    formulas: list[tuple[int, str]],
    field: str,
    header: str,
    positions: dict[int, int],
    numbers: list[int],
    errors: list[Problem],
    warnings: list[Problem],
    bad: set[int],
) -> set[int]:
    """A column's cells that hold a formula in the workbook, as (sheet row index, formula) (see
    decode._formula_cells): a name is refused whatever it showed; any other field is used, with
    a warning. ``positions`` maps a sheet row index to its row's index here. Returns the refused
    rows' indexes."""
    refused = set()
    for row_index, formula in formulas:
        i = positions.get(row_index)
        if i is None:  # the header, a title or a footer
            continue
        if field in NAME_FIELDS:
            errors.append(Problem(numbers[i], header, MSG_NAME_FORMULA_CELL, "error", formula or None))
            refused.add(i)
        else:
            warnings.append(Problem(numbers[i], header, MSG_FORMULA_CELL, "warning", formula or None))
    bad |= refused
    return refused


_DATES_REMEMBERED = 20_000  # a column of garbage is every text once: past this many, each is read alone


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
    # Each check below is made of the column's distinct cells (50,000 dates of birth are a few
    # thousand dates or texts), then given to its cells by map: the usual column, every cell a
    # date (a workbook's) or a text read as one with nothing to say (a CSV's), costs no Python
    # statement a cell.
    distinct = set(cells)
    kinds = set(map(type, distinct))
    if kinds == {date}:
        out: list[date | None] = list(cells)
    elif date in kinds:  # each cell that is not a date (a blank, most often) made None by map
        out = list(map({v: None for v in distinct if type(v) is not date}.get, cells, cells))
    else:
        out = [None] * len(cells)
    label = LABELS[field]
    # A text read as a date with nothing to say (the usual CSV cell) is read once and given to
    # every cell holding it by map. A column of garbage is every text once: past this many, each
    # is read in the loop below.
    quiet: dict[str, date] = {}
    for raw in islice({v for v in distinct if type(v) is str and v}, _DATES_REMEMBERED):
        text = clean_text(raw)
        value, error, warning = parse_date_text(text) if text else (None, None, None)
        if value is not None and not error and not warning and text[0] not in _FORMULA_START and raw[0] not in "\t\r":
            quiet[raw] = value
    if quiet:
        out = list(map(quiet.get, cells, out))
    read: dict[str, tuple] = {}  # cell -> (clean text, its reading): 50,000 dates of birth, a few thousand texts
    # The cells left to read: any but a date, a blank or a text read above. Equal cells of other
    # types (1, 1.0 and True) are all read, each as itself, as every one of them is left.
    left = {v for v in distinct if type(v) is not date and v != "" and v is not None and v not in quiet}
    for i in compress(range(len(cells)), map(left.__contains__, cells)) if left else ():
        raw = cells[i]
        kind = type(raw)
        value = error = warning = None
        if kind is datetime:
            value = raw.date()
        elif kind is str:
            known = read.get(raw)
            if known is None:
                text = clean_text(raw)
                known = (text, parse_date_text(text) if text else (None, None, None))
                if len(read) < _DATES_REMEMBERED:
                    read[raw] = known
            text, (value, error, warning) = known
            if text and (text[0] in _FORMULA_START or raw[0] in "\t\r"):
                warnings.append(Problem(numbers[i], header, MSG_FORMULA, "warning"))
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


# --- a preferred-name cell that holds the whole name ---------------------------------------
#
