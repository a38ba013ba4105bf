"""Which pupils a platform serves: its scope, by year group and class.

Most platforms are for part of a school (times tables for Years 1 to 6, phonics for the
youngest), and a child who will never use one should not be on it: the first thing "as little
data as possible" means is "only the pupils who use it". A platform's register entry gives a
default scope (``[scope]`` in ``registers/<id>.toml``), a school policy default and not a
supplier fact; the school changes it under ``[platforms.<id>]`` with ``year_groups``,
``classes`` and ``exclude_classes``. Each key the school sets replaces the default's; the
default only ever limits year groups, since class names are the school's own.

A pupil is served when their year group is in ``year_groups`` (all, when unset), their class
is in ``classes`` (all, when unset), and their class is not in ``exclude_classes``. Classes
are compared as the roster's are cleaned (trimmed, whitespace runs as one space) and without
regard to case, so "3a" and " 3A " are one class.

Nursery: an export may say only ``N`` (nursery, the year not given). ``N`` in a scope serves
every nursery child (``N``, ``N1``, ``N2``); and a child whose year is ``N`` is served where
``N1`` or ``N2`` is in scope, since the school chose to serve nursery children there and the
roster cannot tell which year the child is in (export ``N1``/``N2`` to tell them apart).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from provisioner.models import YEAR_GROUPS, year_group_label
from provisioner.roster.values import clean_text, parse_year_group

SCHOOL_SETTING = "school setting"
POLICY_DEFAULT = "school policy default"
SCOPE_KEYS = ("year_groups", "classes", "exclude_classes")
ALL_YEAR_GROUPS = "all year groups"  # how a scope with no limit is described

NURSERY = ("N", "N1", "N2")
# The order year groups follow from youngest to oldest, for ranges ("Years 1 to 6"). N stands
# for both nursery years, so it is described as them; X (out of year) is never in a range.
_ORDER = ("N1", "N2", "R", *(str(n) for n in range(1, 15)))
_CODES = ", ".join(YEAR_GROUPS)


def year_group_codes(values: Iterable[object]) -> tuple[str, ...]:
    """The canonical codes (models.YEAR_GROUPS) of a list of year groups as a school writes them
    ("Y3", "Year 3", "reception", or a number from TOML such as 3), in the order of the year.

    Raises ValueError naming the value that is not a year group."""
    codes = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValueError(f"{value!r} is not a year group; use the codes {_CODES}")
        code = parse_year_group(str(value).strip())
        if code is None:
            raise ValueError(f"{str(value)!r} is not a year group; use the codes {_CODES} "
                             "(Y3 and Year 3 are read as 3, Reception as R)")  # fmt: skip
        codes.append(code)
    order = {code: i for i, code in enumerate(YEAR_GROUPS)}
    return tuple(sorted(dict.fromkeys(codes), key=order.__getitem__))


def class_key(name: str) -> str:
    """A class name as the scope compares it: cleaned like the roster's, without regard to case."""
    return clean_text(name).casefold()


def class_names(values: Iterable[object]) -> tuple[str, ...]:
    """A list of class names, cleaned like the roster's; raises ValueError on an empty one."""
    names = []
    for value in values:
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise ValueError(f"{value!r} is not a class name; write it in quotes as the roster has it")
        name = clean_text(str(value))
        if not name:
            raise ValueError("a class name is empty")
        if class_key(name) not in {class_key(n) for n in names}:
            names.append(name)
    return tuple(names)


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def describe_year_groups(codes: Iterable[str]) -> str:
    """Year groups in words, runs as ranges: "Years 1 to 6", "Reception to Year 6", "Nursery"."""
    chosen = set(codes)
    if "N" in chosen:
        chosen |= {"N1", "N2"}
    runs: list[list[str]] = []
    for code in _ORDER:
        if code not in chosen:
            continue
        if runs and _ORDER.index(runs[-1][-1]) == _ORDER.index(code) - 1:
            runs[-1].append(code)
        else:
            runs.append([code])
    parts = []
    for run in runs:
        first, last = run[0], run[-1]
        if first == "N1" and last == "N2":
            parts.append("Nursery")
        elif len(run) == 1:
            parts.append(year_group_label(first))
        elif first.isdigit():
            parts.append(f"Years {first} {'and' if len(run) == 2 else 'to'} {last}")
        else:
            start = "Nursery" if first == "N1" else year_group_label(first)
            parts.append(f"{start} to {year_group_label(last)}")
    if "X" in chosen:
        parts.append("out of year")
    return _listed(parts) if parts else "no year group"


@dataclass(frozen=True)
class Scope:
    """Which pupils one platform serves, and where that came from.

    ``year_groups`` and ``classes`` are None for no limit; ``school_keys`` are the keys the
    school set (the rest are the register entry's default); ``note`` says why the default is
    what it is.
    """

    year_groups: tuple[str, ...] | None = None
    classes: tuple[str, ...] | None = None
    exclude_classes: tuple[str, ...] = ()
    school_keys: tuple[str, ...] = ()
    note: str = ""

    @classmethod
    def default(cls, year_groups: Iterable[object] | None = None, note: str = "") -> Scope:
        """A register entry's default scope ([scope] in registers/<id>.toml)."""
        return cls(year_group_codes(year_groups) if year_groups is not None else None, note=note)

    def with_settings(self, year_groups: Iterable[str] | None, classes: Iterable[str] | None,
                      exclude_classes: Iterable[str], keys_set: Iterable[str]) -> Scope:  # fmt: skip
        """This default with the school's own keys (``keys_set``: the ones it wrote) on top."""
        keys = tuple(k for k in SCOPE_KEYS if k in set(keys_set))
        return Scope(
            tuple(year_groups) if "year_groups" in keys and year_groups is not None else self.year_groups,
            tuple(classes) if "classes" in keys and classes is not None else self.classes,
            tuple(exclude_classes) if "exclude_classes" in keys else self.exclude_classes,
            keys, self.note,
        )  # fmt: skip

    @property
    def limited(self) -> bool:
        """Whether some pupil could fall outside it."""
        return self.year_groups is not None or self.classes is not None or bool(self.exclude_classes)

    @property
    def source(self) -> str:
        """Where it comes from: "school setting" once the school set any of it, else "school policy default"."""
        return SCHOOL_SETTING if self.school_keys else POLICY_DEFAULT

    def source_text(self) -> str:
        """The source in words, saying so where the year groups are still the default's."""
        if self.school_keys and "year_groups" not in self.school_keys and self.year_groups is not None:
            return f"{SCHOOL_SETTING}; year groups: {POLICY_DEFAULT}"
        return self.source

    @cached_property
    def _compared(self) -> tuple[frozenset[str] | None, frozenset[str] | None, frozenset[str]]:
        """(year groups, class keys served, class keys left out), worked out once, not per pupil."""
        return (None if self.year_groups is None else frozenset(self.year_groups),
                None if self.classes is None else frozenset(map(class_key, self.classes)),
                frozenset(map(class_key, self.exclude_classes)))  # fmt: skip

    def includes(self, year_group: str, class_name: str) -> bool:
        """Whether a pupil in this year group and class is served."""
        chosen, classes, excluded = self._compared
        if chosen is not None:
            nursery = year_group in NURSERY and ("N" in chosen or (year_group == "N" and chosen & set(NURSERY)))
            if year_group not in chosen and not nursery:
                return False
        if classes is None and not excluded:
            return True
        key = class_key(class_name)
        return (classes is None or key in classes) and key not in excluded

    def describe(self) -> str:
        """The scope in plain English: "Years 1 to 6", "all year groups", "Reception to Year 6,
        in classes RB and 1A", "all year groups, except class Nursery"."""
        years = describe_year_groups(self.year_groups) if self.year_groups is not None else None
        if self.classes is not None:
            plural = "class" if len(self.classes) == 1 else "classes"
            text = f"{years}, in {plural} {_listed(list(self.classes))}" if years else \
                f"{plural} {_listed(list(self.classes))}"  # fmt: skip
        else:
            text = years or ALL_YEAR_GROUPS
        if self.exclude_classes:
            plural = "class" if len(self.exclude_classes) == 1 else "classes"
            text += f", except {plural} {_listed(list(self.exclude_classes))}"
        return text

    def as_dict(self) -> dict:
        return {"description": self.describe(), "source": self.source_text(),
                "year_groups": list(self.year_groups) if self.year_groups is not None else None,
                "classes": list(self.classes) if self.classes is not None else None,
                "exclude_classes": list(self.exclude_classes), "note": self.note}  # fmt: skip
