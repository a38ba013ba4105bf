"""The processor register as an xlsx workbook for the data protection officer: a short row per
processor for governors, and the full register (every Article 30 item, the live evidence, gaps,
check findings and sources).
"""

from __future__ import annotations

from provisioner.register import ITEMS, Processor, Register
from provisioner.reports.content import NONE_HELD, gap_words, labels, leaver_policy, when
from provisioner.xlsx import Sheet, xlsx_bytes

GOVERNORS_HEADER = ("Name", "Role", "Purpose", "Data held", "Which pupils", "Pupils held now",
                    "Issued, not yet uploaded", "Gaps", "Gap items", "Overdue deletions", "Next review",
                    "Accounts made by")  # fmt: skip
EVIDENCE_HEADER = ("Pupils held now", "Issued, not yet uploaded", "Fields held now", "Last provisioning run",
                   "Last leaver cleanup", "Awaiting deletion", "Deletions overdue", "Leaver policy",
                   "Accounts made by")  # fmt: skip


def _pupils_cell(processor: Processor) -> int | str:
    return processor.evidence.pupils_held if processor.evidence else NONE_HELD


def _governors_row(processor: Processor) -> list[object]:
    gaps = processor.gaps()
    held = labels(processor.fields) if processor.fields else ""
    other = processor.entry.other_data.strip()
    return [
        processor.name,
        processor.fact("role"),
        processor.fact("purpose"),
        f"{held}. Also: {other}" if held and other else (held or other or "none"),
        processor.scope_text() or processor.entry.data_subjects,
        _pupils_cell(processor),
        processor.evidence.awaiting_upload if processor.evidence else NONE_HELD,
        len(gaps),
        "; ".join(
            f"{heading} ({gap_words(kind, processor).removeprefix('GAP (')}" for heading, kind in gaps
        ),
        processor.evidence.deletions_overdue if processor.evidence else NONE_HELD,
        processor.next_review or "never approved",
        processor.accounts_made_by,
    ]


def _full_row(register: Register, processor: Processor) -> list[object]:
    evidence = processor.evidence
    if evidence:
        live = [evidence.pupils_held, evidence.awaiting_upload, evidence.fields_held_text(), when(evidence.last_provisioning), when(evidence.last_cleanup),
                evidence.awaiting_deletion, evidence.deletions_overdue, leaver_policy(processor) or "",
                processor.accounts_made_by]  # fmt: skip
    else:
        live = [*[NONE_HELD] * (len(EVIDENCE_HEADER) - 1), processor.accounts_made_by]
    problems = "\n".join(f"{p.severity}: {p.message}" for p in register.problems_of(processor.id))
    return [
        processor.id,
        processor.name,
        processor.entry.kind,
        "yes" if processor.enabled else "no",
        *(processor.fact(key) for key, _ in ITEMS),
        *live,
        "; ".join(heading for heading, _ in processor.gaps()),
        problems,
        "\n".join(processor.entry.sources),
    ]


def register_xlsx_bytes(register: Register) -> bytes:
    """The register as an xlsx: "Governors" (a short row per processor) and "Full register" (every
    Article 30 item, the evidence, gaps and sources, for the data protection officer)."""
    governors = Sheet("Governors", GOVERNORS_HEADER, [_governors_row(p) for p in register.processors])
    full_header = ("Id", "Name", "Kind", "Enabled", *(heading for _, heading in ITEMS), *EVIDENCE_HEADER, "Gaps",
                   "Register check", "Sources")  # fmt: skip
    full = Sheet("Full register", full_header, [_full_row(register, p) for p in register.processors])
    return xlsx_bytes([governors, full])
