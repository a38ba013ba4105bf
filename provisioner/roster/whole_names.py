"""A preferred-name cell that holds the whole name the pupil goes by, not only the forename:
found row by row, split into the preferred forename and surname, and what was decided about
such cells reported to the admin (``Decision``)."""

from __future__ import annotations

import re

from provisioner.models import Decision, Pupil

# Some exports (Arbor's 'Preferred Name', a 'Chosen Name' column) put the whole name the pupil
# goes by in the one cell that is read as the preferred forename; used as a forename it gave
# "Aaliyah Kowalski Kowalski". Each row's cell of more than one word is judged on its own: a
# whole name ends with the surname, or has as many words as the legal forename and surname
# together, or is written "Surname, Forename". Anything else, a double forename such as
# "Mary Jane" among them, stays the forename. What was decided is reported (``Decision``).

_WHOLE_NAME = "whole-name"
_WHOLE_NAME_BY_WORDS = "whole-name-by-words"
_SURNAME_FIRST = "whole-name-surname-first"
_KEPT_FORENAME = "kept-as-forename"
_DECIDED = {  # kind -> what was decided, after "N rows" (see Decision)
    _WHOLE_NAME: "held the whole name (forename and surname), ending with the surname: split into the "
    "preferred forename and surname",
    _SURNAME_FIRST: "held the whole name written 'Surname, Forename': split into the preferred forename "
    "and surname",
    _WHOLE_NAME_BY_WORDS: "held as many words as the legal forename and surname together, though not "
    "ending with the surname: read as the whole name, its last word(s), as many as the legal surname has, "
    "as the preferred surname; check these rows",
    _KEPT_FORENAME: "held more than one word but not the whole name (not ending with the surname, nor as "
    "many words as the legal forename and surname): kept whole as the preferred forename",
}
# Word breaks when names are compared: spaces and hyphens (of any kind), so "Smith-Jones" is
# "Smith Jones"; curly and straight apostrophes are one, and full stops are ignored ("St. John").
_NAME_PART = re.compile(r"[^\s\-\u2010\u2011\u2013\u2014]+")
_FOLD_MARKS = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'", ".": None})


def _name_parts(text: str) -> list[tuple[int, str]]:
    """Each word of a name as (where it starts, its folded form), for comparing names."""
    parts = []
    for match in _NAME_PART.finditer(text):
        folded = match[0].casefold().translate(_FOLD_MARKS)
        if folded:
            parts.append((match.start(), folded))
    return parts


def _name_words(text: str) -> list[str]:
    return [folded for _, folded in _name_parts(text)]


def _whole_name(cell: str, forename: str, surname: str, own_surname: str) -> tuple[str, str, str] | None:
    """(forename part, surname part, kind) when a preferred-name cell holds the whole name, else None.

    ``surname`` is the legal surname, ``own_surname`` the preferred surname cell's value (or "").
    A cell with a comma is a whole name only as "Surname, Forename".
    """
    surnames = [words for words in (_name_words(surname), _name_words(own_surname)) if words]
    if "," in cell:
        before, _, after = cell.partition(",")
        after = after.strip(" ,")
        if after and _name_words(before) in surnames:
            return after, before.strip(), _SURNAME_FIRST
        return None
    parts = _name_parts(cell)
    folded = [f for _, f in parts]
    for words in surnames:
        if len(folded) > len(words) and folded[-len(words):] == words:
            start = parts[-len(words)][0]
            return cell[:start].rstrip(" -\u2010\u2011\u2013\u2014"), cell[start:], _WHOLE_NAME
    # A hyphen in a legal name counts as a word break here, so "Mary Jane" for a legal
    # "Mary-Jane Smith" is not taken for "Mary" and "Jane".
    words = cell.split(" ")
    surname_words = len(surname.split(" "))
    if len(words) >= len(_name_words(forename)) + len(_name_words(surname)) and len(words) > surname_words:
        return " ".join(words[:-surname_words]), " ".join(words[-surname_words:]), _WHOLE_NAME_BY_WORDS
    return None


def _decisions(
    read_as: dict[int, str], pupils: list[Pupil], header: str | None, surname_header: str | None
) -> list[Decision]:
    """What was decided about the preferred-name cells of the rows used, one Decision a kind."""
    if not read_as:
        return []
    rows: dict[str, list[int]] = {}
    for pupil in pupils:
        kind = read_as.get(pupil.row)
        if kind is not None:
            rows.setdefault(kind, []).append(pupil.row)
    decisions = []
    for kind, message in _DECIDED.items():
        if kind not in rows:
            continue
        if surname_header and kind != _KEPT_FORENAME:
            message += f"; where '{surname_header}' has a value of its own, that is the preferred surname"
        decisions.append(Decision(kind, header, message, tuple(rows[kind])))
    return decisions
