"""How the state writes a platform's values and lists of pupils as text.

An account's ``sent`` and a send's ``fields`` are the text json.dumps writes; a plan compares
each pupil's values with that text made afresh (``sent_format``, ``sent_texts``), and decodes
only the accounts whose text differs (``decode_sent``). A list of pupils goes into a statement
as one JSON array (``KEYS_GIVEN``, ``EACH_KEY``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping

# The json module's scanner itself, without json.loads's checks and wrappers around it: a plan
# decodes up to every account of every platform (350,000 at 50,000 pupils on seven), and the
# state holds what json.dumps wrote, nothing else.
scan_json = json.scanner.make_scanner(json.JSONDecoder())


def decode_sent(text: str) -> dict[str, str]:
    """Values the state holds (the text json.dumps wrote), as a dict: decoded by the json scanner itself."""
    return scan_json(text, 0)[0]


# Rows of the pupils a caller names, however many: the keys go in as one JSON array (SQLite's
# json_each), not a statement per key nor a placeholder each (SQLite caps their number).
KEYS_GIVEN = "(SELECT value FROM json_each(?))"


def keys_given(pupil_keys: Iterable[str]) -> str:
    """The parameter ``KEYS_GIVEN`` reads: the keys as a JSON array."""
    return json.dumps(list(pupil_keys))


# A row for each key given, in the order given, for a statement that writes one row a pupil
# (``INSERT INTO sends ... SELECT ..., value, ... FROM EACH_KEY``, the parameter ``keys_given``):
# a trust's deletion list is one statement, not one a row, and the rows' ids follow the keys.
EACH_KEY = "json_each(?) ORDER BY key"


# How the state holds a platform's values (the ``sent`` of an account, a send's ``fields``):
# the text json.dumps writes. A plan compares each pupil's values with the values last sent as
# that text (``sent_format`` filled in with each value's ``json_text``): the same text is the
# same values, so only an account whose text differs is decoded (``decode_sent``).
json_text = json.encoder.encode_basestring_ascii  # one value, as json.dumps writes it


def sent_text(values: Mapping[str, str]) -> str:
    """Values as the state holds them."""
    return json.dumps(dict(values))


def sent_format(names: Iterable[str]) -> str:
    """The text the state holds for values of these fields, in this order, as a %-format of
    each value's ``json_text``: ``sent_format(names) % tuple(map(json_text, values)) ==
    sent_text(dict(zip(names, values)))``."""
    return "{" + ", ".join(json_text(name).replace("%", "%%") + ": %s" for name in names) + "}"


def sent_texts(values: Iterable[Mapping[str, str]]) -> Iterator[str]:
    """``sent_text`` of each of many values: each field order's ``sent_format`` made once, and
    each value made JSON text by the json module's own function (an apply records a trust's
    270,000 rows, nearly all of a platform's with the same fields in the same order)."""
    formats: dict[tuple[str, ...], str] = {}
    for one in values:
        names = tuple(one)
        text = formats.get(names)
        if text is None:
            text = formats[names] = sent_format(names)
        yield text % tuple(map(json_text, one.values()))


def values_copied(values: Mapping[str, str]) -> dict[str, str]:
    """A copy of values as a dict, in their order: a dict's own, or a view's (``PupilView`` gives
    its dict's items), copied whole in C (``dict_items.mapping``), not pair by pair."""
    items = values.items()
    held = getattr(items, "mapping", None)
    return held.copy() if held is not None else dict(items)
