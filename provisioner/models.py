"""The canonical pupil record and roster problems."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict

# Canonical year groups, as the Common Transfer File's NC year codes: nursery (N1, N2, or N
# when the export does not say which), reception (R), years 1 to 14, and X (out of year).
YEAR_GROUPS: tuple[str, ...] = ("N1", "N2", "N", "R", *(str(n) for n in range(1, 15)), "X")


def year_group_label(code: str) -> str:
    return {"N1": "Nursery 1", "N2": "Nursery 2", "N": "Nursery", "R": "Reception", "X": "Out of year"}.get(
        code, f"Year {code}"
    )


class Pupil(BaseModel):
    """One pupil as read from the roster, validated and normalised.

    ``key`` identifies the pupil for ever: the MIS id when the roster has one (it survives a
    temporary UPN becoming permanent), else the UPN. Names never identify. The MIS id in the
    key is normalised (``roster.values.normalise_mis_id``: "mis:1000" for "001000"), so an
    export that dropped the leading zeros names the same pupil; ``mis_id`` keeps it as written.
    ``forename``/``surname`` are the names for display and usernames: the preferred
    ("known as") names unless the school chooses legal names. ``surname`` is empty for a
    pupil with a single name.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    row: int
    mis_id: str | None = None
    upn: str | None = None
    legal_forename: str
    legal_surname: str
    preferred_forename: str | None = None
    preferred_surname: str | None = None
    forename: str
    surname: str
    year_group: str
    class_name: str
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
    """

    row: int | None
    column: str | None
    message: str
    severity: str = "error"  # "error" or "warning"

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


@dataclass
class Roster:
    """The result of reading a roster: the valid pupils, and every problem found."""

    source: str
    pupils: list[Pupil]
    errors: list[Problem]
    warnings: list[Problem]
    columns: dict[str, str]  # canonical field -> header text in the file
    sha256: str = ""
    invalid_rows: int = 0  # rows left out because of errors

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts_by_year_and_class(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        order = {code: i for i, code in enumerate(YEAR_GROUPS)}
        for pupil in sorted(self.pupils, key=lambda p: (order.get(p.year_group, 99), p.class_name)):
            by_class = out.setdefault(pupil.year_group, {})
            by_class[pupil.class_name] = by_class.get(pupil.class_name, 0) + 1
        return out
