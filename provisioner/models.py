"""The canonical pupil record, roster problems and the decisions made reading a roster."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

# Canonical year groups, as the Common Transfer File's NC year codes: nursery (N1, N2, or N
# when the export does not say which), reception (R), years 1 to 14, and X (out of year).
YEAR_GROUPS: tuple[str, ...] = ("N1", "N2", "N", "R", *(str(n) for n in range(1, 15)), "X")


def year_group_label(code: str) -> str:
    return {"N1": "Nursery 1", "N2": "Nursery 2", "N": "Nursery", "R": "Reception", "X": "Out of year"}.get(
        code, f"Year {code}"
    )


class Pupil(NamedTuple):
    """One pupil as read from the roster, checked and normalised (``roster.rows``).

    ``key`` identifies the pupil for ever: the MIS id when the roster has one (it survives a
    temporary UPN becoming permanent), else the UPN. Names never identify. The MIS id in the
    key is normalised (``roster.values.normalise_mis_id``: "mis:1000" for "001000"), so an
    export that dropped the leading zeros names the same pupil; ``mis_id`` keeps it as written.
    ``forename``/``surname`` are the names for display and usernames: the preferred
    ("known as") names unless the school chooses legal names. ``surname`` is empty for a
    pupil with a single name.

    A named tuple: immutable, made in a fraction of a microsecond and held in a few hundred
    bytes, for a trust's 50,000 (a validated model took as long to make as the rest of the
    roster's checks). Every value is checked and given its type by the reader, a column at a
    time; ``_replace`` makes a changed copy.
    """

    key: str
    row: int
    legal_forename: str
    legal_surname: str
    forename: str
    surname: str
    year_group: str
    class_name: str
    mis_id: str | None = None
    upn: str | None = None
    former_upn: str | None = None  # read only to match a pupil held under it (a temporary UPN made permanent)
    preferred_forename: str | None = None
    preferred_surname: str | None = None
    date_of_birth: date | None = None
    gender: str | None = None
    admission_date: date | None = None
    leaving_date: date | None = None
    enrolment_status: str | None = None
    email: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.forename} {self.surname}".strip()


@dataclass(frozen=True)
class Problem:
    """A problem in a roster, located as the spreadsheet shows it.

    ``row`` is the 1-based row number a person sees in Excel (title rows included; None for
    a problem with the file or header as a whole); ``column`` the header text as written in
    the file. ``message`` says what is wrong and what to do. Messages never quote a pupil's
    name or id; the row number is enough for the admin to find it.

    ``value`` is the offending cell's text (a name with a lost letter, say) for the admin's own
    terminal, where seeing '?ukasz' beside the row makes it quick to fix. It is never part of
    ``as_dict`` (JSON), ``str`` (logs) or the repr: those carry no pupil's data.
    """

    row: int | None
    column: str | None
    message: str
    severity: str = "error"  # "error" or "warning"
    value: str | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


def rows_text(rows: list[int] | tuple[int, ...], shown: int = 5) -> str:
    """Rows in words, the first few named: "row 4", "rows 4 and 9", "rows 4, 9, 15, 22, 30 and 52 more"."""
    if not rows:
        return ""
    if len(rows) == 1:
        return f"row {rows[0]}"
    if len(rows) <= shown:
        return f"rows {', '.join(map(str, rows[:-1]))} and {rows[-1]}"
    return f"rows {', '.join(map(str, rows[:shown]))} and {len(rows) - shown} more"


@dataclass(frozen=True)
class Decision:
    """Something decided for the school while reading its roster, and on which rows.

    Not a problem: the rows are used. It is said (``roster check``, and its JSON) because the
    school should be able to see how its file was read, e.g. that a 'Preferred Name' column held
    whole names and was split. ``kind`` is a stable name for scripts; ``message`` reads after
    the count ("402 rows held the whole name ..."); like a problem it names rows and a column,
    never a pupil.
    """

    kind: str
    column: str | None
    message: str
    rows: tuple[int, ...]

    def as_dict(self) -> dict:
        return {"kind": self.kind, "column": self.column, "message": self.message, "count": len(self.rows),
                "rows": list(self.rows)}  # fmt: skip

    def __str__(self) -> str:
        count = f"{len(self.rows)} {'row' if len(self.rows) == 1 else 'rows'}"
        text = f"{count} {self.message} ({rows_text(self.rows)})"
        return f"{self.column}: {text}" if self.column else text


@dataclass
class Roster:
    """The result of reading a roster: the valid pupils, every problem found, and what was
    decided in reading it."""

    source: str
    pupils: list[Pupil]
    errors: list[Problem]
    warnings: list[Problem]
    columns: dict[str, str]  # canonical field -> header text in the file
    sha256: str = ""
    invalid_rows: int = 0  # rows left out because of errors
    partial: bool = False  # the admin says it lists only some pupils (one class, the new starters)
    decisions: list[Decision] = field(default_factory=list)
    # Problems found but not listed, past the reader's cap (roster/rows.py, MAX_LISTED_PROBLEMS);
    # then the last problem listed of that kind says how many more there are.
    unlisted_errors: int = 0
    unlisted_warnings: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_count(self) -> int:
        """Every error found, listed or not (not counting the line that says how many are not)."""
        return len(self.errors) + self.unlisted_errors - (1 if self.unlisted_errors else 0)

    @property
    def warning_count(self) -> int:
        return len(self.warnings) + self.unlisted_warnings - (1 if self.unlisted_warnings else 0)

    @property
    def complete(self) -> bool:
        """Every pupil on roll is in it, so a pupil it leaves out has left. Rows left out for
        errors may be pupils still on roll, so a roster with any is not complete."""
        return not self.partial and self.invalid_rows == 0

    def counts_by_year_and_class(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        order = {code: i for i, code in enumerate(YEAR_GROUPS)}
        for pupil in sorted(self.pupils, key=lambda p: (order.get(p.year_group, 99), p.class_name)):
            by_class = out.setdefault(pupil.year_group, {})
            by_class[pupil.class_name] = by_class.get(pupil.class_name, 0) + 1
        return out
