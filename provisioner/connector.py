"""The connector base class, the pupil projection connectors see, and the registry.

A platform is one module in the ``connectors`` package holding one ``Connector`` subclass,
plus one register entry in ``registers/``. The core finds connectors by importing that
package's modules, so adding a platform needs no edit here.
"""

from __future__ import annotations

import csv
import importlib
import io
import pkgutil
import re
import string
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from provisioner import files
from provisioner.errors import UndeclaredFieldError
from provisioner.fields import FIELDS
from provisioner.passwords import CHILD_FRIENDLY, PasswordRule

FILE = "file"  # the tool writes an import file; the admin uploads it and confirms
API = "api"  # the tool calls the platform
MIS_SYNC = "mis-sync"  # the platform reads the MIS itself; the tool records what it holds

USERNAME_TOKENS = ("forename", "surname", "forename_initial", "surname_initial", "year_group")


class PlatformSettings(BaseModel):
    """``[platforms.<id>]`` in provisioner.toml. A connector may subclass this for its own keys.

    Validated with the connector class as context (``platform_settings``), so optional fields
    and columns are checked against what that platform may receive.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    username_template: str | None = Field(
        None, description="Username pattern from {forename} {surname} {forename_initial} {surname_initial} {year_group}."
    )
    optional_fields: list[str] = Field(
        default_factory=list, description="Optional fields the school chooses to send as well (off by default)."
    )
    columns: dict[str, str] | None = Field(
        None, description='The import file\'s columns, in order: "Header in the platform\'s template" = "field".'
    )
    sign_in_url: str | None = Field(None, description="The school's own sign-in address, printed on login slips.")
    disable_after_days: int | None = Field(
        None, ge=0, description="Days after leaving to disable a leaver's account (default: the register entry's)."
    )
    delete_after_days: int | None = Field(
        None, ge=0, description="Days after leaving to delete it (default: the register entry's)."
    )

    @model_validator(mode="after")
    def _username_from_sent_fields(self, info: ValidationInfo) -> PlatformSettings:
        """A username made from a field the platform does not receive would send that field."""
        connector_class = (info.context or {}).get("connector")
        if connector_class is None:
            return self
        connector = connector_class(self)
        if connector.mode == MIS_SYNC or "username" not in connector.sent_fields:
            return self
        template = connector.effective_username_template
        needs = {name.removesuffix("_initial") for _, name, _, _ in string.Formatter().parse(template) if name}
        missing = sorted(needs - set(connector.sent_fields))
        if missing:
            raise ValueError(
                f"the username rule {template!r} uses {', '.join(missing)}, which {connector.name} does not "
                "receive with these settings; change username_template or send the field"
            )
        return self

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

    @field_validator("sign_in_url")
    @classmethod
    def _web_address(cls, url: str | None) -> str | None:
        # Printed on slips a child copies: plain ASCII (an international domain in its
        # xn-- form), short enough to fit a card.
        if url is not None and not re.fullmatch(r"https://[!-~]{1,100}", url):
            raise ValueError("must be a web address starting https://, in plain ASCII with no spaces, "
                             "at most 108 characters")  # fmt: skip
        return url

    @field_validator("optional_fields")
    @classmethod
    def _offered(cls, chosen: list[str], info: ValidationInfo) -> list[str]:
        connector = (info.context or {}).get("connector")
        if connector is None:
            return chosen
        for name in chosen:
            if name not in connector.optional_fields:
                offered = ", ".join(connector.optional_fields) or "none"
                raise ValueError(f"'{name}' is not an optional field of {connector.name} (it offers: {offered})")
        return list(dict.fromkeys(chosen))

    @field_validator("columns")
    @classmethod
    def _sendable(cls, columns: dict[str, str] | None, info: ValidationInfo) -> dict[str, str] | None:
        connector = (info.context or {}).get("connector")
        if connector is None or columns is None:
            return columns
        if not columns:
            raise ValueError("lists no columns; leave the setting out to use the platform's own layout")
        if any(not header.strip() for header in columns):
            raise ValueError("a column has an empty header")
        sources = set(columns.values())
        if "password" in sources and "username" not in sources:
            raise ValueError("has a password column but no username column: slips would not say whose it is")
        allowed = (*connector.fields, *info.data.get("optional_fields", ()), *connector.derived)
        for header, source in columns.items():
            if source not in allowed:
                raise ValueError(
                    f'"{header}" = "{source}": {connector.name} may be sent only {", ".join(allowed)}'
                    " (an optional field must be listed in optional_fields first)"
                )
        return columns


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


@dataclass
class Work:
    """For an API connector: one recorded send, with its new password if it has one (never stored)."""

    send_id: int
    action: str  # create, update
    values: dict[str, str]
    changed: list[str]
    remote_id: str | None  # the platform's id for the account, once known


@dataclass
class Outcome:
    """What became of one ``Work``: done (with the account's final username and id) or failed."""

    send_id: int
    ok: bool
    username: str | None = None
    remote_id: str | None = None
    error: str | None = None  # the platform's error code; never pupil data


class Connector:
    """Base class for a platform connector.

    Subclasses set the class attributes below; the engine does the rest (planning,
    usernames, passwords, intent records, atomic files, login slips, the audit log).

    - ``id``: the processor id, as in settings, the register and the outbox (``purple-mash``).
    - ``name``: the platform's name for people.
    - ``mode``: ``FILE`` (the tool writes an import file for the admin to upload), ``API``
      (the tool calls the platform) or ``MIS_SYNC`` (the platform reads the MIS itself and
      the tool only records what it holds).
    - ``fields``: the explicit allow-list of vocabulary fields (provisioner.fields) the
      platform always receives. The register's "fields held" is generated from it.
    - ``optional_fields``: fields the platform can take but is sent only when the school
      lists them in ``optional_fields`` in its settings.
    - ``username_template`` and ``username_max_length``: the default username rule.
    - ``password_rule``: the passwords the platform accepts (``None``: it makes its own).
    - ``sign_in_url``: where pupils sign in (printed on login slips; a school may override it).
    - ``verified``: False when no public template was found and the layout is our best guess;
      the register says so and the school can match its template with ``columns``.
    - ``Settings``: the pydantic model of ``[platforms.<id>]``.
    - ``full_set``: each import must list every pupil the platform holds, not only changes
      (the platform treats a pupil missing from an upload as a leaver).

    File connectors set ``columns``: (header, source) pairs in the platform's template
    order, where a source is a field or a name in ``derived`` (a value the connector builds
    from fields, such as a full name); they override ``file_values`` to build or format
    values. Everything a connector returns must come from the ``PupilView`` it is given.
    """

    id: ClassVar[str]
    name: ClassVar[str]
    mode: ClassVar[str] = FILE
    fields: ClassVar[tuple[str, ...]]
    optional_fields: ClassVar[tuple[str, ...]] = ()
    username_template: ClassVar[str] = "{forename}{surname_initial}"
    username_max_length: ClassVar[int] = 20
    password_rule: ClassVar[PasswordRule | None] = CHILD_FRIENDLY
    sign_in_url: ClassVar[str] = ""
    verified: ClassVar[bool] = True
    resets_by_import: ClassVar[bool] = True  # False: new passwords for existing pupils are set on the platform
    full_set: ClassVar[bool] = False  # True: every upload lists every pupil held, since absence means a leaver
    Settings: ClassVar[type[PlatformSettings]] = PlatformSettings

    # File mode
    columns: ClassVar[tuple[tuple[str, str], ...]] = ()
    derived: ClassVar[dict[str, tuple[str, ...]]] = {}  # derived source -> the fields it is made from

    def __init__(self, settings: PlatformSettings | None = None):
        self.settings = settings or self.Settings()

    @property
    def effective_username_template(self) -> str:
        return self.settings.username_template or self.username_template

    @property
    def effective_sign_in_url(self) -> str:
        return self.settings.sign_in_url or self.sign_in_url

    @property
    def sent_fields(self) -> tuple[str, ...]:
        """The fields this platform receives with these settings: what the register lists."""
        enabled = (*self.fields, *(f for f in self.optional_fields if f in self.settings.optional_fields))
        if self.mode != FILE:
            return enabled
        used = {name for _, source in self.file_columns for name in self.derived.get(source, (source,))}
        return tuple(name for name in enabled if name in used)

    @property
    def file_columns(self) -> tuple[tuple[str, str], ...]:
        """(header, source) of the import file: the school's layout if it set one, else ours."""
        if self.settings.columns is not None:
            return tuple(self.settings.columns.items())
        enabled = {*self.fields, *self.settings.optional_fields}
        return tuple(
            (header, source)
            for header, source in self.columns
            if all(name in enabled for name in self.derived.get(source, (source,)))
        )

    @property
    def header(self) -> list[str]:
        return [header for header, _ in self.file_columns]

    @property
    def issues_passwords(self) -> bool:
        return self.password_rule is not None and "password" in self.sent_fields

    # API mode

    def connect(self, school_domain: str):
        """Sign in and read what the platform holds; the result is passed back to ``push``."""
        raise NotImplementedError

    def push(self, directory, work: list[Work], next_username, progress=None) -> Iterator[Outcome]:
        """Carry out recorded sends and yield an ``Outcome`` for each. Must be safe to repeat:
        a send whose account already exists (found by its pseudonymous id) is adopted."""
        raise NotImplementedError

    def drift(self, directory, held: Mapping[str, PupilView], gone: set[str] = frozenset()) -> list:
        """What hangs off the accounts (licences, groups) and differs from the state; none by default.
        ``held``: remote id -> what an account on roll was sent; ``gone``: leavers' remote ids."""
        return []

    def preflight(self, directory, new_accounts: int, fixes: list) -> None:
        """Raise before anything is sent if the platform cannot take this apply (no free licences)."""

    def reconcile(self, directory, fixes: list) -> Counter:
        """Carry out ``drift``'s fixes; safe to repeat. Returns how many of each kind were done."""
        return Counter()

    # The leaver cleanup's hooks (API mode): each takes the platform's own ids and returns
    # {id: confirmed}, confirmed by reading the platform back, never by trusting the call.

    def disable(self, directory, remote_ids: list[str]) -> dict[str, bool]:
        """Stop these accounts signing in, keeping them."""
        raise NotImplementedError(f"{self.name} cannot disable accounts")

    def enable(self, directory, remote_ids: list[str]) -> dict[str, bool]:
        """Let disabled accounts sign in again (a returner)."""
        raise NotImplementedError(f"{self.name} cannot enable accounts")

    def delete(self, directory, remote_ids: list[str]) -> dict[str, bool]:
        """Delete a leaver's accounts (the platform may keep them restorable for a while)."""
        raise NotImplementedError(f"{self.name} cannot delete accounts")

    def restore(self, directory, remote_ids: list[str]) -> dict[str, bool]:
        """Bring back accounts deleted but still restorable."""
        raise NotImplementedError(f"{self.name} cannot restore accounts")

    def erase(self, directory, remote_ids: list[str]) -> dict[str, bool]:
        """Delete for good (an erasure request): not restorable afterwards."""
        raise NotImplementedError(f"{self.name} cannot erase accounts")

    def settings_notes(self) -> list[str]:
        """Extra commented lines for this platform's section of a new provisioner.toml."""
        return []

    def file_values(self, pupil: PupilView) -> dict[str, str]:
        """Every value a column can take for this pupil: the fields as sent, plus ``derived`` ones."""
        return dict(pupil)

    def import_row(self, pupil: PupilView) -> list[str]:
        """One row of the platform's import file, in ``file_columns`` order."""
        values = self.file_values(pupil)
        return [values.get(source, "") for _, source in self.file_columns]

    def import_file_name(self, batch_id: str) -> str:
        return f"{self.id}-import-{batch_id}.csv"

    def write_import(self, path: Path, pupils: list[PupilView], school_name: str) -> None:
        """Write one batch's import at ``path``, whole or not at all (passwords are in the views)."""
        files.atomic_write_bytes(path, files.csv_bytes(self.header, [self.import_row(p) for p in pupils]))

    def passwords_in(self, path: Path) -> dict[str, str]:
        """Username -> password from an import this tool wrote whole at ``path`` (empty if none)."""
        return _passwords_in_csv(path, self.header, [source for _, source in self.file_columns])

    def sign_in_name(self, username: str, school_domain: str) -> str:
        """What a pupil types to sign in, as printed on the slip."""
        return username

    def slips_file_name(self, batch_id: str, suffix: str) -> str:
        return f"{self.id}-login-slips-{batch_id}{suffix}"


def _passwords_in_csv(path: Path, header: list[str], sources: list[str]) -> dict[str, str]:
    if not path.is_file() or "username" not in sources or "password" not in sources:
        return {}
    user, secret = sources.index("username"), sources.index("password")
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    if not rows or rows[0] != header:
        return {}
    return {row[user]: row[secret] for row in rows[1:] if len(row) == len(header) and row[secret]}


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
