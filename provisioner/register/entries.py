"""The register's entries: one data file per processor (``registers/<id>.toml``, shipped; a
school adds or overrides entries in its workspace's ``registers/`` folder), and the Article 30
items each entry answers.

An entry is written as the school's own statements, in plain English, since governors read it
and the privacy notice quotes it to parents. What is not known yet is written as what someone
has to do, in one of two forms that ``gap_kind`` (the only detector) reads:

- "Question for Maths Circle: where are pupils' data stored?": a question the school asks the
  supplier or recipient;
- "To record: the signed contract's date and link.": a fact only the school knows.

Each is a sentence of its own, so the notice can leave it out and say what is being confirmed.
"""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from provisioner.connector.scope import Scope, year_group_codes
from provisioner.errors import SettingsError
from provisioner.settings import describe_error

QUESTION = re.compile(r"\bquestion for [^:.?]+:", re.IGNORECASE)  # "Question for Pearson: ..."
TO_RECORD = re.compile(r"\bto record:", re.IGNORECASE)  # "To record: the DPIA's date."
# The markers entries used before: still read, so a school's older entry keeps its gaps.
NOT_FOUND = "not found"
SCHOOL_TO_RECORD = "school to record"
REVIEW_EVERY = timedelta(days=365)  # the annual review governors expect (reference §5.2)

# The Article 30 items, in the order the exports show them: (key, heading).
ITEMS: list[tuple[str, str]] = [
    ("entity", "Legal entity"),
    ("contact", "Contact"),
    ("role", "Role"),
    ("own_uses", "Its own uses of the data"),
    ("purpose", "Purpose"),
    ("lawful_basis", "Lawful basis (Article 6)"),
    ("data_subjects", "Data subjects"),
    ("fields", "Pupil data held"),
    ("special_category", "Special-category data"),
    ("article_9_condition", "Article 9 condition"),
    ("hosting", "Where it is held"),
    ("transfers", "Transfers outside the UK and safeguards"),
    ("sub_processors", "Sub-processors"),
    ("contract", "Contract or data processing agreement"),
    ("dpia", "DPIA"),
    ("retention", "Retention and deletion"),
    ("erasure", "From deletion to erasure"),
    ("security", "Security measures"),
    ("review", "Next review"),
]
MANDATORY = ("entity", "contact", "role", "purpose", "lawful_basis", "data_subjects", "hosting", "transfers",
             "sub_processors", "contract", "dpia", "retention", "security")  # fmt: skip
NO_SPECIAL_CATEGORY = "None: no special-category data is sent."


class DefaultScope(BaseModel):
    """``[scope]`` of a platform's entry: the year groups it serves until the school sets its own
    (``year_groups`` under ``[platforms.<id>]``; unset: every year group), and ``note``, why. A
    school policy default, not a supplier fact, unless the note cites one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    year_groups: list[str] | None = None
    note: str = ""

    @field_validator("year_groups", mode="before")
    @classmethod
    def _codes(cls, values: object) -> list[str] | None:
        if values is None:
            return None
        if values == []:
            raise ValueError("lists no year group; leave year_groups out for every year group")
        return list(year_group_codes(values if isinstance(values, list) else [values]))

    def scope(self) -> Scope:
        return Scope.default(self.year_groups, self.note)


class Entry(BaseModel):
    """One register entry, as written in ``registers/<id>.toml``.

    ``kind`` is "platform" when a connector sends the data (its fields then come from the
    connector) or "recipient" when the school shares data outside this tool (the Department
    for Education, the local authority, the next school), which lists ``fields`` from the
    vocabulary in provisioner.fields and describes anything else in ``other_data``.

    ``own_uses`` says whether the supplier acts only on the school's instructions (a processor)
    or also decides uses of its own (product improvement, analytics, research, AI training),
    which makes it a controller for those; ``erasure`` how long a platform keeps a deleted
    pupil (a restorable copy, a leavers group, backups) before the data is gone. Both are
    optional: left out, they read as questions for the supplier.

    Its validator is built when an entry is first read (``defer_build``), not when this module
    loads: every connector loads the module for its default scope, and ``status`` reads no entry.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str
    name: str
    kind: Literal["platform", "recipient"] = "platform"
    entity: str = ""
    contact: str = ""
    role: str = ""
    own_uses: str = ""
    purpose: str = ""
    lawful_basis: str = ""
    data_subjects: str = ""
    hosting: str = ""
    transfers: str = ""
    sub_processors: str = ""
    contract: str = ""
    dpia: str = ""
    retention: str = ""
    erasure: str = ""
    security: str = ""
    sources: list[str] = []
    fields: list[str] | None = None
    other_data: str = ""
    special_category: str = ""
    article_9_condition: str = ""
    note: str = ""
    import_template: str = ""
    source_of_data: str = ""
    restore_days: int | None = None
    inactive_deletion_years: int | None = None
    leavers_group_months: int | None = None
    needs: dict[str, str] = {}
    leavers: dict[str, int] = {}
    scope: DefaultScope | None = None


def gap_kind(text: str) -> str | None:
    """'supplier' for a question the school asks the supplier or recipient ("Question for
    Pearson: ..."), 'school' for a fact the school records ("To record: ..."), else None."""
    if QUESTION.search(text):
        return "supplier"
    if TO_RECORD.search(text):
        return "school"
    lowered = text.lower()
    if NOT_FOUND in lowered:
        return "supplier"
    if SCHOOL_TO_RECORD in lowered:
        return "school"
    return None


# Where one sentence of an item ends and the next begins: each is read for a gap on its own.
GAP_SENTENCE_END = re.compile(r"(?<=[.;?])\s+(?=[A-Z])")


def gap_kinds(text: str) -> list[str]:
    """Who answers what an item still lacks, sentence by sentence: "Question for 2Simple: ...?
    To record: ..." is ['supplier', 'school'], so every count of the register's gaps (the
    summary's, the check's, ``register gaps``) is the same number."""
    found = {gap_kind(sentence) for sentence in GAP_SENTENCE_END.split(text.strip())}
    return [kind for kind in ("supplier", "school") if kind in found]


def shipped_entries() -> dict[str, dict]:
    """Every register entry shipped with the tool, as raw data keyed by its id. The mapping is
    the caller's own (``load_entries`` adds the workspace's entries to it); the entries in it
    are shared, to read, not to change."""
    return dict(_parsed_shipped_entries())


@cache
def _parsed_shipped_entries() -> dict[str, dict]:
    """The shipped files, parsed once a process: they do not change while the tool runs, and
    every connector built asks for its default scope (status parsed all of them once per
    platform, about half of its own work on the demo workspace; bench/startup.py)."""
    entries = {}
    for item in resources.files("registers").iterdir():
        if item.name.endswith(".toml"):
            entry = tomllib.loads(item.read_text(encoding="utf-8"))
            entries[entry["id"]] = entry
    return entries


def default_scope(platform: str) -> Scope:
    """The scope a platform's shipped entry gives it ([scope]), for the school's settings to
    change; every year group where the entry sets none."""
    data = shipped_entries().get(platform, {}).get("scope")
    if data is None:
        return Scope()
    try:
        return DefaultScope.model_validate(data).scope()
    except ValidationError as exc:
        problems = "; ".join(describe_error(e, (f"registers/{platform}.toml", "scope")) for e in exc.errors())
        raise SettingsError(problems, hint="fix the register entry and run again") from None


def load_entries(workspace_root: Path | None = None) -> dict[str, Entry]:
    """The shipped entries with the workspace's own on top: a workspace file with a shipped id
    overrides the keys it sets (tables such as [leavers] key by key); a new id adds an entry."""
    raw = shipped_entries()
    folder = workspace_root / "registers" if workspace_root else None
    for path in sorted(folder.glob("*.toml")) if folder and folder.is_dir() else []:
        local = read_override(path)
        entry_id = local.setdefault("id", path.stem)
        raw[entry_id] = merge_override(raw.get(entry_id, {}), local, path.name)
    entries = {}
    for entry_id, data in raw.items():
        try:
            entries[entry_id] = Entry.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(describe_error(e, (f"registers/{entry_id}.toml",)) for e in exc.errors())
            raise SettingsError(problems, hint="fix the register entry and run again") from None
    return entries


def read_override(path: Path) -> dict:
    """A workspace's override file as data; a file that is not TOML is an error naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"registers/{path.name} is not valid TOML: {exc}", hint="fix the file and run again"
                            ) from None  # fmt: skip


def merge_override(shipped: dict, local: dict, file_name: str) -> dict:
    """A shipped entry (raw) with a workspace file's keys on top, tables key by key. The leaver
    policy and the scope are the settings' (provisioner.toml), so an override may not set them."""
    entry_id = local.get("id", Path(file_name).stem)
    if "leavers" in local:  # one place for the policy the tool acts on: the settings
        raise SettingsError(f"registers/{file_name}: [leavers] is set in provisioner.toml, not here",
                            hint=f"set disable_after_days or delete_after_days under [platforms.{entry_id}]")  # fmt: skip
    if "scope" in local:
        raise SettingsError(f"registers/{file_name}: [scope] is set in provisioner.toml, not here",
                            hint=f"set year_groups, classes or exclude_classes under [platforms.{entry_id}]")  # fmt: skip
    merged = dict(shipped)
    for key, value in local.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged
