"""The content every format of the processor register is drawn from: the one-page summary for
governors (``governors_summary``: a short row per processor, the audit log's state, the errors
and facts still to collect), a row per processor for the summary of the data held
(``summary_rows``) and a page per processor (``pages``), made of ``Cell``, ``Block`` and
``Page``, with the labels, dates and gap words they are written in.

Every format is drawn from the same content (``summary_rows`` and ``pages``), so the PDF,
the HTML page and the Markdown cannot say different things. A gap (a question for the
supplier, or a fact for the school to record) is highlighted with a shaded, bold cell that also
says GAP in words, so it still stands out when printed in black and white; so is anything
overdue.

``honest`` is here too: the privacy notice and the access request's PDF both use it, so a gap
is never written to a parent as if it were a fact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from provisioner import times
from provisioner.fields import CHARACTERISTICS, CONTACT, CREDENTIALS, FIELDS, IDENTIFIERS, SCHOOL, short_label
from provisioner.planning.cleanup import policy  # notice.py uses it from here
from provisioner.register import ITEMS, Processor, Register, gap_kind, gap_kinds, verdict
from provisioner.state import DeletionProofs
from provisioner.times import long_date  # the documents' one date form (others import it from here)

CATEGORIES = (IDENTIFIERS, CHARACTERISTICS, CONTACT, SCHOOL, CREDENTIALS)
OTHER = "Other"
NONE_HELD = "\u2014"  # an em dash: a recipient outside this tool, whose holdings it cannot count
REVIEW_SOON = timedelta(days=60)  # a review this close shows as due, so governors can plan it
OTHER_MAX_CHARS = 200  # the summary shows the start of a recipient's other data (the census's categories fit)

SUMMARY_HEADER = ("Processor", *CATEGORIES, OTHER, "Pupils held now", "Gaps", "Status")
GOVERNORS_HEADER = ("Processor", "What it holds", "Children", "Accounts made by", "Overdue deletions", "Next review")
KEY = (
    (
        "Each category cell names the pupil data the processor holds (short labels; its own page lists them "
        "in full). A blank cell: nothing in that category."
    ),
    (
        f"Pupils held now: the accounts this tool's records show on the platform today, and in brackets the "
        f"pupils it is limited to, where it serves only some. Accounts in an import file the school has not yet "
        f"confirmed uploading are not held yet: Status counts them as issued, not yet uploaded. {NONE_HELD}: a "
        "recipient outside this tool, to which the school sends data another way."
    ),
    (
        "GAP: a fact the register does not have yet: ask the supplier or recipient, or the school records it. "
        "OVERDUE: deletions or a review past their date. Shaded, bold cells need action."
    ),
    (
        "Status: deletions awaited or overdue, the next review, and the register check's errors; for a platform, "
        "whether the supplier also uses the data for its own purposes, and when a deleted pupil's data is gone "
        "there. A page for each processor follows, in the same order."
    ),
)


# --- the content every format shares -----------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str
    alert: bool = False  # a gap or something overdue: shaded and bold, and the text says so


@dataclass(frozen=True)
class Block:
    """One part of a processor's page: "pairs" (item, text), a "table" under ``header``, or a "list"."""

    title: str
    kind: str
    rows: list[list[Cell]]
    header: tuple[str, ...] = ()
    empty: str = ""  # shown instead of an empty table or list
    empty_alert: bool = False  # an empty block that needs action (nobody has approved the entry)


@dataclass(frozen=True)
class Page:
    title: str
    subtitle: str
    blocks: list[Block]


def when(stamp: str | None) -> str:
    """A time from the register's evidence, readable on the school's clock: 22 November 2026, 09:30
    (the register gives its times in the school's zone; see times.py)."""
    return times.shown(stamp)


def labels(names: Iterable[str]) -> str:
    return ", ".join(short_label(n) for n in names) or "none"


def _asked(processor: Processor) -> str:
    """Who a fact not found is asked of: a platform's supplier, or the recipient itself."""
    return "supplier" if processor.entry.kind == "platform" else "recipient"


def gap_words(kind: str, processor: Processor) -> str:
    """A gap's marker, in words as well as highlighted, for black-and-white print."""
    return f"GAP (ask the {_asked(processor)})" if kind == "supplier" else "GAP (school to record)"


def title_lines(register: Register) -> tuple[str, str, str]:
    """The school, the title, and the check's verdict: its errors and the facts still to collect, both."""
    return register.school, f"Processor register as of {long_date(register.today)}", verdict(register).headline()


def _category_cells(processor: Processor) -> list[Cell]:
    """What the processor holds in each category; fields held but no longer sent are named as such."""
    held = list(processor.fields)
    stale = processor.evidence.no_longer_sent if processor.evidence else []
    cells = []
    for category in CATEGORIES:
        names = [short_label(n) for n in held if n in FIELDS and FIELDS[n].category == category]
        names += [f"{short_label(n)} (still held, no longer sent)" for n in stale
                  if n in FIELDS and FIELDS[n].category == category]  # fmt: skip
        cells.append(Cell(", ".join(names)))
    unknown = [n for n in held if n not in FIELDS]  # a check error; still shown, never dropped
    other = " ".join(x for x in (", ".join(unknown), processor.entry.other_data.strip()) if x)
    if len(other) > OTHER_MAX_CHARS:
        other = other[:OTHER_MAX_CHARS].rsplit(" ", 1)[0] + "\u2026 (see its page)"
    kind = gap_kind(processor.entry.other_data)
    cells.append(Cell(f"{gap_words(kind, processor)}: {other}", True) if kind else Cell(other))
    return cells


def _gaps_cell(processor: Processor) -> Cell:
    gaps = processor.gaps()
    if not gaps:
        return Cell("None")
    supplier = sum(1 for _, kind in gaps if kind == "supplier")
    school = len(gaps) - supplier
    parts = [
        f"{supplier} ask {_asked(processor)}" if supplier else "",
        f"{school} school to record" if school else "",
    ]
    return Cell(f"{len(gaps)} GAP{'S' if len(gaps) != 1 else ''} ({', '.join(p for p in parts if p)})", True)


def _status(register: Register, processor: Processor) -> list[Cell]:
    """The things governors act on, each flagged where it is overdue or an error."""
    found: list[Cell] = []
    evidence = processor.evidence
    if processor.entry.kind == "platform" and not processor.enabled:
        found.append(Cell("switched off; still holds accounts"))
    if evidence and evidence.deletions_overdue:
        found.append(Cell(f"OVERDUE deletions: {evidence.deletions_overdue}", True))
    if evidence and evidence.awaiting_upload:
        found.append(Cell(f"issued, not yet uploaded: {evidence.awaiting_upload}"))
    if evidence and evidence.awaiting_deletion:
        found.append(Cell(f"awaiting deletion: {evidence.awaiting_deletion}"))
    if evidence and evidence.held_by_platform:
        found.append(Cell(evidence.held_by_platform_words()))
    review = processor.next_review
    if review is None:
        found.append(Cell("NOT APPROVED yet", True))
    elif review < register.today.isoformat():
        found.append(Cell(f"review OVERDUE since {review}", True))
    elif review <= (register.today + REVIEW_SOON).isoformat():
        found.append(Cell(f"review due {review}"))
    else:
        found.append(Cell(f"next review {review}"))
    errors = [p for p in register.problems_of(processor.id) if p.severity == "error"]
    if errors:
        found.append(Cell(f"check ERRORS: {len(errors)}", True))
    if processor.entry.kind == "platform":
        found.append(Cell(f"own uses: {processor.own_uses_in_short}"))
        found.append(Cell(f"deleted data gone: {processor.erasure_in_short}"))
    return found


def _joined(cells: list[Cell]) -> Cell:
    return Cell("; ".join(c.text for c in cells), any(c.alert for c in cells))


def _pupils_held(processor: Processor) -> str:
    """How many pupils it holds, and which it is limited to where it serves only some ("295 (Years 1 to 6)")."""
    if not processor.evidence:
        return NONE_HELD
    scope = processor.scope
    limited = f" ({scope.describe()})" if scope is not None and scope.limited else ""
    waiting = processor.evidence.awaiting_upload
    issued = f"; issued, not yet uploaded: {waiting}" if waiting else ""
    return f"{processor.evidence.pupils_held}{limited}{issued}"


def summary_rows(register: Register) -> list[list[Cell]]:
    """A row per processor, in SUMMARY_HEADER's columns."""
    return [
        [
            Cell(p.name),
            *_category_cells(p),
            Cell(_pupils_held(p)),
            _gaps_cell(p),
            _joined(_status(register, p)),
        ]
        for p in register.processors
    ]


@dataclass(frozen=True)
class AuditCheck:
    """What checking the audit log found (``State.verify_audit``), as ``status`` reports it, with
    the head governors keep to check the next register against."""

    entries: int
    head: str  # e.g. 5123:9f3a-b1c2-d4e5-f607-1829
    problem: str | None = None  # None: the log proves itself

    @property
    def intact(self) -> bool:
        return self.problem is None

    def words(self) -> str:
        if self.intact:
            return (f"Audit log: intact ({self.entries} entries, none changed or removed since written). Head, to "
                    f"check the log against later: {self.head}.")  # fmt: skip
        return (f"Audit log: BROKEN: {self.problem}. Tell the data protection officer. (Its head now: "
                f"{self.head}.)")  # fmt: skip


@dataclass(frozen=True)
class Summary:
    """The governors' one page: the school and date, a row per processor (GOVERNORS_HEADER), and
    lines on the audit log and what the register still lacks."""

    school: str
    title: str
    rows: list[list[Cell]]
    lines: list[Cell]


def _holds_in_short(processor: Processor) -> str:
    """The fields it holds in short labels, then the start of the other data the entry names (the
    census's categories fit), so governors see the sensitive data on the first page."""
    held = ", ".join(short_label(n) for n in processor.fields)
    other = " ".join(processor.entry.other_data.split())
    if len(other) > OTHER_MAX_CHARS:
        other = other[:OTHER_MAX_CHARS].rsplit(" ", 1)[0] + "\u2026 (see its page)"
    return ". ".join(x for x in (held, other) if x) or "none"


def _review_cell(register: Register, processor: Processor) -> Cell:
    review = processor.next_review
    if review is None:
        return Cell("NOT APPROVED yet", True)
    if review < register.today.isoformat():
        return Cell(f"OVERDUE since {long_date(date.fromisoformat(review))}", True)
    return Cell(long_date(date.fromisoformat(review)))


def governors_summary(register: Register, audit: AuditCheck | None) -> Summary:
    """The one page governors read first: each processor in a row, then the audit log's state and
    how many errors and facts are still to be dealt with."""
    rows = []
    for p in register.processors:
        overdue = p.evidence.deletions_overdue if p.evidence else None
        rows.append([
            Cell(p.name),
            Cell(_holds_in_short(p)),
            Cell(_pupils_held(p)),
            Cell(p.accounts_made_by or "No accounts: the school shares data with it outside this tool"),
            Cell(NONE_HELD) if overdue is None else _overdue_cell(overdue),
            _review_cell(register, p),
        ])  # fmt: skip
    checked = verdict(register)
    lines = [
        Cell(audit.words(), not audit.intact) if audit else Cell("Audit log: not checked for this document."),
        Cell(checked.headline(), bool(checked.errors or checked.gaps)),
        Cell(f"Children: the accounts this tool's records show on the platform today, and in brackets the pupils "
             f"it is limited to. {NONE_HELD}: shared outside this tool, so not counted here. The pages after this "
             "one give the categories of data, the gaps and the full record of each processor."),
    ]  # fmt: skip
    school, title, _ = title_lines(register)
    return Summary(school, f"Summary for governors: {title[0].lower()}{title[1:]}", rows, lines)


def _item_rows(processor: Processor) -> list[list[Cell]]:
    rows = []
    for key, heading in ITEMS:
        text = processor.fact(key)
        # Processor.gaps() leaves out the data held, but a recipient's other data may be a gap.
        checked = {"fields": processor.entry.other_data, "review": ""}.get(key, text)
        kinds = gap_kinds(checked)  # a question for the supplier and a fact to record: both marked
        if kinds:
            marks = "; ".join(gap_words(kind, processor) for kind in kinds)
            rows.append([Cell(heading, True), Cell(f"{marks}: {text}", True)])
        else:
            rows.append(
                [Cell(heading), Cell(text or "(not recorded)", key == "review" and not processor.approvals)]
            )
    return rows


def leaver_policy(processor: Processor) -> str | None:
    """How soon a leaver's account is disabled and deleted there, in words (platforms only)."""
    if processor.connector is None:
        return None
    disable_days, delete_days = policy(processor.connector)
    deleted = (
        "on the day the pupil leaves" if delete_days == 0 else f"{delete_days} days after the pupil leaves"
    )
    delivery = processor.connector.delivery
    if delivery.removes_leavers:
        return f"removed by {delivery.sent_by} when the pupil leaves the MIS"
    if delivery.sent_by:
        return (f"{delivery.sent_by} stops sending a leaver; the school checks the account is gone {deleted}, and "
                "deletes it if not")  # fmt: skip
    if disable_days is None:
        return f"deleted {deleted}"
    disabled = "on leaving" if disable_days == 0 else f"{disable_days} days after leaving"
    return f"disabled {disabled}, deleted {deleted}"


def _evidence_rows(processor: Processor) -> list[list[Cell]]:
    evidence = processor.evidence
    if evidence is None:
        return []
    rows = [
        [Cell("Accounts made by"), Cell(processor.accounts_made_by)],
        [Cell("Pupils held now"), Cell(str(evidence.pupils_held))],
        [Cell("Issued, not yet uploaded"), Cell(_awaiting_upload_words(evidence.awaiting_upload, processor.id))],
        [Cell("Fields held now"), Cell(evidence.fields_held_text())],
        [Cell("Last provisioning run"), Cell(when(evidence.last_provisioning))],
        [Cell("Last leaver cleanup"), Cell(when(evidence.last_cleanup))],
        [Cell("Awaiting deletion"), Cell(str(evidence.awaiting_deletion))],
        [Cell("Deletions overdue"), _overdue_cell(evidence.deletions_overdue)],
    ]
    proofs = deletion_proof_words(evidence.deletion_proofs)
    if proofs:
        rows.append([Cell("How deletions are known"), Cell(proofs, evidence.deletion_proofs.still_in_export > 0)])
    if evidence.held_by_platform:  # counted in pupils held: removed from use, not yet deleted
        rows.insert(3, [Cell("Of these, kept by the platform after removal"),
                        Cell(f"{evidence.held_by_platform_words()}, when it deletes them")])  # fmt: skip
    leaving = leaver_policy(processor)
    if leaving:
        rows.append([Cell("Leaver policy"), Cell(leaving)])
    return rows


def _awaiting_upload_words(count: int, platform: str) -> str:
    """Accounts made in an import file the school has not confirmed uploading: not held yet."""
    if not count:
        return "0"
    accounts = "1 account" if count == 1 else f"{count} accounts"
    return (f"{accounts} made in an import file the school has not yet confirmed uploading (not counted as held: "
            f"the admin runs 'provisioner confirm {platform} uploaded' once it is uploaded)")  # fmt: skip


def deletion_proof_words(proofs: DeletionProofs) -> str:
    """How the accounts deleted there are known to be gone, in words ("" when none are counted)."""
    parts = []
    if proofs.proved_by_export:
        day = long_date(date.fromisoformat(proofs.last_export)) if proofs.last_export else "a date not recorded"
        parts.append(f"{proofs.proved_by_export} proved by the platform's export of {day} (no longer in it)")
    if proofs.confirmed_by_admin:
        parts.append(f"{proofs.confirmed_by_admin} confirmed by the admin")
    if proofs.still_in_export:
        parts.append(f"{proofs.still_in_export} confirmed by the admin but still in the platform's latest export: "
                     "to be deleted there")  # fmt: skip
    return "; ".join(parts)


def _overdue_cell(count: int) -> Cell:
    return Cell(f"OVERDUE: {count}", True) if count else Cell("0")


def _approval_rows(processor: Processor) -> list[list[Cell]]:
    return [
        [Cell(a.approved_at[:10]), Cell(a.approved_by), Cell(a.role),
         Cell(f"{labels(a.fields_before)} \u2192 {labels(a.fields_after)}"), Cell(a.next_review), Cell(a.note)]
        for a in reversed(processor.approvals)  # the latest first: the one in force
    ]  # fmt: skip


HEADINGS = {**dict(ITEMS), "other_data": "Other pupil data held", "needs": "Why sensitive fields are sent"}


def _change_rows(processor: Processor) -> list[list[Cell]]:
    return [
        [Cell(c.changed_at[:10]), Cell(c.changed_by), Cell(HEADINGS.get(c.key, c.key)), Cell(_value_text(c.value_after))]
        for c in reversed(processor.changes)  # the latest first, as the approvals
    ]  # fmt: skip


def _value_text(value: object) -> str:
    if isinstance(value, list):
        return labels(value) if all(name in FIELDS for name in value) else ", ".join(map(str, value))
    if isinstance(value, dict):
        return "; ".join(f"{key}: {text}" for key, text in value.items())
    return "" if value is None else str(value)


def _problem_rows(register: Register, processor: Processor) -> list[list[Cell]]:
    rows = []
    for problem in register.problems_of(processor.id):
        error = problem.severity == "error"
        text = f"{'ERROR' if error else 'Warning'}: {problem.message}"
        rows.append([Cell(f"{text}. What to do: {problem.hint}" if problem.hint else text, error)])
    return rows


def _subtitle(processor: Processor) -> str:
    if processor.entry.kind == "recipient":
        return "Recipient: the school shares this data outside this tool."
    if processor.connector is None:
        return "Platform with no connector: the school sends its data by hand."
    state = "on" if processor.enabled else "switched off, but still holding accounts"
    return f"Platform ({state}). Accounts made by: {processor.accounts_made_by}."


def pages(register: Register) -> list[Page]:
    """A page per processor: its Article 30 record, evidence, approvals, check findings and sources."""
    pages = []
    for p in register.processors:
        blocks = [Block("Article 30 record", "pairs", _item_rows(p))]
        blocks.append(Block("Live evidence", "pairs", _evidence_rows(p),
                            empty="None: this tool does not send this data, so it holds no record of it."))  # fmt: skip
        blocks.append(Block("Approvals (latest first)", "table", _approval_rows(p),
                            ("Approved", "By", "Role", "Fields before \u2192 after", "Next review", "Note"),
                            "NOT APPROVED: nobody has approved the data this processor receives.", True))  # fmt: skip
        if p.changes:  # facts the school recorded in the entry, and who recorded them
            blocks.append(Block("Facts recorded by the school (latest first)", "table", _change_rows(p),
                                ("Recorded", "By", "Item", "Now says")))  # fmt: skip
        blocks.append(Block("Register check", "list", _problem_rows(register, p), empty="No problems found."))
        blocks.append(Block("Sources", "list", [[Cell(s)] for s in p.entry.sources], empty="None recorded."))
        pages.append(Page(p.name, _subtitle(p), blocks))
    return pages


# --- a fact for parents: what is known, never a gap as if it were a fact -----------------------

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")


def _known(text: str) -> tuple[str, bool]:
    """The sentences of ``text`` that are facts (no gap in them), and whether any were left out."""
    sentences = [s.strip() for s in SENTENCE_END.split(" ".join(text.split())) if s.strip()]
    kept = [s for s in sentences if gap_kind(s) is None]
    return " ".join(kept), len(kept) != len(sentences)


def honest(text: str, holder: str) -> str:
    """A fact for parents: what is known, and for the rest that it is being confirmed with ``holder``
    (or recorded by the school), never a gap as if it were a fact."""
    known, left_out = _known(text)
    if not left_out:
        return known or "The school is recording this; ask the school office."
    kinds = {gap_kind(s) for s in SENTENCE_END.split(" ".join(text.split()))} - {None}
    who = f"we are confirming this with {holder}" if "supplier" in kinds else "the school is recording this"
    rest = f"{who[0].upper()}{who[1:]}." if not known else f"For the rest, {who}."
    return f"{known} {rest}".strip()
