"""A platform's settings changed from a form (the web interface's Settings page): whether it is on,
which pupils it serves, the optional fields the school sends, and what its login slips print.

The school's provisioner.toml is edited with tomlkit, which keeps its comments and every other
key where they were: the file stays the one the school reads and may edit by hand. The new text
is checked by the same models that load it (``load_settings``) before it replaces the old, so a
form can never write a file the next command refuses. Secrets never go in this file: none of the
keys a form may set holds one (Microsoft 365's client secret is read from the environment).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit
from pydantic import ValidationError

from provisioner import files
from provisioner.connector import Connector
from provisioner.errors import SettingsError
from provisioner.settings import Settings, describe_error
from provisioner.workspace import SETTINGS_FILE, Workspace, connector_class, platform_settings

# The keys a form may set; every other key of the section is left as the school wrote it.
FORM_KEYS = ("enabled", "year_groups", "classes", "exclude_classes", "optional_fields", "sign_in_url", "school_code")


@dataclass
class PlatformForm:
    """What a platform's form shows: its settings now, and the choices the platform allows."""

    platform: str
    name: str
    enabled: bool
    year_groups: list[str] | None  # None: the register entry's default scope
    classes: list[str] | None
    exclude_classes: list[str]
    optional_fields: list[str]  # the ones turned on
    optional_choices: tuple[str, ...]  # every optional field the platform can take
    sign_in_url: str
    school_code: str
    scope: str  # which pupils it serves now, in words
    scope_source: str


@dataclass
class SettingsChanged:
    platform: str
    name: str
    changed: list[str] = field(default_factory=list)  # the keys whose value changed
    fields_changed: bool = False  # what it is sent changed: the register needs approving again


def platform_form(workspace: Workspace, platform: str) -> PlatformForm:
    connector = workspace.connector(platform)
    settings = connector.settings
    return PlatformForm(
        platform, connector.name, settings.enabled, settings.year_groups, settings.classes,
        list(settings.exclude_classes), list(settings.optional_fields), connector.optional_fields,
        settings.sign_in_url or "", settings.school_code or "", connector.scope.describe(),
        connector.scope.source_text(),
    )  # fmt: skip


def set_platform(workspace: Workspace, platform: str, values: dict[str, object]) -> SettingsChanged:
    """Write ``values`` (keys of ``FORM_KEYS``; None removes a key, so the default applies) into
    ``[platforms.<platform>]``, checked as the file is loaded, keeping everything else."""
    cls = connector_class(platform)
    unknown = sorted(set(values) - set(FORM_KEYS))
    if unknown:
        raise SettingsError(f"{', '.join(unknown)} cannot be set here", hint=f"edit {SETTINGS_FILE} for those")
    path = workspace.settings_path
    before = workspace.connector(platform)
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    platforms = document.setdefault("platforms", tomlkit.table(is_super_table=True))
    section = platforms.setdefault(platform, tomlkit.table())
    changed = []
    for key, value in values.items():
        if section.get(key) == value or (value is None and key not in section):
            continue
        changed.append(key)
        if value is None:
            del section[key]
        else:
            section[key] = value
    text = tomlkit.dumps(document)
    after = _checked(text, cls, path)
    if changed:
        files.atomic_write_text(path, text)
    workspace.__dict__.pop("settings", None)  # read again by the next command
    now = platform_settings(after, cls)
    sent = set(cls(now).sent_fields) if now.enabled else set()
    return SettingsChanged(platform, cls.name, changed, sent != (set(before.sent_fields) if before.settings.enabled else set()))


def _checked(text: str, cls: type[Connector], path: Path) -> Settings:
    """The new file's settings, refused in the words a command would refuse them in."""
    try:
        settings = Settings.model_validate(tomllib.loads(text))
    except ValidationError as exc:
        problems = "; ".join(describe_error(e) for e in exc.errors())
        raise SettingsError(f"{path.name}: {problems}", hint="correct the value and save again") from None
    try:
        platform_settings(settings, cls)
    except SettingsError as exc:
        raise SettingsError(exc.message, hint="correct the value and save again") from None
    return settings

