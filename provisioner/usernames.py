"""Usernames: a per-platform template, ASCII for typing, counters that never reuse a name.

The display name keeps its Unicode (Zoë, Łukasz); only the username is transliterated.
Names a child can type: lower case a-z and digits. A counter is added on collision (lilyl,
lilyl2, lilyl3...), and every username ever issued on a platform stays taken in the state,
so a name freed by a leaver is never handed to another child.
"""

from __future__ import annotations

import re
import unicodedata

from provisioner.models import Pupil

# Letters that Unicode decomposition does not reduce to a base letter plus accents.
_SPECIAL = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ı": "i", "ħ": "h",
     "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "TH"}
)  # fmt: skip

FALLBACK = "pupil"  # for a name with no Latin letters at all


_NOT_TYPEABLE = re.compile(r"[^a-z0-9]+")


def ascii_fold(text: str) -> str:
    """Lower-case a-z and 0-9 only: 'Zoë O’Brien' -> 'zoeobrien', 'Łukasz' -> 'lukasz'."""
    if text.isascii():
        if text.isalnum() and text.islower():
            return text  # typeable already, as a username made from folded names usually is
    else:
        text = unicodedata.normalize("NFKD", text.translate(_SPECIAL)).encode("ascii", "ignore").decode()
    return _NOT_TYPEABLE.sub("", text.lower())


class FoldedNames(dict):
    """``ascii_fold`` of each text asked for, each distinct text folded once: a trust's first
    apply makes 300,000 usernames from a few thousand distinct names (``base_username``'s
    ``folded``). Kept for one plan, not beyond."""

    def __missing__(self, text: str) -> str:
        folded = self[text] = ascii_fold(text)
        return folded


def base_username(template: str, pupil: Pupil, folded: FoldedNames | None = None) -> str:
    """The username the template makes of the pupil's names, before any counter is added;
    ``folded``: the folded names of this plan, shared by its platforms."""
    fold = ascii_fold if folded is None else folded.__getitem__
    forename, surname = fold(pupil.forename), fold(pupil.surname)
    parts = {
        "forename": forename,
        "surname": surname,
        "forename_initial": forename[:1],
        "surname_initial": surname[:1],
        "year_group": fold(pupil.year_group),
    }
    return ascii_fold(template.format_map(parts)) or FALLBACK


class UsernameAllocator:
    """Hands out free usernames: base, base2, base3... cut to ``max_length``.

    ``taken`` is every username ever issued on the platform. The last counter used for each
    base is remembered, so a trust with hundreds of 'oliviaa's is not searched from 2 each time.
    """

    def __init__(self, taken: set[str], max_length: int):
        self.taken = taken
        self.max_length = max_length
        self._last_counter: dict[str, int] = {}

    def allocate(self, base: str) -> str:
        candidate = base[: self.max_length]
        counter = self._last_counter.get(base, 1)
        while candidate in self.taken:
            counter += 1
            suffix = str(counter)
            candidate = base[: self.max_length - len(suffix)] + suffix
        self._last_counter[base] = counter
        self.taken.add(candidate)
        return candidate

