"""What a platform is sent about a pupil: the values of its declared fields (``project``), made
for a create only as the apply records it (``Projection``), and as the state holds the values
last sent (``SentTexts``), so a plan finds the pupils with nothing to send by comparing texts.
The plan (planning/provisioning.py) decides who is created, updated or left alone from these."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property
from itertools import compress, repeat
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING

from provisioner.connector import Connector, PupilView
from provisioner.models import Pupil
from provisioner.state import json_text, sent_format
from provisioner.usernames import FoldedNames

if TYPE_CHECKING:
    from provisioner.planning.provisioning import Change

# (platform, pupil keys) -> each pupil's pseudonymous id on the platform (``Workspace.pseudonymous_ids``)
Pseudonymise = Callable[[str, Iterable[str]], list[str]]


def _as_text(value: object) -> str:
    return "" if value is None else value.isoformat() if isinstance(value, date) else str(value)


def project(connector: Connector, pupil: Pupil, *, username: str, pseudonymise: Pseudonymise) -> PupilView:
    """The fields one platform receives about one pupil, as text; no other field is read.

    ``pseudonymise(platform, pupil keys)`` makes the platform's pseudonymous ids. The password
    is declared but has no value: it is made when the file is written or the account set, and
    never stored.
    """
    ids = pseudonymous_ids_of(connector, pseudonymise, [pupil.key])
    return connector.view(projected_values(connector, pupil, username, ids.get(pupil.key, "")))


def pseudonymous_ids_of(connector: Connector, pseudonymise: Pseudonymise, keys: list[str]) -> dict[str, str]:
    """Each of these pupils' pseudonymous id on the platform, made together (``pseudonymise``);
    none where the platform is not sent one."""
    if "pseudonymous_id" not in connector.sent_fields:
        return {}
    return dict(zip(keys, pseudonymise(connector.id, keys)))


# Where each of the pupil's fields is in a ``Pupil``: a trust's first plan projects 340,000 pupil
# and platform pairs, and indexing the tuple is the cheapest way to each value.
_PUPIL_AT = {name: at for at, name in enumerate(Pupil._fields)}
_USERNAME, _PSEUDONYMOUS_ID, _NOT_SENT = -1, -2, -3  # the account's own fields, and the password
_OWN_FIELDS = {"username": _USERNAME, "pseudonymous_id": _PSEUDONYMOUS_ID, "password": _NOT_SENT}


@cache
def _recipe(fields: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """Each field a platform is sent a value of and where that value comes from: the pupil's
    field at that place, or the account's own (its username, its pseudonymous id). The password
    is left out: it is never projected."""
    at_of = (_OWN_FIELDS[name] if name in _OWN_FIELDS else _PUPIL_AT[name] for name in fields)
    return tuple((name, at) for name, at in zip(fields, at_of) if at != _NOT_SENT)


def _values_of(recipe: tuple[tuple[str, int], ...], pupil: Pupil, username: str,
               pseudonymous_id: str) -> dict[str, str]:  # fmt: skip
    """The values ``recipe`` (``_recipe``) makes of one pupil, as text, in its order."""
    values = {}
    for name, at in recipe:
        if at >= 0:
            value = pupil[at]
            values[name] = value if type(value) is str else _as_text(value)  # most fields are text already
        else:
            values[name] = username if at == _USERNAME else pseudonymous_id
    return values


def projected_values(connector: Connector, pupil: Pupil, username: str, pseudonymous_id: str) -> dict[str, str]:
    """``project``'s values as a plain dict, which the plan compares with the values last sent."""
    return _values_of(_recipe(connector.sent_fields), pupil, username, pseudonymous_id)


@dataclass(frozen=True, slots=True)
class Projection:
    """A platform's creates' values, made from their pupils when the apply records them, not
    when the plan is made: a trust's first plan holds 270,000 creates on six platforms, and their
    values (a view of each pupil's fields, its pseudonymous id) would be held from the plan until
    each platform is recorded. Made then by ``project`` all the same, they are the same values."""

    connector: Connector
    pupils: Mapping[str, Pupil]
    pseudonymise: Pseudonymise
    # What ``project`` looks up for every pupil, looked up once a platform: where each value
    # comes from (``_recipe``), and whether it is sent an id.
    _fields: tuple[tuple[str, int], ...] = field(init=False, repr=False, compare=False)
    _sends_id: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_fields", _recipe(self.connector.sent_fields))
        object.__setattr__(self, "_sends_id", "pseudonymous_id" in self.connector.sent_fields)

    def nothing_held(self) -> PupilView:
        """The fields every create is given, each empty: what a platform fed from the MIS is
        recorded to hold (``PlatformPlan.holding``), with no value made for anyone."""
        names = dict.fromkeys((name for name, _ in self._fields), "")
        return PupilView.of_declared(self.connector.id, names, self.connector.declared)

    def __call__(self, change: Change) -> PupilView:
        """``project(connector, the change's pupil, username=change.username, pseudonymise=...)``:
        the same values, made by the same recipe, viewed without checking each create's fields
        again (they are the platform's own ``sent_fields``)."""
        connector, pupil = self.connector, self.pupils[change.pupil_key]
        pseudonymous_id = self.pseudonymise(connector.id, [pupil.key])[0] if self._sends_id else ""
        values = _values_of(self._fields, pupil, change.username, pseudonymous_id)
        return PupilView.of_declared(connector.id, values, connector.declared)


# Fields a platform is given that are not the roster pupil's: its own username and id for them.
_OF_THE_ACCOUNT = ("username", "pseudonymous_id")

# An account as a plan reads it (``State.accounts_to_plan``): (pupil key, username, status, None
# for active, the values last sent as text).
USERNAME_OF, STATUS_OF, SENT_OF = itemgetter(1), itemgetter(2), itemgetter(3)


class SentTexts:
    """The pupils a plan may send to (on roll, not withheld), in roster order, with their values
    as the state holds the values last sent (JSON text), so a plan finds a pupil with nothing to
    send by comparing two strings, not by decoding the account.

    A trust's plan compares about 350,000 pupil and platform pairs, nearly all the same as last
    time: each pupil's fields are written as JSON once for every platform, a column at a time,
    and a platform's text is its ``sent_format`` filled in with them, its username and its
    pseudonymous id. The texts are made and compared a platform at a time without a Python
    statement per pupil (``held_alike``): only the pupils whose text differs are looked at one by
    one. The same text is the same values; a different text is decoded and compared field by
    field, so a plan never depends on two ways of writing the same values being alike."""

    def __init__(self, pupils: Iterable[Pupil], connectors: Iterable[Connector]):
        self.pupils = list(pupils)
        self.keys = list(map(attrgetter("key"), self.pupils))
        self.folded = FoldedNames()  # the names new usernames are made of, folded once for every platform
        # Each pupil's (year group, class), and the first pupil placed in each: a platform asks
        # its scope about each placement once.
        years, classes = map(attrgetter("year_group"), self.pupils), map(attrgetter("class_name"), self.pupils)
        self.placements = list(zip(years, classes))
        self.first_placed = dict(zip(reversed(self.placements), range(len(self.pupils) - 1, -1, -1)))
        # Where a pupil's texts are: the last of two rows with one key, as a dict by key would keep.
        self._at = dict(zip(self.keys, range(len(self.keys))))
        names = sorted({n for c in connectors for n in c.sent_fields} - {"password", *_OF_THE_ACCOUNT})
        self._columns: dict[str, list[str]] = {}
        for name in names:
            values = list(map(attrgetter(name), self.pupils))
            if set(map(type, values)) == {str}:
                self._columns[name] = list(map(json_text, values))
            else:  # dates, or a blank (None): each distinct value written once (50,000 births, a few thousand days)
                texts = {value: json_text(_as_text(value)) for value in set(values)}
                self._columns[name] = list(map(texts.__getitem__, values))

    @cached_property
    def names(self) -> list[str]:
        """Each pupil's name for the admin, made once for every platform's changes."""
        return list(map(attrgetter("display_name"), self.pupils))

    @cached_property
    def by_key(self) -> dict[str, Pupil]:
        """Each pupil by key, which every platform's ``Projection`` shares."""
        return dict(zip(self.keys, self.pupils))

    @cached_property
    def placed(self) -> set[str]:
        """The pupils' keys: those a platform serving every one of them places."""
        return set(self.keys)

    def held_alike(self, connector: Connector, pseudonymise: Pseudonymise, keys: list[str],
                   accounts: Mapping[str, tuple]) -> list[bool]:  # fmt: skip
        """For each of these pupils, whether the account the platform holds (``accounts``, as
        ``State.accounts_to_plan`` reads them) was last sent exactly what it would be sent now; False
        where it holds none (no text is made for those). Each text is made and compared by
        ``map``, a column at a time."""
        names = [name for name in connector.sent_fields if name != "password"]
        form, platform = sent_format(names), connector.id
        present = list(map(accounts.__contains__, keys))
        if not all(present):  # new pupils: no text to make for them (a first apply's every pupil)
            alike = iter(self.held_alike(connector, pseudonymise, list(compress(keys, present)), accounts)
                         if any(present) else ())  # fmt: skip
            return [held and next(alike) for held in present]
        rows = list(map(accounts.__getitem__, keys))
        # Each pupil's texts, where they are: every pupil's in order when these are every pupil
        # (a platform serving the whole roster) and no key is given twice, the usual case.
        if keys is self.keys and len(self._at) == len(keys):
            column_of = self._columns.__getitem__
        else:
            at = list(map(self._at.__getitem__, keys))

            def column_of(name: str) -> Iterable[str]:
                return map(self._columns[name].__getitem__, at)

        columns = []
        for name in names:
            if name == "username":
                columns.append(map(json_text, map(USERNAME_OF, rows)))
            elif name == "pseudonymous_id":
                columns.append(map(json_text, pseudonymise(platform, keys)))  # made together, in one loop
            else:
                columns.append(column_of(name))
        texts = map(form.__mod__, zip(*columns) if columns else repeat((), len(keys)))
        return list(map(str.__eq__, map(SENT_OF, rows), texts))
