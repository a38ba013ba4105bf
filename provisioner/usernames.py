"""Usernames: a per-platform template, ASCII for typing, counters that never reuse a name.

The display name keeps its Unicode (Zoë, Łukasz); only the username is transliterated.
Names a child can type: lower case a-z and digits. A counter is added on collision (lilyl,
lilyl2, lilyl3...), and every username ever issued on a platform stays taken in the state,
so a name freed by a leaver is never handed to another child.
"""

from __future__ import annotations

import unicodedata

from provisioner.models import Pupil

# Letters that Unicode decomposition does not reduce to a base letter plus accents.
_SPECIAL = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ı": "i", "ħ": "h",
     "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "TH"}
)  # fmt: skip

FALLBACK = "pupil"  # for a name with no Latin letters at all


def ascii_fold(text: str) -> str:
    """Lower-case a-z and 0-9 only: 'Zoë O’Brien' -> 'zoeobrien', 'Łukasz' -> 'lukasz'."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def base_username(template: str, pupil: Pupil) -> str:
    forename, surname = ascii_fold(pupil.forename), ascii_fold(pupil.surname)
    parts = {
        "forename": forename,
        "surname": surname,
        "forename_initial": forename[:1],
        "surname_initial": surname[:1],
        "year_group": ascii_fold(pupil.year_group),
    }
    return ascii_fold(template.format_map(parts)) or FALLBACK


def allocate(base: str, taken: set[str], max_length: int) -> str:
    """The first free name of base, base2, base3... cut to max_length; adds it to ``taken``."""
    candidate = base[:max_length]
    counter = 1
    while candidate in taken:
        counter += 1
        suffix = str(counter)
        candidate = base[: max_length - len(suffix)] + suffix
    taken.add(candidate)
    return candidate
