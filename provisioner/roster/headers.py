"""The roster's fields, and the header row that names them in the school's file.

``FIELDS`` and ``LABELS`` are the fields the tool reads and the words messages use for them.
``HEADER_ALIASES`` holds the header spellings the MIS exports use, and a school's own
[roster.columns] settings add to them (``alias_map``). Header text is compared folded
(``fold_header``: case, spaces and punctuation ignored). ``_find_header`` finds the header row
below any report title rows, ``_map_columns`` turns it into field -> column and refuses a file
with a required column missing or two columns for one field, suggesting the setting to write
for a header that looks like a misspelt alias (``_guess_columns``).
"""

from __future__ import annotations

import difflib
import unicodedata

from provisioner.errors import RosterError
from provisioner.models import Problem
from provisioner.roster.values import _cell_text, clean_text
from provisioner.settings import RosterSettings

FIELDS: tuple[str, ...] = (
    "mis_id", "upn", "legal_forename", "legal_surname", "preferred_forename", "preferred_surname",
    "year_group", "class_name", "date_of_birth", "gender", "admission_date", "leaving_date",
    "enrolment_status", "email", "former_upn",
)  # fmt: skip
REQUIRED: tuple[str, ...] = ("legal_forename", "legal_surname", "year_group", "class_name")
DROPPED = "middle_names"  # recognised so it is not mistaken for anything else, then dropped
IGNORE = "ignore"  # a [roster.columns] value: skip this column
_SETTING_SYNONYMS = {"class": "class_name", "dob": "date_of_birth"}

# Header spellings seen in MIS exports (uk-school-data.md §1.6). Matching ignores case,
# spaces and punctuation, so "Person_id", "PERSON ID" and "Reg. Group" all match.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "upn": ("UPN", "Unique Pupil Number"),
    "former_upn": ("Former UPN", "Previous UPN", "Former Unique Pupil Number"),
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
    "former_upn": "former UPN",
}  # fmt: skip

HEADER_SCAN_ROWS = 30
_HEADER_MIN_MATCHES = 3
DATE_FIELDS = ("date_of_birth", "admission_date", "leaving_date")
NAME_FIELDS = ("legal_forename", "legal_surname", "preferred_forename", "preferred_surname")


def fold_header(text: str) -> str:
    """Header text reduced to lower-case letters and digits, for alias matching."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def alias_map(settings: RosterSettings) -> dict[str, str]:
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
