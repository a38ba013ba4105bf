"""The register check: what stops the register being shown to governors as it stands, the gaps
to chase, and the refusal to send a platform a field list nobody approved.

Its verdict (``verdict``) keeps two things apart, and always says both: errors, where the
register is wrong or out of date (a field sent that nobody approved, a review past its date, a
platform without an entry), which fail the check; and facts still to collect (a question for a
supplier, a fact for the school to record: ``register gaps``), which do not. So a register with
gaps is never said to "pass" above a page of them, nor one with none said to fail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from provisioner.connector import Connector
from provisioner.errors import ApprovalNeeded
from provisioner.fields import FIELDS, SENSITIVE
from provisioner.fields import short_labels as _labels
from provisioner.register.entries import MANDATORY
from provisioner.register.gaps import SCHOOL, SUPPLIER, Gap, open_gaps
from provisioner.register.model import Problem, Processor, Register
from provisioner.state import State


def check_processor(processor: Processor, today: date) -> list[Problem]:
    """Why this entry cannot be shown to governors as it stands (errors), and its gaps (warnings)."""
    entry = processor.entry
    found: list[Problem] = []
    approve = f"check the fields, then run 'provisioner register approve {entry.id} --by \"YOUR NAME\"'"
    for key in MANDATORY:
        if not getattr(entry, key).strip():
            found.append(Problem(entry.id, f"{entry.name}: the register entry does not say '{key}'",
                                 f"write what is known in registers/{entry.id}.toml, or the question to ask "
                                 "('Question for the supplier: ...?')"))  # fmt: skip
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
            stale = processor.evidence.no_longer_sent
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
            parts.append(f"questions to ask: {', '.join(supplier)}")
        if school:
            parts.append(f"to record: {', '.join(school)}")
        found.append(Problem(entry.id, f"{entry.name}: gaps, {'; '.join(parts)}",
                             f"record what you learn with 'provisioner register set {entry.id} KEY \"TEXT\"' (see "
                             "'provisioner register gaps')", "warning"))  # fmt: skip
    return found


@dataclass(frozen=True)
class Verdict:
    """The register check's answer: the errors to fix, and the facts still to collect."""

    errors: list[Problem]
    gaps: list[Gap]

    @property
    def ok(self) -> bool:
        return not self.errors

    def headline(self, see: str = "provisioner register gaps") -> str:
        """Both, in a sentence each: "The register has no errors. 47 facts are still to collect:
        40 questions for suppliers and 7 for the school to record (provisioner register gaps).";
        ``see``: where the front end lists them."""
        count = len(self.errors)
        if not count:
            first = "The register has no errors."
        else:
            first = f"The register has {count} error{'s' if count != 1 else ''} to fix (it is wrong or out of date)."
        if not self.gaps:
            return f"{first} No facts are still to collect."
        ask = sum(1 for gap in self.gaps if gap.who == SUPPLIER)
        record = sum(1 for gap in self.gaps if gap.who == SCHOOL)
        parts = [f"{ask} question{'s' if ask != 1 else ''} for suppliers" if ask else "",
                 f"{record} for the school to record" if record else ""]  # fmt: skip
        total = len(self.gaps)
        facts = "1 fact is" if total == 1 else f"{total} facts are"
        return f"{first} {facts} still to collect: {' and '.join(p for p in parts if p)} ({see})."

    def as_dict(self) -> dict:
        return {"ok": self.ok, "headline": self.headline(), "errors": len(self.errors),
                "facts_to_collect": len(self.gaps), "error_list": [p.as_dict() for p in self.errors],
                "facts_to_collect_list": [g.as_dict() for g in self.gaps]}  # fmt: skip


def verdict(register: Register) -> Verdict:
    """The check's errors and the register's open gaps, for every front end and document."""
    return Verdict([p for p in register.problems if p.severity == "error"], open_gaps(register))


def require_approved(state: State, connectors: list[Connector]) -> None:
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
