"""Building the register of a workspace (entries, the fields each platform is sent, the evidence
from the state, the approvals) and recording approvals."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from zoneinfo import ZoneInfo

from provisioner import times
from provisioner.connector import Connector, registry
from provisioner.errors import ApprovalNeeded
from provisioner.fields import FIELDS
from provisioner.register.check import check_processor
from provisioner.register.entries import REVIEW_EVERY, load_entries
from provisioner.register.model import Evidence, Problem, Processor, Register
from provisioner.state import AccountStatus, Approval, State, now


def build_register(workspace, state: State, today: date) -> Register:
    """The register of a workspace as of ``today``: entries, fields, evidence, approvals, and
    the check's findings. Reads only; the workspace's settings decide what each platform sends."""
    entries = load_entries(workspace.root)
    processors: list[Processor] = []
    problems: list[Problem] = []
    connectors = registry()
    zone = workspace.settings.school.zone
    for entry_id, entry in entries.items():
        cls = connectors.get(entry_id)
        approvals = [_on_school_clock(a, zone) for a in state.approvals(entry_id)]
        if cls is not None:
            connector = workspace.connector(entry_id)
            evidence = _evidence(state, connector, today, zone)
            enabled = connector.settings.enabled
            if not enabled and not evidence.pupils_held and not evidence.awaiting_upload:
                continue  # neither sending nor holding: not a processor of this school
            processor = Processor(entry, list(evidence.fields_declared), enabled, connector, evidence, approvals)
        else:
            if entry.kind == "platform" and entry.fields is None:
                problems.append(Problem(entry_id, f"{entry.name} has no connector, so its entry must list its fields",
                                        f"add fields = [...] to registers/{entry_id}.toml"))  # fmt: skip
            processor = Processor(entry, list(entry.fields or []), True, None, None, approvals)
        changes = state.register_changes(entry_id)
        processor.changes = [replace(c, changed_at=times.stamp(c.changed_at, zone)) for c in changes]
        processors.append(processor)
        problems += check_processor(processor, today)
    processors.sort(key=lambda p: (p.entry.kind != "platform", p.name.lower()))
    return Register(workspace.settings.school.name, today, processors, problems)


def _evidence(state: State, connector: Connector, today: date, zone: ZoneInfo) -> Evidence:
    """The platform's one state (see ``Evidence``). A pupil whose account is only in an import
    file not yet confirmed uploaded is counted as such, not as held: "held" is what the platform
    has. (The ledger still treats that account as held for erasure and leavers, since the file
    may have been uploaded unconfirmed; only what the register reports differs.)"""
    delivery = connector.delivery
    holding = state.holding(connector.id, today)
    # A platform fed from the MIS by another holds the fields recorded, though no value was kept.
    recorded_only = not delivery.makes_accounts
    fields_held = sorted(state.fields_held(connector.id, today, with_values_only=not recorded_only) if holding.held
                         else (), key=list(FIELDS).index)  # fmt: skip
    if connector.issues_passwords and holding.held:
        fields_held.append("password")
    last = state.last_activity(connector.id)
    late = state.overdue(connector.id, today)
    return Evidence(
        provisioning=delivery.kind,
        made_by=delivery.accounts_made_by(),
        sent_by=delivery.sent_by,
        fields_declared=list(connector.sent_fields),
        pupils_held=holding.held,
        fields_held=fields_held,
        last_provisioning=times.stamp(last.get("provision"), zone),  # the school's clock (times.py)
        last_cleanup=times.stamp(last.get("cleanup"), zone),
        awaiting_deletion=holding.by_status.get(AccountStatus.DELETION_REQUESTED, 0),
        deletions_overdue=late["unconfirmed_deletion_lists"] + late["deletions_not_started"],
        deletion_proofs=state.deletion_proofs(connector.id),
        awaiting_upload=holding.awaiting_upload,
        held_by_platform=holding.by_status.get(AccountStatus.PLATFORM_HOLD, 0),
        held_until=holding.hold_range,
        held_where=connector.held_where(),
    )


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
    approval = _record(state, processor, approved_by, role, today, next_review, note)
    return _on_school_clock(approval, workspace.settings.school.zone)


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


def _on_school_clock(approval: Approval, zone: ZoneInfo) -> Approval:
    """An approval as the school reads it: its time on the school's clock (the state keeps UTC)."""
    return replace(approval, approved_at=times.stamp(approval.approved_at, zone))
