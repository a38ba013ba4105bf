"""``[platforms.<id>]`` in provisioner.toml: the settings every platform shares, checked
against what that platform may receive.

The file settings (``encoding``, ``delimiter``, ``quoting``, ``date_format``,
``year_group_style``) say how an import file is written. Unset, each takes the platform's own
default (``ImportFileConnector.file_defaults``, where its documentation says) and else
``FILE_DEFAULTS``: UTF-8 with a byte-order mark, because Excel opens a CSV without one in the
Windows code page and shows "Chloé" as "ChloÃ©"; commas; quotes only where a value needs them;
dates day first as English schools write them; year groups as the MIS codes. Windows-1252 is
refused rather than allowed with a warning: it cannot hold every pupil's name (Łukasz,
Nguyễn), and a file that silently mangles one child's name is worse than no choice.

``provisioning = "broker"`` says a data broker (Wonde, Groupcall Xporter on Demand) already feeds
a file platform from the MIS: a second account from this tool's import would duplicate every
pupil, so nothing is written and the tool only records which pupils and fields the broker sends.
``broker`` names who sends them (the register and the plan say so); a broker mode with no name
is refused, since the register must say who makes the accounts. ``broker`` set without the mode
is refused too: the school would believe the import stopped while it goes on.
"""

from __future__ import annotations

import re
import string
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from provisioner.connector.scope import class_key, class_names, year_group_codes
from provisioner.fields import FIELDS
from provisioner.passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH
from provisioner.roster.platform_export import EXPORT_FIELDS
from provisioner.settings import empty_list

USERNAME_TOKENS = ("forename", "surname", "forename_initial", "surname_initial", "year_group")

# How an import file is written when neither the school nor the platform says otherwise.
FILE_DEFAULTS = {"encoding": "utf-8-sig", "delimiter": ",", "quoting": "minimal", "date_format": "dd/mm/yyyy",
                 "year_group_style": "code"}  # fmt: skip
FILE_CHOICES = {
    "encoding": ("utf-8-sig", "utf-8"),
    "delimiter": (",", ";", "\t"),
    "quoting": ("minimal", "all"),
    "date_format": ("dd/mm/yyyy", "yyyy-mm-dd"),
    "year_group_style": ("code", "number", "words"),
}
FILE_KEYS = tuple(FILE_DEFAULTS)
FILE, BROKER = "file", "broker"
BROKER_KEYS = ("broker", "broker_fields")
# What this tool makes for a platform and no broker can send it.
MADE_BY_THIS_TOOL = ("username", "password", "pseudonymous_id")
CSV_KEYS = ("encoding", "delimiter", "quoting")  # how a CSV is written; an xlsx has none of them


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
        default_factory=empty_list, description="Optional fields the school chooses to send as well (off by default)."
    )
    columns: dict[str, str] | None = Field(
        None, description='The import file\'s columns, in order: "Header in the platform\'s template" = "field".'
    )
    export_columns: dict[str, str] | None = Field(
        None, description='The headers of the platform\'s own pupil export, where `reconcile` does not know them: '
        '"field" = "Header in the export" (fields: ' + ", ".join(EXPORT_FIELDS) + ").",
    )
    sign_in_url: str | None = Field(None, description="The school's own sign-in address, printed on login slips.")
    school_code: str | None = Field(None, description="The school's code on this platform, printed on login slips (IXL: the username suffix).")
    disable_after_days: int | None = Field(
        None, ge=0, description="Days after leaving to disable a leaver's account (default: the register entry's)."
    )
    delete_after_days: int | None = Field(
        None, ge=0, description="Days after leaving to delete it (default: the register entry's)."
    )
    year_groups: list[str] | None = Field(
        None, description='The year groups the platform serves, as CTF codes (["1", "2"], "R", "N1"); '
        "default: the register entry's scope.",
    )
    classes: list[str] | None = Field(None, description="The only classes the platform serves (default: every class).")
    exclude_classes: list[str] = Field(default_factory=empty_list, description="Classes the platform does not serve.")
    password_min_length: int | None = Field(
        None, description="The fewest characters in a first password (default: 6, or the platform's own minimum)."
    )
    # Who makes the accounts (platforms fed a file only): this tool's import file, or a data broker.
    provisioning: Literal["file", "broker"] = Field(
        FILE, description='"file": this tool writes the import file (default); "broker": a data broker such as '
        "Wonde feeds the platform from the MIS, and this tool only records what it sends.",
    )
    broker: str | None = Field(
        None, description='Who sends the platform its data when provisioning = "broker" ("Wonde", "Groupcall '
        'Xporter on Demand"): shown in the plan and the register.',
    )
    broker_fields: list[str] | None = Field(
        None, description="The pupil fields the broker sends (as approved in its portal); default: the platform's "
        "import fields less username, password and pseudonymous id.",
    )
    # How the import file is written (platforms fed a file only); unset: the platform's default.
    encoding: str | None = Field(
        None, description='"utf-8-sig" (UTF-8 with a byte-order mark, so Excel shows accents; default) or "utf-8".'
    )
    delimiter: str | None = Field(None, description='"," (default), ";" or "\\t" (a tab; "tab" works too).')
    quoting: str | None = Field(
        None, description='"minimal" (quotes only where a value needs them; default) or "all" (every value).'
    )
    date_format: str | None = Field(None, description='"dd/mm/yyyy" (default) or "yyyy-mm-dd".')
    year_group_style: str | None = Field(
        None, description='"code" (R, 1 to 6, as the MIS; default), "number" (Reception as 0) or "words" '
        '("Reception", "Year 3").',
    )

    @field_validator("encoding", "delimiter", "quoting", "date_format", "year_group_style", mode="before")
    @classmethod
    def _file_choice(cls, value: object, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        name = info.field_name
        text = value.casefold().strip() if isinstance(value, str) and name != "delimiter" else value
        if name == "delimiter" and isinstance(value, str) and value.strip().casefold() == "tab":
            text = "\t"
        if name == "encoding" and text in ("utf8", "utf-8-bom", "utf8-sig"):
            text = {"utf8": "utf-8"}.get(text, "utf-8-sig")
        if name == "encoding" and text in ("cp1252", "windows-1252", "ansi", "latin-1", "latin1", "iso-8859-1"):
            raise ValueError(f"{value!r} cannot hold every pupil's name (Łukasz, Nguyễn would be lost or refused); "
                             'use "utf-8-sig", which Excel opens with the accents right')  # fmt: skip
        if text not in FILE_CHOICES[name]:
            choices = ", ".join(repr(c) for c in FILE_CHOICES[name])
            raise ValueError(f"{value!r} is not one of {choices}")
        return text

    @field_validator("broker")
    @classmethod
    def _broker_name(cls, name: str | None) -> str | None:
        # Printed in the plan, the register and on check lists: a name, on one line.
        if name is None:
            return None
        name = " ".join(name.split())
        if not name or len(name) > 60:
            raise ValueError('must name who sends the data, in at most 60 characters (such as "Wonde")')
        return name

    @field_validator("broker_fields")
    @classmethod
    def _broker_sends_pupil_fields(cls, chosen: list[str] | None) -> list[str] | None:
        if chosen is None:
            return None
        if not chosen:
            raise ValueError("lists no field; leave the setting out for the platform's own fields, or list the "
                             "fields the broker sends, such as [\"forename\", \"surname\", \"class_name\"]")  # fmt: skip
        for name in chosen:
            if name in MADE_BY_THIS_TOOL:
                raise ValueError(f"'{name}' is made by this tool or the platform, not sent by a broker from the MIS; "
                                 "take it out")  # fmt: skip
            if name not in FIELDS:
                raise ValueError(f"'{name}' is not a pupil field this tool knows (it knows: {', '.join(FIELDS)})")
        return list(dict.fromkeys(chosen))

    @model_validator(mode="after")
    def _broker_named_with_its_mode(self) -> PlatformSettings:
        """A broker mode must say who sends the data; a broker named without the mode would leave
        the import going on while the school believes it stopped."""
        if self.provisioning == BROKER and not self.broker:
            raise ValueError('provisioning = "broker" needs broker, the name of who sends the platform its data '
                             '(such as broker = "Wonde" or broker = "Groupcall Xporter on Demand")')  # fmt: skip
        chosen = [key for key in BROKER_KEYS if getattr(self, key) is not None]
        if chosen and self.provisioning != BROKER:
            raise ValueError(f'{chosen[0]} is read only with provisioning = "broker", and provisioning is '
                             f'"{self.provisioning}", so this tool still makes the accounts; set provisioning = '
                             f'"broker" or take {chosen[0]} out')  # fmt: skip
        return self

    @field_validator("password_min_length")
    @classmethod
    def _long_enough(cls, length: int | None) -> int | None:
        if length is not None and not MIN_PASSWORD_LENGTH <= length <= 20:
            raise ValueError(f"must be between {MIN_PASSWORD_LENGTH} and 20: a shorter first password is guessed "
                             "too easily, a longer one is hard for a young child to type")  # fmt: skip
        return length

    @model_validator(mode="after")
    def _file_settings_for_file_platforms(self, info: ValidationInfo) -> PlatformSettings:
        """A file setting on a platform that is fed no import file would be silently ignored."""
        connector = (info.context or {}).get("connector")
        if connector is None or getattr(connector, "file_defaults", None) is not None:
            return self
        chosen = [key for key in (*FILE_KEYS, *BROKER_KEYS) if key in self.model_fields_set]
        if self.provisioning == BROKER:
            chosen.insert(0, "provisioning = \"broker\"")
        if chosen:
            raise ValueError(f"{chosen[0]} applies only to platforms fed an import file, and {connector.name} is "
                             f"not one; take {chosen[0]} out of [platforms.{connector.id}]")  # fmt: skip
        return self

    @model_validator(mode="after")
    def _not_below_the_platforms_minimum(self, info: ValidationInfo) -> PlatformSettings:
        connector = (info.context or {}).get("connector")
        rule = getattr(connector, "password_rule", None)
        if rule is not None and self.password_min_length is not None and self.password_min_length < rule.min_length:
            raise ValueError(f"password_min_length {self.password_min_length} is below {connector.name}'s own "
                             f"minimum of {rule.min_length}; leave it out or set {rule.min_length} or more")  # fmt: skip
        return self

    @model_validator(mode="after")
    def _username_from_sent_fields(self, info: ValidationInfo) -> PlatformSettings:
        """A username made from a field the platform does not receive would send that field."""
        connector_class = (info.context or {}).get("connector")
        if connector_class is None:
            return self
        connector = connector_class(self)
        if not connector.delivery.makes_accounts or "username" not in connector.sent_fields:
            return self  # the platform makes its own usernames
        template = connector.effective_username_template
        needs = {name.removesuffix("_initial") for _, name, _, _ in string.Formatter().parse(template) if name}
        missing = sorted(needs - set(connector.sent_fields))
        if missing:
            raise ValueError(
                f"the username rule {template!r} uses {', '.join(missing)}, which {connector.name} does not "
                "receive with these settings; change username_template or send the field"
            )
        return self

    @field_validator("year_groups", mode="before")
    @classmethod
    def _year_group_codes(cls, values: object) -> list[str] | None:
        """CTF codes, from the spellings a roster may use and numbers as TOML writes them (``[1, 2]``)."""
        if values is None:
            return None
        if not isinstance(values, list):  # a ValueError: pydantic reports it as the setting's error
            raise ValueError('must be a list of year groups, such as ["1", "2", "3"]')  # noqa: TRY004
        if not values:
            raise ValueError("lists no year group, so the platform would serve no pupil; leave the setting out to "
                             "serve every year group, or set enabled = false")  # fmt: skip
        return list(year_group_codes(values))

    @field_validator("classes", "exclude_classes", mode="before")
    @classmethod
    def _class_names(cls, values: object, info: ValidationInfo) -> list[str] | None:
        if values is None:
            return None
        if not isinstance(values, list):
            raise ValueError('must be a list of class names as the roster has them, such as ["3A", "3B"]')  # noqa: TRY004
        if not values and info.field_name == "classes":
            raise ValueError("lists no class, so the platform would serve no pupil; leave the setting out to "
                             "serve every class, or set enabled = false")  # fmt: skip
        return list(class_names(values))

    @model_validator(mode="after")
    def _classes_not_both(self) -> PlatformSettings:
        both = [name for name in self.exclude_classes if class_key(name) in {class_key(c) for c in self.classes or ()}]
        if both:
            raise ValueError(f"class {both[0]!r} is in both classes and exclude_classes; take it out of one")
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

    @field_validator("school_code")
    @classmethod
    def _short_code(cls, code: str | None) -> str | None:
        # Typed by a child after the "@" of a username, and part of a sign-in address: kept to
        # what both can carry without escaping.
        if code is not None and not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,18}[A-Za-z0-9])?", code):
            raise ValueError("must be the school's code as the platform gives it: 1 to 20 ASCII letters, digits "
                             "or hyphens, not starting or ending with a hyphen (IXL: the part after @ in a "
                             "username, as in ixl.com/signin/CODE)")  # fmt: skip
        return code

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

    @field_validator("export_columns")
    @classmethod
    def _export_fields(cls, columns: dict[str, str] | None) -> dict[str, str] | None:
        for field, header in (columns or {}).items():
            if field not in EXPORT_FIELDS:
                raise ValueError(f'"{field}" = "{header}": the export\'s columns are named by field, one of '
                                 f'{", ".join(EXPORT_FIELDS)}, e.g. username = "Pupil Login"')  # fmt: skip
            if not header.strip():
                raise ValueError(f'"{field}" has an empty header; write the header as the export has it')
        return columns

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
        allowed = (*connector.fields, *info.data.get("optional_fields", ()), *getattr(connector, "derived", {}))
        for header, source in columns.items():
            if source not in allowed:
                raise ValueError(
                    f'"{header}" = "{source}": {connector.name} may be sent only {", ".join(allowed)}'
                    " (an optional field must be listed in optional_fields first)"
                )
        return columns
