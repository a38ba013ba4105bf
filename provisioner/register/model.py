"""The register as a whole: each processor with the fields it holds, the live evidence from the
state and its approvals, and the check's findings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from provisioner.connector import POLICY_DEFAULT, Connector, Scope
from provisioner.fields import FIELDS
from provisioner.fields import short_labels as _labels
from provisioner.register.entries import ITEMS, NO_SPECIAL_CATEGORY, Entry, gap_kind, gap_kinds
from provisioner.state import Approval, DeletionProofs, RegisterChange


def _in_short(text: str) -> str:
    """A fact's first words (up to the first colon, full stop or bracket), marked where it is to be
    confirmed; a fact that is only a question is 'not known yet'."""
    short = re.split(r"[.:;(]", text, maxsplit=1)[0].strip()
    if not gap_kind(text):
        return short
    opens_with_marker = gap_kind(short + ":") is not None  # "Question for IXL: ..." is no answer
    return "not known yet" if opens_with_marker else f"{short} (to confirm)"


@dataclass(frozen=True)
class Evidence:
    """The one state of a connected platform, as the workspace's state shows it today. Every
    document (the PDF, the HTML page, the Markdown, the workbook, the privacy notice, the DPIA
    draft, ``register show``) draws who makes the accounts, the fields and the pupil counts from
    here and recomputes none of them, so no two can disagree.

    Each pupil the tool knows there is counted in one place only: held now (the platform has
    the pupil: an import file confirmed uploaded, an API call done, or a broker's record, and
    including those awaiting deletion or kept by the platform after removal), or issued, not
    yet uploaded (an import file written but not confirmed uploaded: not held, since the
    platform may not have the pupil yet)."""

    provisioning: str  # how: the delivery's kind, "file", "api" or "mis-sync"
    made_by: str  # who makes the accounts, in words ("this tool (import file ...)", "Wonde (...)")
    sent_by: str  # the broker or MIS sync feeding the platform; "" where this tool sends
    fields_declared: list[str]  # what is sent there now (the connector's declared fields)
    pupils_held: int
    fields_held: list[str]  # every field some held account still holds (may include ones no longer sent)
    last_provisioning: str | None  # when the tool last created or updated an account there
    last_cleanup: str | None  # when the leaver cleanup last disabled or deleted one
    awaiting_deletion: int  # accounts on deletion lists not yet confirmed (counted in pupils_held)
    deletions_overdue: int
    deletion_proofs: DeletionProofs = DeletionProofs()  # how the deletions done are known
    # Accounts made in an import file the admin has not confirmed uploading (not in pupils_held).
    awaiting_upload: int = 0
    # Of the pupils held, accounts removed from use that the platform keeps until it deletes
    # them itself (TTRS's Leavers group): how many, the first and last day it keeps one, where.
    held_by_platform: int = 0
    held_until: tuple[str, str] | None = None
    held_where: str = ""

    @property
    def no_longer_sent(self) -> list[str]:
        """Fields some held account still holds that are no longer sent (they go as accounts are
        updated or deleted)."""
        return [name for name in self.fields_held if name not in self.fields_declared]

    def fields_held_text(self) -> str:
        """The fields held now in the register's words, each no longer sent marked so ("none")."""
        stale = self.no_longer_sent
        words = [(FIELDS[n].label if n in FIELDS else n) + (" (no longer sent)" if n in stale else "")
                 for n in self.fields_held]  # fmt: skip
        return ", ".join(words) or "none"

    def as_dict(self) -> dict:
        return {**self.__dict__, "deletion_proofs": self.deletion_proofs.as_dict()}

    def held_by_platform_words(self) -> str:
        """"3 pupils in Times Tables Rock Stars' Leavers group until 2027-05-27", or ""."""
        if not self.held_by_platform:
            return ""
        pupils = "1 pupil" if self.held_by_platform == 1 else f"{self.held_by_platform} pupils"
        first, last = self.held_until or ("", "")
        until = f"until {last}" if first == last else f"until dates from {first} to {last}"
        return f"{pupils} in {self.held_where} {until}"


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
    """One row of the register: the entry, what it holds, the evidence, the approvals, and the
    facts the school set in the entry (``register set`` and ``register edit``)."""

    entry: Entry
    fields: list[str]  # vocabulary names: what the connector sends now, or what the entry lists
    enabled: bool  # a platform switched on in the settings (recipients: always)
    connector: Connector | None = None
    evidence: Evidence | None = None
    approvals: list[Approval] = field(default_factory=list)
    changes: list[RegisterChange] = field(default_factory=list)

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
    def accounts_made_by(self) -> str:
        """Who makes a platform's accounts, in words: this tool (and how), or the broker that feeds it."""
        if self.evidence is not None:
            return self.evidence.made_by
        return "the school, by hand" if self.entry.kind == "platform" else ""

    @property
    def scope(self) -> Scope | None:
        """Which pupils a connected platform serves (None for a recipient or a platform with no connector)."""
        return self.connector.scope if self.connector is not None else None

    def scope_text(self) -> str:
        """The scope in words with where it comes from, and why where it is the entry's default."""
        scope = self.scope
        if scope is None:
            return ""
        if scope.source == POLICY_DEFAULT and POLICY_DEFAULT in scope.note.lower():
            return f"{scope.describe()}. {scope.note}"  # the note says where it comes from, and why
        return f"{scope.describe()} ({scope.source_text()})."

    @property
    def special_category_fields(self) -> list[str]:
        return [name for name in self.fields if FIELDS[name].special_category]

    @property
    def role_in_short(self) -> str:
        """The role without its explanation: 'processor', 'Controller or processor'..."""
        return _in_short(self.entry.role)

    @property
    def own_uses_in_short(self) -> str:
        """Whether it uses the data for itself, in a few words: 'only on our instructions'..."""
        return _in_short(self.fact("own_uses"))

    @property
    def erasure_in_short(self) -> str:
        """When a deleted pupil's data is gone there, in a few words: 'after 30 days'..."""
        return _in_short(self.fact("erasure"))

    def fields_text(self, short: bool = False) -> str:
        label = (lambda name: _labels([name])) if short else (lambda name: FIELDS[name].label)
        listed = ", ".join(label(name) for name in self.fields) or "none from the pupil roster"
        extra = self.entry.other_data.strip()
        if not extra:
            return listed
        # An entry's text is a sentence ("Also from the census: ...") or a bare list ("game scores").
        return f"{listed}. {extra}" if extra[0].isupper() else f"{listed}. Also: {extra}"

    def fact(self, key: str) -> str:
        """The text of one Article 30 item (see ITEMS), computed where the tool knows it."""
        if key == "fields":
            return self.fields_text()
        if key == "data_subjects" and self.scope is not None:
            return f"{self.entry.data_subjects} Which pupils: {self.scope_text()}".strip()
        if key == "special_category":
            if self.entry.kind == "platform":
                special = self.special_category_fields
                return ", ".join(FIELDS[n].label for n in special) if special else NO_SPECIAL_CATEGORY
            return self.entry.special_category or "To record: the special-category data we send (our DPO)."
        if key == "article_9_condition":
            if self.entry.kind == "platform" and not self.special_category_fields:
                return "Not needed: no special-category data is sent."
            return self.entry.article_9_condition or "To record: the Article 9 condition our DPO relies on."
        if key == "own_uses" and not self.entry.own_uses.strip():
            return (f"Question for {self.asked}: does it use pupils' data only on our instructions, or also for "
                    "its own purposes (product improvement, analytics, research, AI training)?")  # fmt: skip
        if key == "erasure" and not self.entry.erasure.strip():
            if self.entry.kind == "recipient":
                return "Not applicable: what we share becomes the recipient's own record, kept as its retention says."
            return (f"Question for {self.asked}: how long after we delete a pupil is their data erased, "
                    "including any copy that can be restored and any backup?")  # fmt: skip
        if key == "review":
            if not self.approvals:
                return "Never approved: run 'provisioner register approve'."
            last = self.approvals[-1]
            return f"{last.next_review} (last approved {last.approved_at[:10]} by {last.approved_by})"
        return getattr(self.entry, key)

    @property
    def asked(self) -> str:
        """Who a question about a missing fact goes to, in a sentence: 'the supplier' or 'the recipient'."""
        return "the supplier" if self.entry.kind == "platform" else "the recipient"

    def gaps(self) -> list[tuple[str, str]]:
        """(heading, 'supplier' or 'school') for each item still to be found out or recorded."""
        found = []
        for key, heading in ITEMS:
            if key == "review":
                continue
            # An item asking the supplier and leaving the school a fact to record is two gaps, as
            # 'register gaps' lists them.
            found += [(heading, kind) for kind in gap_kinds(self.entry.other_data if key == "fields" else self.fact(key))]
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
                    "scope": p.scope.as_dict() if p.scope else None,
                    "evidence": p.evidence.as_dict() if p.evidence else None,
                    "approvals": [a.__dict__ for a in p.approvals],
                    "changes": [c.__dict__ for c in p.changes],
                    "sources": p.entry.sources,
                }
                for p in self.processors
            },
        }
