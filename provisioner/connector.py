"""The connector base class, the pupil projection connectors see, and the registry.

A platform is one module in the ``connectors`` package holding one ``Connector`` subclass,
plus one register entry in ``registers/``. The core finds connectors by importing that
package's modules, so adding a platform needs no edit here.
"""

from __future__ import annotations

import importlib
import pkgutil
import string
from collections.abc import Iterator, Mapping
from functools import cache
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from provisioner.errors import UndeclaredFieldError
from provisioner.fields import FIELDS

FILE = "file"
API = "api"

USERNAME_TOKENS = ("forename", "surname", "forename_initial", "surname_initial", "year_group")


class PlatformSettings(BaseModel):
    """``[platforms.<id>]`` in provisioner.toml. A connector may subclass this for its own keys."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    username_template: str | None = Field(
        None, description="Username pattern from {forename} {surname} {forename_initial} {surname_initial} {year_group}."
    )

    @field_validator("username_template")
    @classmethod
    def _known_tokens(cls, template: str | None) -> str | None:
        if template is None:
            return None
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
        except ValueError as exc:
            raise ValueError(f"not a valid template ({exc})") from None
        unknown = [name for name in names if name not in USERNAME_TOKENS]
        if unknown:
            raise ValueError(f"unknown part {{{unknown[0]}}}; use {', '.join('{' + t + '}' for t in USERNAME_TOKENS)}")
        if not names:
            raise ValueError("the template has no name part, so every pupil would get the same username")
        return template


class PupilView(Mapping[str, str]):
    """The projection of one pupil that a connector may read: its declared fields, nothing else.

    Values are text as they will be sent (dates in ISO form). Reading any other field of the
    vocabulary raises UndeclaredFieldError, so a connector cannot quietly send more than its
    register entry says.
    """

    __slots__ = ("_platform", "_values")

    def __init__(self, platform: str, values: Mapping[str, str]):
        self._platform = platform
        self._values = dict(values)

    def __getitem__(self, name: str) -> str:
        try:
            return self._values[name]
        except KeyError:
            if name in FIELDS:
                raise UndeclaredFieldError(
                    f"connector '{self._platform}' read the field '{name}', which it does not declare",
                    hint="add the field to the connector's `fields` and its register entry, or stop reading it",
                ) from None
            raise

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:  # never print values: they are pupil data
        return f"PupilView({self._platform!r}, fields={sorted(self._values)})"


class Connector:
    """Base class for a platform connector.

    Subclasses set the class attributes below; the engine does the rest (planning,
    usernames, intent records, atomic files, the audit log).

    - ``id``: the processor id, as in settings, the register and the outbox (``purple-mash``).
    - ``name``: the platform's name for people.
    - ``mode``: ``"file"`` (the tool writes an import file for the admin to upload) or
      ``"api"`` (the tool calls the platform).
    - ``fields``: the explicit allow-list of vocabulary fields (provisioner.fields) the
      platform receives. The register's "fields held" is generated from it.
    - ``username_template`` and ``username_max_length``: the default username rule.
    - ``sign_in_url``: where pupils sign in (printed on login slips).
    - ``Settings``: the pydantic model of ``[platforms.<id>]``.

    File connectors provide ``import_columns`` and ``import_row``; the engine writes the
    file. Everything a connector returns must be derived from the ``PupilView`` it is given.
    """

    id: ClassVar[str]
    name: ClassVar[str]
    mode: ClassVar[str] = FILE
    fields: ClassVar[tuple[str, ...]]
    username_template: ClassVar[str] = "{forename}{surname_initial}"
    username_max_length: ClassVar[int] = 20
    sign_in_url: ClassVar[str] = ""
    Settings: ClassVar[type[PlatformSettings]] = PlatformSettings

    # File mode
    import_columns: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: PlatformSettings | None = None):
        self.settings = settings or self.Settings()

    @property
    def effective_username_template(self) -> str:
        return self.settings.username_template or self.username_template

    def import_row(self, pupil: PupilView) -> list[str]:
        """One row of the platform's import file, in ``import_columns`` order."""
        raise NotImplementedError

    def import_file_name(self, batch_id: str) -> str:
        return f"{self.id}-import-{batch_id}.csv"


def _iter_connector_classes() -> Iterator[type[Connector]]:
    package = importlib.import_module("connectors")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"connectors.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Connector) and value is not Connector:
                if value.__module__ == module.__name__:
                    yield value


@cache
def registry() -> dict[str, type[Connector]]:
    """Every connector class, by platform id."""
    found: dict[str, type[Connector]] = {}
    for cls in _iter_connector_classes():
        if cls.id in found:
            raise RuntimeError(f"two connectors claim the platform id '{cls.id}'")
        found[cls.id] = cls
    return found
