"""What a connector may read about a pupil: a projection holding its declared fields, nothing else.

The plan makes the projection from a roster ``Pupil`` (``planning.projection.project``); the
values are recorded in the state exactly as they will be sent, and read back into a
``PupilView`` when the file is written or the API called. So the file path and the API path
hand a connector the same guarded view, and what the register says a platform holds is what
it can read.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView

from provisioner.errors import UndeclaredFieldError
from provisioner.fields import FIELDS


class PupilView(Mapping[str, str]):
    """The projection of one pupil that a connector may read: its declared fields, nothing else.

    Values are text as they will be sent (dates in ISO form). Reading any other field of the
    vocabulary raises UndeclaredFieldError, so a connector cannot quietly send more than its
    register entry says. ``declared`` are the fields the platform receives now: a value of any
    other field (one sent before the school turned it off) is left out, and a declared field
    with no value (the password of an update that sets none) is simply missing.
    """

    __slots__ = ("_platform", "_values", "_declared")

    def __init__(self, platform: str, values: Mapping[str, str], declared: Iterable[str]):
        self._platform = platform
        self._declared = frozenset(declared)  # the connector's own set, shared by all its views
        # A plan makes a view per pupil and platform, almost always of declared fields only:
        # checked as a set first, and only filtered when something undeclared is there.
        keys = values.keys()
        if keys <= self._declared:
            self._values = dict(values)
        else:
            self._values = {name: value for name, value in values.items() if name in self._declared}

    def __getitem__(self, name: str) -> str:
        try:
            return self._values[name]
        except KeyError:
            if name in FIELDS and name not in self._declared:
                raise self._undeclared(name) from None
            raise

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __contains__(self, name: object) -> bool:  # asking is not reading: never raises
        return name in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    # The values' own views, not the Mapping mixin's, which read each value through
    # ``__getitem__``: an apply turns a trust's 270,000 views into text (``state.sent_texts``).
    def keys(self) -> KeysView[str]:
        return self._values.keys()

    def values(self) -> ValuesView[str]:
        return self._values.values()

    def items(self) -> ItemsView[str, str]:
        return self._values.items()

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:  # never print values: they are pupil data
        return f"PupilView({self._platform!r}, fields={sorted(self._values)})"

    def with_values(self, **values: str) -> PupilView:
        """A copy with these declared fields set: a first password, or the username a platform
        gave instead of the one asked for."""
        for name in values:
            if name not in self._declared:
                raise self._undeclared(name)
        # Made directly: every value is declared, so there is nothing for ``__init__`` to filter.
        view = PupilView.__new__(PupilView)
        view._platform, view._values, view._declared = self._platform, {**self._values, **values}, self._declared
        return view

    @classmethod
    def of_declared(cls, platform: str, values: dict[str, str], declared: frozenset[str]) -> PupilView:
        """The view of ``values`` whose every field its maker knows is declared (a platform's
        creates, projected from its own field list), holding that dict itself: an apply projects
        a trust's 270,000 creates, and ``__init__`` would check and copy each one's values."""
        view = cls.__new__(cls)
        view._platform, view._values, view._declared = platform, values, declared
        return view

    def _undeclared(self, name: str) -> UndeclaredFieldError:
        return UndeclaredFieldError(
            f"connector '{self._platform}' read the field '{name}', which it does not declare",
            hint="add the field to the connector's `fields` and its register entry, or stop reading it",
        )
