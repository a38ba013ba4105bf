"""Where the data path starts: each roster row below the header is checked and made a ``Pupil``.

``_read_rows`` takes the rows below the header, the first one's number and the field -> column map, and
returns the checked ``Pupil``s, the ``Problem``s found (errors and warnings, in the order a
person reads the sheet: by row, then column), the counts and the ``Decision``s made. A row with
an error is left out, never half-used; both rows of a duplicate id or UPN are left out.

It works in two passes, for speed on a trust's 50,000 pupils. Each column is first cleaned as
a whole (``columns``: text and dates cleaned, names that cannot be names and a workbook's
formula cells found), so the usual cell, which needs nothing, costs no Python work of its own;
then each row is checked as a whole (ids and duplicates, names and pupils with one name, a
preferred-name cell holding the whole name (``whole_names``), year group and class, age,
gender, email) and made a ``Pupil``, every value already of its type. The rules for single
values and the wording of their messages are in ``values``; the fields and their labels in
``headers``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from collections import Counter
from itertools import compress, islice, repeat
from operator import itemgetter

from provisioner.errors import RosterError
from provisioner.models import Decision, Problem, Pupil
from provisioner.roster import decode
from provisioner.roster.columns import (
    _HIDDEN_IN_TEXT, _date_column, _formula_column, _name_column, _text_column,
)  # fmt: skip
from provisioner.roster.headers import DATE_FIELDS, LABELS, NAME_FIELDS
from provisioner.roster.values import (
    MSG_CLASS_CONTROL,
    _BLANK_MESSAGES,
    _YEAR_ALLOWED,
    MSG_BOTH_PLACEHOLDERS,
    MSG_EMAIL,
    MSG_UNKNOWN_LA,
    PLACEHOLDERS,
    YEAR_GROUP_SPELLINGS,
    normalise_mis_id,
)
from provisioner.settings import RosterSettings
from provisioner.roster.whole_names import _KEPT_FORENAME, _decisions, _name_words, _whole_name
from provisioner.upn import la_code_known, sound_upns, upn_problem

MSG_FOOTER = "ignored: only one cell is filled in (a total or a note, not a pupil)"

# Defined here rather than imported: CPython 3.11 calls a method of an imported name through a
# plain attribute load (made for modules), a little slower in the loop over every row.
_GENDERS = {"m": "M", "male": "M", "f": "F", "female": "F"}

# How many problems of each kind (errors, warnings) are listed, about: a file of garbage has
# several in every row, and 150,000 rows' worth took more than a gigabyte to hold and to write as
# JSON. Past twice this many, only the earliest rows' problems are kept (every problem of each
# of those rows), the rest counted; the last problem listed says how many more there are.
MAX_LISTED_PROBLEMS = 50_000


class _Listed(list):
    """The problems of one kind as they are found (in any order: a column at a time, then row by
    row), holding about MAX_LISTED_PROBLEMS of them: those of the rows up to ``last_row``."""

    def __init__(self) -> None:
        super().__init__()
        self.last_row: int | None = None  # the problems of later rows are counted, not listed
        self.not_listed = 0

    def append(self, problem: Problem) -> None:
        if self.last_row is not None and problem.row is not None and problem.row > self.last_row:
            self.not_listed += 1
            return
        super().append(problem)
        if len(self) > 2 * MAX_LISTED_PROBLEMS:
            self._cut()

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.append(problem)

    def _cut(self) -> None:
        rows = sorted(p.row for p in self if p.row is not None)
        if len(rows) < MAX_LISTED_PROBLEMS:
            return
        self.last_row = rows[MAX_LISTED_PROBLEMS - 1]
        kept = [p for p in self if p.row is None or p.row <= self.last_row]
        self.not_listed += len(self) - len(kept)
        self[:] = kept

    def listed(self, kind: str, severity: str) -> list[Problem]:
        """The problems kept, then, when some were not, one saying how many and what to do."""
        if not self.not_listed:
            return list(self)
        also = " (every row is still checked, and a row with an error left out)" if severity == "error" else ""
        return [*self, Problem(None, None, f"{self.not_listed:,} more {kind} in rows after row {self.last_row} "
                               f"are not listed{also}: fix those listed, which often share one cause, and check the "
                               "roster again", severity)]  # fmt: skip


def _usual_rows(
    text: dict[str, list[str]], distinct: dict[str, set[str]], dates: dict[str, list[date | None]],
    numbers: list[int], bad: set[int], sound: set[str], key_field: str, use_preferred: bool, today: date,
    year_of: dict[str, str],
) -> tuple[list[Pupil | None], list[int]]:  # fmt: skip
    """Every row made a ``Pupil`` a column at a time, as the row-by-row checks of ``_read_rows``
    would make a row that needs nothing of them, and which rows those checks must still look at.

    Most of a roster's rows are usual: ids given once each and well formed, legal names present
    and not placeholders, a preferred forename of one word or none, a year group and a class
    that read, an age in range, an email with one @, no cell refused by a column's checks. Each
    condition is found a column at a time (over each column's distinct values, or by ``map``),
    so the usual row costs no Python statement of its own; every other row is looked at (the
    second value, their indexes in order) and its ``Pupil``, or ``None`` for a row in error,
    replaces the one made here. ``distinct`` holds a text column's distinct values where
    ``_text_column`` found them (the others are found here, and added); ``year_of`` is filled
    with each year-group spelling's year group."""
    n = len(numbers)
    blank = [""] * n  # a column the roster does not have

    def values_of(field: str) -> set[str]:
        """The distinct values of a text column ({""} for one the roster does not have)."""
        if field not in distinct:
            distinct[field] = set(text[field]) if field in text else {""}
        return distinct[field]

    looked_at: set[int] = set(bad)

    def look_at(cells: list, values: set) -> None:
        """Rows whose cell is one of these values."""
        if values:
            looked_at.update(compress(range(n), map(values.__contains__, cells)))

    placeholders, fold = PLACEHOLDERS, str.casefold
    mis_ids, upns = text.get("mis_id", blank), text.get("upn", blank)
    if len(sound) == n:  # every cell a sound UPN, none given twice: the column's values are these
        distinct.setdefault("upn", sound)
    # A UPN needing its own check, and one used twice (compacted as the checks compact it).
    not_sound = values_of("upn") - sound - {""}
    look_at(upns, not_sound)
    compact = {upn: upn if upn.isalnum() and upn.isupper() else "".join(upn.split()).upper() for upn in not_sound}
    upns_used = [compact.get(upn, upn) for upn in upns] if compact else upns
    look_at(upns_used, _given_twice(upns_used, None if compact else values_of("upn")) - {""})
    if "former_upn" in text:
        look_at(text["former_upn"], {upn for upn in values_of("former_upn") if upn})
    # The key, and a key given twice or not at all.
    if key_field == "mis_id":
        keys = _mis_keys(mis_ids)
    else:
        keys = ["upn:" + upn if upn else "" for upn in upns_used]
    blank_keys = "" in keys
    look_at(keys, _given_twice(keys) | ({""} if blank_keys else set()))
    # Names: a legal name blank or a placeholder, a preferred name that is a placeholder, a
    # preferred forename of more than one word (it may hold the whole name).
    legal_forenames, legal_surnames = text["legal_forename"], text["legal_surname"]
    preferred_forenames = text.get("preferred_forename", blank)
    preferred_surnames = text.get("preferred_surname", blank)
    for field in ("legal_forename", "legal_surname"):
        look_at(text[field], {name for name in values_of(field) if not name or fold(name) in placeholders})
    look_at(preferred_forenames, {name for name in values_of("preferred_forename")
                                  if fold(name) in placeholders or " " in name or "," in name})  # fmt: skip
    look_at(preferred_surnames, {name for name in values_of("preferred_surname")
                                 if fold(name) in placeholders})  # fmt: skip
    blank_preferred = "" in values_of("preferred_forename")
    preferred_forenames = _or_else(preferred_forenames, legal_forenames, blank_preferred)
    if "preferred_surname" in text:
        preferred_surnames = _or_else(preferred_surnames, legal_surnames)
    else:
        preferred_surnames = legal_surnames
    # School: a year group that does not read, a class blank or holding hidden characters.
    years = text["year_group"]
    for spelling in values_of("year_group"):
        year_of[spelling] = YEAR_GROUP_SPELLINGS.get(spelling.casefold().replace(" ", "").replace("_", ""), "")
    look_at(years, {spelling for spelling in values_of("year_group") if not year_of[spelling]})
    classes = text["class_name"]
    look_at(classes, {name for name in values_of("class_name") if not name or _HIDDEN_IN_TEXT.search(name)})
    # The rest: an age outside 2 to 19, an email without exactly one @.
    nodates = [None] * n
    births = dates.get("date_of_birth", nodates)
    today_md = (today.month, today.day)
    look_at(births, {born for born in set(births) if born is not None
                     and not 2 <= today.year - born.year - (today_md < (born.month, born.day)) <= 19})  # fmt: skip
    emails = text.get("email", blank)
    if "email" in text:
        look_at(emails, {email for email in values_of("email") if email and email.count("@") != 1})
    if "gender" in text:
        gender_of = {gender: (_GENDERS.get(gender.casefold(), gender) if gender else "") or None
                     for gender in values_of("gender")}  # fmt: skip
        genders: Iterable[str | None] = map(gender_of.__getitem__, text["gender"])
    else:
        genders = repeat(None, n)

    def or_none(field: str) -> list[str | None]:
        """A text column, None for each blank ([None] * n for a column the roster does not have).
        Whether it has a blank is known from its distinct values, or for MIS ids from the keys."""
        if field not in text:
            return [None] * n
        if field in distinct:
            return _or_else(text[field], repeat(None, n), "" in distinct[field])
        return _or_else(text[field], repeat(None, n), blank_keys if field == key_field == "mis_id" else None)

    made: list[Pupil | None] = list(map(tuple.__new__, repeat(Pupil), zip(
        keys, numbers, legal_forenames, legal_surnames,
        preferred_forenames if use_preferred else legal_forenames,
        preferred_surnames if use_preferred else legal_surnames,
        map(year_of.__getitem__, years), classes, or_none("mis_id"), or_none("upn"), repeat(None),
        preferred_forenames, preferred_surnames, births, genders, dates.get("admission_date", nodates),
        dates.get("leaving_date", nodates), or_none("enrolment_status"), or_none("email"),
    )))  # fmt: skip
    return made, sorted(looked_at)


def _given_twice(cells: list[str], distinct: set[str] | None = None) -> set[str]:
    """The values more than one cell holds: none, when the column's distinct values (``distinct``,
    where the caller has them) are as many as its cells (a roster's ids, found so in C), else
    counted."""
    if len(set(cells) if distinct is None else distinct) == len(cells):
        return set()
    return {cell for cell, count in Counter(cells).items() if count > 1}


def _or_else(cells: list[str], others: Iterable, blank: bool | None = None) -> list:
    """Each cell, or where it is blank the other value in its place: the cells themselves when
    none is blank (``blank``, where the caller knows; else found in C); else each cell looked up
    by map among the column's filled values, a blank one not found and given the other value (a
    comprehension over every cell took 8 to 12 ms a column, three or four columns a roster)."""
    if not ("" in cells if blank is None else blank):
        return cells
    filled = set(cells)
    filled.discard("")
    if not filled:  # a column the roster does not have, or one left blank
        return list(others)
    return list(map(dict(zip(filled, filled)).get, cells, others))


def _mis_keys(mis_ids: list[str]) -> list[str]:
    """Each row's key from its MIS id (``normalise_mis_id``; "" for a blank id). A column of
    ASCII digits alone, the usual one, has only its leading zeros taken off, a column at a time:
    joined a line an id, each ``str.replace`` takes one zero off the start of every line, and
    the lines are split again with the keys' prefix (two calls a cell took twice as long). An id
    of zeros alone is "0", as ``normalise_mis_id`` makes it; a column with an id of more than
    _MOST_LEADING_ZEROS leading zeros is made key by key, as any other."""
    lines = "\n" + "\n".join(mis_ids)
    if (lines.isascii() and not lines.encode("ascii").translate(None, _DIGITS_AND_LINE_BREAKS)
            and lines.count("\n") == len(mis_ids)):  # fmt: skip
        for _ in range(_MOST_LEADING_ZEROS + 1):
            if "\n0" not in lines:
                keys = lines.replace("\n", "\nmis:").split("\n")
                del keys[0]
                if "\n\n" in lines or lines.endswith("\n"):  # a blank id, or one of zeros alone
                    for i in compress(range(len(keys)), map("mis:".__eq__, keys)):
                        keys[i] = "mis:0" if mis_ids[i] else ""
                return keys
            lines = lines.replace("\n0", "\n")
    return ["mis:" + normalise_mis_id(mis_id) if mis_id else "" for mis_id in mis_ids]


_DIGITS_AND_LINE_BREAKS = b"0123456789\n"
_MOST_LEADING_ZEROS = 9  # taken off a column at a time (a trust's ids have a few)


# The rows below the header are taken a chunk at a time: a CSV's, read as they are taken, are never
# all in memory as rows of every column, and the usual chunk (every row's legal names filled) is
# kept a column at a time, with no Python statement a row (counting each row's cells in a loop
# took 40 to 50 ms of a trust's 50,000 rows).
_CHUNK_ROWS = 2000


def _chunks(rows: Iterable[Sequence], refused: list[RosterError]) -> Iterator[list[Sequence]]:
    """The rows, _CHUNK_ROWS at a time. A row that cannot be read (a CSV's) ends them: its refusal
    is put in ``refused``, not raised, so the rows before it are checked first, as when the rows
    were taken one at a time (the 150,001st row with something in it is refused, not what follows)."""
    rows = iter(rows)
    while True:
        chunk: list[Sequence] = []
        add = chunk.append
        try:
            for row in islice(rows, _CHUNK_ROWS):
                add(row)
        except RosterError as refusal:
            refused.append(refusal)
            if chunk:
                yield chunk
            return
        if not chunk:
            return
        yield chunk


def _all_filled(cells: Sequence) -> bool:
    """Whether every cell is text with something in it besides whitespace (``str.strip`` keeps
    it), found in C; False for a column holding anything but text."""
    try:
        return all(map(str.strip, cells))
    except TypeError:
        return False


def _read_rows(
    rows: Iterable[Sequence],
    first_row: int,
    columns: dict[str, tuple[int, str]],
    settings: RosterSettings,
    today: date,
    epoch: date,
    formulas: dict[tuple[int, int], str] | None = None,
) -> tuple[list[Pupil], list[Problem], list[Problem], int, int, list[Decision], tuple[int, int]]:
    """Check the rows below the header (``rows``, the first of them the spreadsheet's row
    ``first_row``). Columns are cleaned a column at a time (fast), then each row is checked as a
    whole. ``formulas``: the sheet's formula cells (row index, column index), from
    decode._formula_cells.

    The rows are taken a chunk at a time (``_chunks``) and only the roster's columns of each are
    kept, so a CSV, read as it is taken, is never all in memory as rows of every column; a sheet
    with more rows with something in them than decode.MAX_ROSTER_ROWS is refused as it is read. About
    MAX_LISTED_PROBLEMS errors, and as many warnings, are listed (see _Listed); the last value
    returned is how many of each were not."""
    errors = _Listed()
    warnings = _Listed()
    used = sorted(col for col, _ in columns.values())  # the columns kept, in the sheet's order
    width = used[-1] + 1
    keep = itemgetter(*used) if len(used) > 1 else lambda row: (row[used[0]],)
    place = {col: i for i, col in enumerate(used)}  # a sheet's column -> its place in a kept row
    legal_names = place[columns["legal_forename"][0]], place[columns["legal_surname"][0]]
    numbers: list[int] = []
    kept: list[list] = [[] for _ in used]  # the kept rows' cells, a column at a time
    filled_rows, most_rows = 0, decode.MAX_ROSTER_ROWS
    refused: list[RosterError] = []  # a row that cannot be read (a CSV's), refused after the rows before it
    number = first_row
    for chunk in _chunks(rows, refused):
        shortest = min(map(len, chunk))
        if shortest < width:  # a short CSV record is made as wide as the roster's columns
            for i in compress(range(len(chunk)), map(width.__gt__, map(len, chunk))):
                chunk[i] = [*chunk[i], *([""] * (width - len(chunk[i])))]
            shortest = width
        # The chunk's kept cells, a column at a time: rows of few more columns than are kept (a
        # workbook's rows are all as wide) are turned whole, which is quicker than taking each
        # row's kept cells first (14 ms against 26 for 50,000 rows of 11 cells).
        if shortest <= 2 * len(used):
            whole = list(zip(*chunk))
            cells = [whole[col] for col in used]
        else:
            cells = list(zip(*map(keep, chunk)))
        if _all_filled(cells[legal_names[0]]) and _all_filled(cells[legal_names[1]]):
            # Both legal names filled in every row: every row has two cells or more with something
            # in them, so each is a pupil's (the loop below would count two in each and keep it).
            if filled_rows + len(chunk) > most_rows:
                raise decode.too_many_rows(number + most_rows - filled_rows)
            filled_rows += len(chunk)
            numbers.extend(range(number, number + len(chunk)))
            for column, chunk_column in zip(kept, cells):
                column.extend(chunk_column)
            number += len(chunk)
            continue
        taken = []  # the chunk's rows kept
        for i, row in enumerate(chunk):
            filled = 0
            for cell in row:
                if cell != "" and cell is not None and not (type(cell) is str and cell.isspace()):
                    filled += 1
                    if filled > 1:
                        break
            if filled == 0:
                continue
            filled_rows += 1
            if filled_rows > most_rows:
                raise decode.too_many_rows(number + i)
            if filled == 1:
                warnings.append(Problem(number + i, None, MSG_FOOTER, "warning"))
                continue
            numbers.append(number + i)
            taken.append(i)
        for column, chunk_column in zip(kept, cells):
            column.extend(map(chunk_column.__getitem__, taken))
        number += len(chunk)
    if refused:
        raise refused[0]
    if not numbers:
        return [], errors.listed("errors", "error"), warnings.listed("warnings", "warning"), 0, 0, [], (0, 0)

    n = len(numbers)
    bad: set[int] = set()
    blank = [""] * n
    text: dict[str, list[str]] = {}
    distinct: dict[str, set[str]] = {}  # a text column's distinct values, where they were found
    dates: dict[str, list[date | None]] = {}
    for field, (col, header) in columns.items():
        cells = kept[place[col]]
        if field in DATE_FIELDS:
            dates[field] = _date_column(cells, numbers, field, header, epoch, errors, warnings, bad)
        else:
            text[field], found = _text_column(cells, numbers, field, header, warnings)
            if found is not None:
                distinct[field] = found
    del kept
    # Names that cannot be names are refused (a row error), and a blank is not said twice.
    refused: dict[str, set[int]] = {field: set() for field in NAME_FIELDS}
    for field in NAME_FIELDS:
        if field in text:
            names = distinct.get(field) or set(text[field])
            refused[field] = _name_column(text[field], names, numbers, columns[field][1], errors, bad)
    if formulas:
        positions = {number - 1: i for i, number in enumerate(numbers)}
        by_column: dict[int, list[tuple[int, str]]] = {}
        for (row_index, col), formula in formulas.items():
            by_column.setdefault(col, []).append((row_index, formula))
        for field, (col, header) in columns.items():
            if col in by_column:
                found = _formula_column(by_column[col], field, header, positions, numbers, errors, warnings, bad)
                if field in NAME_FIELDS:
                    refused[field] |= found
    nodates = [None] * n

    header_of = {f: h for f, (_, h) in columns.items()}
    key_field = "mis_id" if "mis_id" in columns else "upn"
    key_prefix = "mis:" if key_field == "mis_id" else "upn:"
    key_header = header_of[key_field]
    upn_header = header_of.get("upn")
    use_preferred = settings.use_preferred_names
    seen_keys: dict[str, tuple[int, str]] = {}  # key -> (its first row, the id as that row wrote it)
    seen_upns: dict[str, tuple[int, str]] = {}
    preferred_header = header_of.get("preferred_forename")
    read_as: dict[int, str] = {}  # row -> how its preferred-name cell was read (a kind in whole_names._DECIDED)
    # The first of two clashing rows is as doubtful as the second: key -> (column, message)
    clashes: dict[str, tuple[str, str]] = {}
    placeholders = PLACEHOLDERS
    year_spellings = YEAR_GROUP_SPELLINGS
    year_of: dict[str, str] = {}  # the year group of each spelling in the column ("" for none)
    invalid = 0
    today_md = (today.month, today.day)
    sound = sound_upns(text["upn"]) if "upn" in text else set()  # the usual UPN needs no check of its own
    made, looked_at = _usual_rows(
        text, distinct, dates, numbers, bad, sound, key_field, use_preferred, today, year_of
    )

    # Only the rows looked at, each column's cells of them taken by map (zipping every row's
    # cells to keep a few made a tuple of 17 for each of a trust's 50,000 rows).
    for (
        i, row_number, mis_id, upn, legal_forename, legal_surname, preferred_forename, preferred_surname,
        year_text, class_name, gender, status, email, dob, admitted, left, former_upn,
    ) in zip(*(map(column.__getitem__, looked_at) for column in (
        range(n), numbers, text.get("mis_id", blank), text.get("upn", blank),
        text["legal_forename"], text["legal_surname"], text.get("preferred_forename", blank),
        text.get("preferred_surname", blank), text["year_group"], text["class_name"], text.get("gender", blank),
        text.get("enrolment_status", blank), text.get("email", blank), dates.get("date_of_birth", nodates),
        dates.get("admission_date", nodates), dates.get("leaving_date", nodates), text.get("former_upn", blank),
    ))):  # fmt: skip
        row_errors: list[Problem] = []

        # ids
        if upn and upn not in sound:
            if not (upn.isalnum() and upn.isupper()):
                upn = "".join(upn.split()).upper()
            problem = upn_problem(upn)
            if problem:
                row_errors.append(Problem(row_number, upn_header, f"invalid UPN: {problem}"))
            elif not la_code_known(upn):
                warnings.append(Problem(row_number, upn_header, MSG_UNKNOWN_LA, "warning"))
        if former_upn:  # only for matching a pupil held under it: a bad one is dropped with a warning
            former_upn = "".join(former_upn.split()).upper()
            problem = upn_problem(former_upn)
            if problem:
                warnings.append(Problem(row_number, header_of["former_upn"], f"invalid former UPN, not used: {problem}",
                                        "warning"))  # fmt: skip
                former_upn = ""
        key_value = mis_id if key_field == "mis_id" else upn
        key = None
        if not key_value:
            row_errors.append(Problem(row_number, key_header, _BLANK_MESSAGES[key_field]))
        else:
            # A MIS id is compared without spaces, case or leading zeros ("001000" is "1000").
            key = key_prefix + (normalise_mis_id(key_value) if key_field == "mis_id" else key_value)
            seen = seen_keys.get(key)
            if seen is None:
                seen_keys[key] = (row_number, key_value)
            else:
                first, first_written = seen
                same = "the same as" if first_written == key_value else (
                    "the same, once spaces, case and leading zeros are ignored, as"
                )
                row_errors.append(
                    Problem(
                        row_number,
                        key_header,
                        f"duplicate {LABELS[key_field]}: {same} row {first}; each pupil must "
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
        if not legal_forename and i not in refused["legal_forename"]:
            row_errors.append(
                Problem(row_number, header_of["legal_forename"], _BLANK_MESSAGES["legal_forename"])
            )
        if not legal_surname and i not in refused["legal_surname"]:
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
        if not single and (" " in preferred_forename or "," in preferred_forename):
            own_surname = "" if preferred_surname.casefold() in placeholders else preferred_surname
            split = _whole_name(preferred_forename, legal_forename, legal_surname, own_surname)
            if split is not None:
                preferred_forename, surname_part, read_as[row_number] = split
                if not own_surname:
                    preferred_surname = surname_part
            elif _name_words(preferred_forename) != _name_words(legal_forename):
                read_as[row_number] = _KEPT_FORENAME
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
            year_group = year_of.get(year_text)
            if year_group is None:  # each spelling is looked up once
                year_group = year_of[year_text] = year_spellings.get(
                    year_text.casefold().replace(" ", "").replace("_", ""), "")
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
        elif _HIDDEN_IN_TEXT.search(class_name):  # it goes to every platform and onto every card
            row_errors.append(Problem(row_number, header_of["class_name"], MSG_CLASS_CONTROL, value=class_name))

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
            made[i] = None
            continue
        made[i] = Pupil(
            key=key, row=row_number, mis_id=mis_id or None, upn=upn or None, former_upn=former_upn or None,
            legal_forename=legal_forename, legal_surname=legal_surname, preferred_forename=preferred_forename,
            preferred_surname=preferred_surname, forename=preferred_forename if use_preferred else real_forename,
            surname=preferred_surname if use_preferred else real_surname, year_group=year_group,
            class_name=class_name, date_of_birth=dob, gender=gender or None, admission_date=admitted,
            leaving_date=left, enrolment_status=status or None, email=email or None,
        )  # fmt: skip

    pupils: list[Pupil] = list(filter(None, made))
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
    decisions = _decisions(read_as, pupils, preferred_header, header_of.get("preferred_surname"))

    # Problems in the order a person reads the sheet: by row, then column.
    position = {h: c for c, h in columns.values()}

    def order(problem: Problem) -> tuple[int, int]:
        return (problem.row or 0, position.get(problem.column, -1))

    errors.sort(key=order)
    warnings.sort(key=order)
    listed = errors.listed("errors", "error"), warnings.listed("warnings", "warning")
    return pupils, *listed, invalid, n, decisions, (errors.not_listed, warnings.not_listed)
