"""Workspace settings (provisioner.toml), validated by pydantic."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from provisioner import times

COMBINED, PER_PLATFORM = "combined", "per-platform"


def empty_list() -> list:
    """A new empty list, as a field's ``default_factory``. A function of ours, not the builtin
    ``list`` (nor ``dict``, below): pydantic reads each factory's signature, and a builtin's is
    parsed from its text with ``tokenize``, whose first use compiles a pattern of about 20 ms,
    the largest single cost of starting ``status`` (bench/RESULTS.md, "Start-up")."""
    return []


def empty_dict() -> dict:
    """A new empty dict, as a field's ``default_factory`` (see ``empty_list``)."""
    return {}


class RosterSettings(BaseModel):
    """``[roster]``: how to read the school's MIS export."""

    model_config = ConfigDict(extra="forbid")

    use_preferred_names: bool = Field(
        True, description="Use preferred ('known as') names for display and usernames, legal names when false."
    )
    columns: dict[str, str] = Field(
        default_factory=empty_dict,
        description="Extra header aliases for odd exports: header text in the file = canonical field name.",
    )


class SchoolSettings(BaseModel):
    """``[school]``: who the workspace is for."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, description="The school's name, as printed on reports.")
    domain: str = Field(
        max_length=253,
        pattern=r"^([a-z0-9](-*[a-z0-9])*\.)+[a-z]{2,63}$",
        description="The domain for pupils' account names, e.g. example.sch.uk (lower case).",
    )
    time_zone: str = Field(
        times.DEFAULT_ZONE,
        description="The school's time zone, for every time a person reads (the state keeps UTC).",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        times.zone(name)
        return name

    @property
    def zone(self) -> ZoneInfo:
        """The school's time zone, for ``times.stamp`` and ``times.shown``."""
        return times.zone(self.time_zone)


class LeaverSettings(BaseModel):
    """``[leavers]``: the termly cleanup's safety limits and the tool's own retention."""

    model_config = ConfigDict(extra="forbid")

    exclude_enrolment_statuses: list[str] = Field(
        default_factory=empty_list,
        description='Enrolment statuses that get no accounts (e.g. ["S", "G"]: subsidiary and guest); '
        "their accounts are treated as leavers'.",
    )
    max_share: float = Field(
        0.10, gt=0, le=1, description="Refuse a cleanup that would remove more than this share of a platform's accounts."
    )
    confirm_within_days: int = Field(
        14, ge=1, description="Days to carry out a deletion list before it shows as overdue."
    )
    retention_days: int = Field(
        365, ge=0, description="Days the tool keeps a leaver's record after every account is deleted, then purges it."
    )


class SlipSettings(BaseModel):
    """``[slips]``: how login slips are laid out."""

    model_config = ConfigDict(extra="forbid")

    style: Literal["combined", "per-platform"] = Field(
        COMBINED,
        description='"combined": one card per child listing every platform they got a new password on, in '
        'outbox/login-slips-<batch>.pdf and .xlsx (default); "per-platform": a slip per platform, with its files.',
    )


class Settings(BaseModel):
    """The whole of provisioner.toml. ``platforms`` is validated per connector (see load_settings)."""

    model_config = ConfigDict(extra="forbid")

    school: SchoolSettings
    roster: RosterSettings = Field(default_factory=RosterSettings)
    leavers: LeaverSettings = Field(default_factory=LeaverSettings)
    slips: SlipSettings = Field(default_factory=SlipSettings)
    platforms: dict[str, dict] = Field(default_factory=empty_dict)


def describe_error(error: dict, prefix: tuple = (), text: str | None = None) -> str:
    """One pydantic error as 'dotted.key: what is wrong', in words an admin can act on; with the
    file's ``text``, the key's line too ('slips.style: ... (line 20)')."""
    where = ".".join(str(part) for part in (*prefix, *error["loc"]))
    line = line_of(text, (*prefix, *error["loc"])) if text is not None else None
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "is not a setting this tool knows (check the spelling)"
    elif error["type"] == "missing":
        message = "is required"
    elif error["type"] == "value_error" and "error" in error.get("ctx", {}):
        message = str(error["ctx"]["error"])  # the validator's own words, without pydantic's "Value error, "
    elif error["type"] == "int_parsing":
        message = "must be a whole number"
    elif error["type"] == "string_pattern_mismatch" and where.endswith("domain"):
        message = "must be a domain name in lower case, such as example.sch.uk"
    return f"{where}: {message}{'' if line is None else f' (line {line})'}"


def toml_string(value: str) -> str:
    """A TOML basic string holding ``value``, for writing provisioner.toml."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def line_of(text: str, key: tuple) -> int | None:
    """The line (from 1) of a TOML file that sets ``key`` (its tables and name, as a path), or
    of its table's header when the key is a whole table; None when it cannot be found (set in
    an inline table, say). Enough of TOML for the settings file, not a parser."""
    wanted = tuple(str(part) for part in key)
    table: tuple[str, ...] = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("[") and not line.startswith("[["):
            table = _dotted(line.strip("[] "))
            if table == wanted:
                return number
        elif "=" in line and not line.startswith("#"):
            if (*table, *_dotted(line.split("=", 1)[0])) == wanted:
                return number
    return None


def _dotted(name: str) -> tuple[str, ...]:
    """A TOML key's parts: ``platforms.microsoft-365`` or ``"Reg Grp"``, quotes taken off."""
    parts, current, quote = [], "", ""
    for char in name.strip():
        if quote:
            if char == quote:
                quote = ""
            else:
                current += char
        elif char in "\"'":
            quote = char
        elif char == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return (*parts, current.strip())


# Names a secret goes under: never in provisioner.toml, which is copied, backed up and shared.
SECRET_NAMES = frozenset({"secret", "client_secret", "password", "passwd", "api_key", "apikey", "private_key",
                          "token", "access_token", "refresh_token", "school_secret"})  # fmt: skip


def secret_keys(raw: dict, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key of the settings (as a path) whose name says it holds a secret text. A table of
    columns (``columns``, ``export_columns``) is not looked in: its keys are a file's headers
    ("Password" = "password" names a column, it holds no secret)."""
    found = []
    for key, value in raw.items():
        name = str(key).lower().replace("-", "_")
        if isinstance(value, dict):
            if not name.endswith("columns"):
                found += secret_keys(value, (*path, str(key)))
        elif isinstance(value, str) and (name in SECRET_NAMES or name.endswith(("_secret", "_password", "_token",
                                                                                "_api_key"))):  # fmt: skip
            found.append((*path, str(key)))
    return found
