"""The vocabulary of pupil fields that can ever leave the school.

Connectors declare the fields they send by these names; the processor register's "fields
held" column is generated from the same declarations, so the two cannot drift. Categories
follow the wording of the DfE model privacy notice for pupils.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    category: str
    special_category: bool = False
    derived: bool = False  # made by this tool (not read from the MIS export)
    note: str = ""


IDENTIFIERS = "Personal identifiers"
CHARACTERISTICS = "Characteristics"
CONTACT = "Contact details"
SCHOOL = "School, year group and class"
CREDENTIALS = "Account credentials"

FIELDS: dict[str, Field] = {
    f.name: f
    for f in [
        Field("forename", "Forename (preferred name unless the school chooses the legal one)", IDENTIFIERS),
        Field("surname", "Surname (preferred unless the school chooses the legal one)", IDENTIFIERS),
        Field("legal_forename", "Legal forename", IDENTIFIERS),
        Field("legal_surname", "Legal surname", IDENTIFIERS),
        Field("year_group", "Year group", SCHOOL),
        Field("class_name", "Registration class", SCHOOL),
        Field("date_of_birth", "Date of birth", CHARACTERISTICS),
        Field("gender", "Gender", CHARACTERISTICS),
        Field("email", "Pupil email address", CONTACT),
        Field("upn", "Unique Pupil Number (UPN)", IDENTIFIERS, note="a DfE 'blind number'; sent nowhere by default"),
        Field("mis_id", "MIS admission number or person id", IDENTIFIERS),
        Field(
            "pseudonymous_id",
            "Pseudonymous pupil id (keyed hash, different for each platform)",
            IDENTIFIERS,
            derived=True,
        ),
        Field("username", "Username", CREDENTIALS, derived=True),
        Field(
            "password",
            "First password",
            CREDENTIALS,
            derived=True,
            note="generated for each new account or reset; printed on the login slips, never stored by this tool",
        ),
    ]
}


# Fields a platform may be sent only when its register entry says why, under [needs].
SENSITIVE = ("upn", "date_of_birth")


def short_label(name: str) -> str:
    """A field's label without its explanation in brackets; the name itself if not in the vocabulary."""
    return FIELDS[name].label.split(" (")[0] if name in FIELDS else name


def short_labels(names) -> str:
    return ", ".join(short_label(n) for n in names)


def field(name: str) -> Field:
    return FIELDS[name]
