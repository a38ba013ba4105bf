"""The processor register: who holds which pupil data, why, where, under which agreement, for
how long, and how many pupils each holds now.

An entry is data (``registers/<id>.toml``, shipped; a school adds or overrides entries in its
workspace's ``registers/`` folder). For a connected platform the fields held are never typed in
the entry: they come from the connector's declarations, the same ones that decide what is sent,
so the register cannot drift from what the tool does. The live evidence (pupils held, last runs,
deletions overdue) comes from the state, and the approvals (who agreed each field list, and
when it is next reviewed) are recorded there too.

Facts the research did not find say "not found" (ask the supplier); facts only the school
knows say "school to record". Both show as gaps, never as guesses.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from provisioner.connector import Connector, registry
from provisioner.errors import ApprovalNeeded, SettingsError
from provisioner.fields import FIELDS, SENSITIVE
from provisioner.fields import short_labels as _labels
from provisioner.settings import describe_error
from provisioner.state import Approval, State, now

NOT_FOUND = "not found"
SCHOOL_TO_RECORD = "school to record"
REVIEW_EVERY = timedelta(days=365)  # the annual review governors expect (reference §5.2)
HELD = ("pending", "active", "disabled", "deletion_requested")

# The Article 30 items, in the order the exports show them: (key, heading).
ITEMS: list[tuple[str, str]] = [
    ("entity", "Legal entity"),
    ("contact", "Contact"),
    ("role", "Role"),
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
    ("security", "Security measures"),
    ("review", "Next review"),
]
MANDATORY = ("entity", "contact", "role", "purpose", "lawful_basis", "data_subjects", "hosting", "transfers",
             "sub_processors", "contract", "dpia", "retention", "security")  # fmt: skip
NO_SPECIAL_CATEGORY = "None: no special-category data is sent."


class Entry(BaseModel):
    """One register entry, as written in ``registers/<id>.toml``.

    ``kind`` is "platform" when a connector sends the data (its fields then come from the
    connector) or "recipient" when the school shares data outside this tool (the Department
    for Education, the local authority, the next school), which lists ``fields`` from the
    vocabulary in provisioner.fields and describes anything else in ``other_data``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    kind: Literal["platform", "recipient"] = "platform"
    entity: str = ""
    contact: str = ""
    role: str = ""
    purpose: str = ""
    lawful_basis: str = ""
    data_subjects: str = ""
    hosting: str = ""
    transfers: str = ""
    sub_processors: str = ""
    contract: str = ""
    dpia: str = ""
    retention: str = ""
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


def gap_kind(text: str) -> str | None:
    """'supplier' for a fact not found (ask them), 'school' for the school's own, else None."""
    lowered = text.lower()
    if NOT_FOUND in lowered:
        return "supplier"
    if SCHOOL_TO_RECORD in lowered:
        return "school"
    return None


def shipped_entries() -> dict[str, dict]:
    """Every register entry shipped with the tool, as raw data keyed by its id."""
    entries = {}
    for item in resources.files("registers").iterdir():
        if item.name.endswith(".toml"):
            entry = tomllib.loads(item.read_text(encoding="utf-8"))
            entries[entry["id"]] = entry
    return entries


def load_entries(workspace_root: Path | None = None) -> dict[str, Entry]:
    """The shipped entries with the workspace's own on top: a workspace file with a shipped id
    overrides the keys it sets (tables such as [leavers] key by key); a new id adds an entry."""
    raw = shipped_entries()
    folder = workspace_root / "registers" if workspace_root else None
    for path in sorted(folder.glob("*.toml")) if folder and folder.is_dir() else []:
        try:
            local = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"registers/{path.name} is not valid TOML: {exc}", hint="fix the file and run again"
                                ) from None  # fmt: skip
        entry_id = local.setdefault("id", path.stem)
        if "leavers" in local:  # one place for the policy the tool acts on: the settings
            raise SettingsError(f"registers/{path.name}: [leavers] is set in provisioner.toml, not here",
                                hint=f"set disable_after_days or delete_after_days under [platforms.{entry_id}]")  # fmt: skip
        merged = dict(raw.get(entry_id, {}))
        for key, value in local.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        raw[entry_id] = merged
    entries = {}
    for entry_id, data in raw.items():
        try:
            entries[entry_id] = Entry.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(describe_error(e, (f"registers/{entry_id}.toml",)) for e in exc.errors())
            raise SettingsError(problems, hint="fix the register entry and run again") from None
    return entries


@dataclass(frozen=True)
class Evidence:
    """What the state shows about a connected platform now."""

    pupils_held: int
    fields_held: list[str]  # every field some account there still holds (may include ones no longer sent)
    last_provisioning: str | None  # when the tool last created or updated an account there
    last_cleanup: str | None  # when the leaver cleanup last disabled or deleted one
    awaiting_deletion: int  # accounts on deletion lists not yet confirmed
    deletions_overdue: int


@dataclass(frozen=True)
class Problem:
    """A finding of the register check: an error fails it, a warning is a gap to chase."""

    entry_id: str
    message: str
    hint: str = ""
    severity: str = "error"

    def as_dict(self) -> dict:
        return {"entry": self.entry_id, "severity": self.severity, "message": self.message, "hint": self.hint}


@dataclass
class Processor:
    """One row of the register: the entry, what it holds, the evidence and the approvals."""

    entry: Entry
    fields: list[str]  # vocabulary names: what the connector sends now, or what the entry lists
    enabled: bool  # a platform switched on in the settings (recipients: always)
    connector: Connector | None = None
    evidence: Evidence | None = None
    approvals: list[Approval] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def approved_fields(self) -> list[str] | None:
        return self.approvals[-1].fields_after if self.approvals else None

    @property
    def next_review(self) -> str | None:
        return self.approvals[-1].next_review if self.approvals else None

    @property
    def special_category_fields(self) -> list[str]:
        return [name for name in self.fields if FIELDS[name].special_category]

    @property
    def role_in_short(self) -> str:
        """The role without its explanation: 'processor', 'Controller or processor'..."""
        short = re.split(r"[.:;(]", self.entry.role, maxsplit=1)[0].strip()
        return f"{short} (to confirm)" if gap_kind(self.entry.role) else short

    def fields_text(self, short: bool = False) -> str:
        label = (lambda name: _labels([name])) if short else (lambda name: FIELDS[name].label)
        listed = ", ".join(label(name) for name in self.fields) or "none from the pupil roster"
        extra = self.entry.other_data
        return f"{listed}. Also: {extra}" if extra else listed

    def fact(self, key: str) -> str:
        """The text of one Article 30 item (see ITEMS), computed where the tool knows it."""
        if key == "fields":
            return self.fields_text()
        if key == "special_category":
            if self.entry.kind == "platform":
                special = self.special_category_fields
                return ", ".join(FIELDS[n].label for n in special) if special else NO_SPECIAL_CATEGORY
            return self.entry.special_category or "School to record: the DPO records it."
        if key == "article_9_condition":
            if self.entry.kind == "platform" and not self.special_category_fields:
                return "Not needed: no special-category data is sent."
            return self.entry.article_9_condition or "School to record: the DPO records the condition."
        if key == "review":
            if not self.approvals:
                return "Never approved: run 'provisioner register approve'."
            last = self.approvals[-1]
            return f"{last.next_review} (last approved {last.approved_at[:10]} by {last.approved_by})"
        return getattr(self.entry, key)

    def gaps(self) -> list[tuple[str, str]]:
        """(heading, 'supplier' or 'school') for each item still to be found out or recorded."""
        found = []
        for key, heading in ITEMS:
            if key == "review":
                continue
            kind = gap_kind(self.entry.other_data if key == "fields" else self.fact(key))
            if kind:
                found.append((heading, kind))
        return found


@dataclass
class Register:
    school: str
    today: date
    processors: list[Processor]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def platforms(self) -> list[Processor]:
        return [p for p in self.processors if p.entry.kind == "platform"]

    def recipients(self) -> list[Processor]:
        return [p for p in self.processors if p.entry.kind == "recipient"]

    def problems_of(self, entry_id: str) -> list[Problem]:
        return [p for p in self.problems if p.entry_id == entry_id]

    def as_dict(self) -> dict:
        return {
            "school": self.school,
            "as_of": self.today.isoformat(),
            "ok": self.ok,
            "problems": [p.as_dict() for p in self.problems],
            "processors": {
                p.id: {
                    "name": p.name,
                    "kind": p.entry.kind,
                    "enabled": p.enabled,
                    "fields": p.fields,
                    **{key: p.fact(key) for key, _ in ITEMS if key != "fields"},
                    "gaps": [heading for heading, _ in p.gaps()],
                    "evidence": p.evidence.__dict__ if p.evidence else None,
                    "approvals": [a.__dict__ for a in p.approvals],
                    "sources": p.entry.sources,
                }
                for p in self.processors
            },
        }


def build_register(workspace, state: State, today: date) -> Register:
    """The register of a workspace as of ``today``: entries, fields, evidence, approvals, and
    the check's findings. Reads only; the workspace's settings decide what each platform sends."""
    from provisioner.leavers import overdue
    from provisioner.workspace import platform_settings

    entries = load_entries(workspace.root)
    processors: list[Processor] = []
    problems: list[Problem] = []
    connectors = registry()
    for entry_id, entry in entries.items():
        cls = connectors.get(entry_id)
        approvals = state.approvals(entry_id)
        if cls is not None:
            connector = cls(platform_settings(workspace.settings, cls))
            evidence = _evidence(state, connector, today, overdue)
            enabled = connector.settings.enabled
            if not enabled and not evidence.pupils_held:
                continue  # neither sending nor holding: not a processor of this school
            processor = Processor(entry, list(connector.sent_fields), enabled, connector, evidence, approvals)
        else:
            if entry.kind == "platform" and entry.fields is None:
                problems.append(Problem(entry_id, f"{entry.name} has no connector, so its entry must list its fields",
                                        f"add fields = [...] to registers/{entry_id}.toml"))  # fmt: skip
            processor = Processor(entry, list(entry.fields or []), True, None, None, approvals)
        processors.append(processor)
        problems += check_processor(processor, today)
    processors.sort(key=lambda p: (p.entry.kind != "platform", p.name.lower()))
    return Register(workspace.settings.school.name, today, processors, problems)


def _evidence(state: State, connector: Connector, today: date, overdue) -> Evidence:
    held = [a for a in state.accounts(connector.id).values() if a.status in HELD]
    fields_held = sorted({name for account in held for name, value in account.sent.items() if value},
                         key=list(FIELDS).index)  # fmt: skip
    if connector.issues_passwords and held:
        fields_held.append("password")
    last = dict(state.db.execute(
        "SELECT CASE WHEN action IN ('create', 'update') THEN 'provision' ELSE 'cleanup' END, MAX(sent_at)"
        " FROM sends WHERE platform = ? AND status = 'done' GROUP BY 1", (connector.id,)
    ).fetchall())  # fmt: skip
    late = overdue(state, today, connector.id)
    return Evidence(
        pupils_held=len(held),
        fields_held=fields_held,
        last_provisioning=last.get("provision"),
        last_cleanup=last.get("cleanup"),
        awaiting_deletion=sum(1 for a in held if a.status == "deletion_requested"),
        deletions_overdue=late["unconfirmed_deletion_lists"] + late["deletions_not_started"],
    )


def check_processor(processor: Processor, today: date) -> list[Problem]:
    """Why this entry cannot be shown to governors as it stands (errors), and its gaps (warnings)."""
    entry = processor.entry
    found: list[Problem] = []
    approve = f"check the fields, then run 'provisioner register approve {entry.id} --by \"YOUR NAME\"'"
    for key in MANDATORY:
        if not getattr(entry, key).strip():
            found.append(Problem(entry.id, f"{entry.name}: the register entry does not say '{key}'",
                                 f"write what is known in registers/{entry.id}.toml, or '{NOT_FOUND}'"))  # fmt: skip
    unknown = [name for name in entry.fields or [] if name not in FIELDS]
    if unknown:
        found.append(Problem(entry.id, f"{entry.name}: fields {', '.join(unknown)} are not in the vocabulary",
                             f"use names from: {', '.join(FIELDS)}"))  # fmt: skip
    connector = processor.connector
    if connector is not None and entry.fields is not None and set(entry.fields) != set(processor.fields):
        found.append(Problem(
            entry.id, f"{entry.name}: the entry lists {_labels(entry.fields) or 'no fields'} but the connector sends "
            f"{_labels(processor.fields)}", f"remove 'fields' from registers/{entry.id}.toml: a connected "
            "platform's fields come from its connector"))  # fmt: skip
    if processor.enabled or entry.kind == "recipient":
        approved = processor.approved_fields
        if approved is None:
            found.append(Problem(entry.id, f"{entry.name}: nobody has approved the data it receives", approve))
        else:
            added = [n for n in processor.fields if n not in approved]
            dropped = [n for n in approved if n not in processor.fields]
            if added:
                found.append(Problem(entry.id, f"{entry.name} is sent {_labels(added)}, which its approved register "
                                     "entry does not list", approve))  # fmt: skip
            if dropped:
                found.append(Problem(entry.id, f"{entry.name}: the approved entry lists {_labels(dropped)}, which is "
                                     "no longer sent", approve))  # fmt: skip
            if processor.next_review and processor.next_review < today.isoformat():
                found.append(Problem(entry.id, f"{entry.name}: its review was due on {processor.next_review}",
                                     f"review the entry with the DPO, then run 'provisioner register approve "
                                     f"{entry.id} --by \"YOUR NAME\"'"))  # fmt: skip
    if processor.special_category_fields and not entry.article_9_condition.strip():
        found.append(Problem(entry.id, f"{entry.name} is sent special-category data "
                             f"({_labels(processor.special_category_fields)}) with no Article 9 condition recorded",
                             f"add article_9_condition to registers/{entry.id}.toml"))  # fmt: skip
    if connector is not None:
        for name in processor.fields:
            if name in SENSITIVE and name not in entry.needs:
                found.append(Problem(entry.id, f"{entry.name} is sent the {_labels([name])} without the entry "
                                     "saying why", f"say why under [needs] in registers/{entry.id}.toml, or stop "
                                     "sending it"))  # fmt: skip
        if processor.evidence:
            stale = [n for n in processor.evidence.fields_held if n not in processor.fields]
            if stale:
                found.append(Problem(entry.id, f"{entry.name} still holds {_labels(stale)} sent before the field "
                                     "was turned off", "it goes as accounts are updated or deleted; check the "
                                     "platform if it must go sooner", "warning"))  # fmt: skip
    gaps = processor.gaps()
    if gaps:
        supplier = [h for h, kind in gaps if kind == "supplier"]
        school = [h for h, kind in gaps if kind == "school"]
        parts = []
        if supplier:
            parts.append(f"not found (ask): {', '.join(supplier)}")
        if school:
            parts.append(f"school to record: {', '.join(school)}")
        found.append(Problem(entry.id, f"{entry.name}: gaps, {'; '.join(parts)}",
                             f"record what you learn in the workspace's registers/{entry.id}.toml", "warning"))  # fmt: skip
    return found


def approve(workspace, state: State, entry_id: str, approved_by: str, role: str, today: date,
            next_review: date | None = None, note: str = "") -> Approval:  # fmt: skip
    """Record that ``approved_by`` agreed the data this processor receives now (a receipt with the
    field list before and after), and when the entry is next reviewed."""
    register = build_register(workspace, state, today)
    processor = next((p for p in register.processors if p.id == entry_id), None)
    if processor is None:
        known = ", ".join(p.id for p in register.processors)
        raise ApprovalNeeded(f"'{entry_id}' is not in this school's register",
                             hint=f"use one of: {known}; a platform appears once it is enabled")  # fmt: skip
    return _record(state, processor, approved_by, role, today, next_review, note)


def approve_all(workspace, state: State, approved_by: str, role: str, today: date, note: str) -> list[Approval]:
    """Approve every entry of the register as it stands (a new workspace's first register)."""
    register = build_register(workspace, state, today)
    return [_record(state, p, approved_by, role, today, None, note) for p in register.processors]


def _record(state: State, processor: Processor, approved_by: str, role: str, today: date,
            next_review: date | None, note: str) -> Approval:  # fmt: skip
    if not approved_by.strip():
        raise ApprovalNeeded("say who approves", hint="pass --by \"NAME\"")
    approval = Approval(
        processor.id, now(), approved_by.strip(), role.strip(), processor.approved_fields or [], processor.fields,
        (next_review or today + REVIEW_EVERY).isoformat(), note.strip(),
    )  # fmt: skip
    state.record_approval(approval)
    return approval


def require_approved(workspace, state: State, connectors: list[Connector], today: date) -> None:
    """Refuse to send a platform any field list nobody approved: apply calls this first."""
    for connector in connectors:
        approvals = state.approvals(connector.id)
        approved = approvals[-1].fields_after if approvals else None
        sent = list(connector.sent_fields)
        if approved is not None and set(approved) == set(sent):
            continue
        if approved is None:
            message = f"{connector.name}: nobody has approved the data it would be sent ({_labels(sent)})"
        else:
            added = [n for n in sent if n not in approved]
            dropped = [n for n in approved if n not in sent]
            changes = [f"now also {_labels(added)}" if added else "", f"no longer {_labels(dropped)}" if dropped else ""]
            message = f"{connector.name}'s fields changed since they were approved: {'; '.join(c for c in changes if c)}"
        raise ApprovalNeeded(message + "; nothing was sent",
                             hint=f"run 'provisioner register approve {connector.id} --by \"YOUR NAME\"', then apply again")  # fmt: skip
