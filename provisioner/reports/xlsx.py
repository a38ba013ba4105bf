"""The processor register as an xlsx workbook for the data protection officer: a short row per
processor for governors (the same rows as the PDF's summary for governors, printing on one A4
landscape page across), and the full register (every Article 30 item, the live evidence, gaps,
check findings and sources), which is wide: it prints on A3 landscape, three pages across, the
processor's id and name repeated on each.
"""

from __future__ import annotations

from provisioner.register import ITEMS, Processor, Register
from provisioner.reports.content import (
    GOVERNORS_HEADER,
    NONE_HELD,
    governors_summary,
    leaver_policy,
    title_lines,
    when,
)
from provisioner.xlsx import Sheet, xlsx_bytes

GOVERNORS_WIDTHS = (28, 50, 16, 34, 12, 16)  # characters: about 160 across, one A4 landscape page
FULL_MAX_WIDTH = 32  # the full register's long texts wrap in narrower columns, so it prints three A3 pages across
EVIDENCE_HEADER = ("Pupils held now", "Issued, not yet uploaded", "Fields held now", "Last provisioning run", "Last leaver cleanup",
                   "Awaiting deletion", "Deletions overdue", "Leaver policy", "Accounts made by")  # fmt: skip


def _full_row(register: Register, processor: Processor) -> list[object]:
    evidence = processor.evidence
    if evidence:
        live = [evidence.pupils_held, evidence.awaiting_upload, evidence.fields_held_text(),
                when(evidence.last_provisioning), when(evidence.last_cleanup), evidence.awaiting_deletion, evidence.deletions_overdue, leaver_policy(processor) or "",
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


def _number_or_text(text: str) -> int | str:
    """A count as a number (so the spreadsheet can add it up), anything else as the text it is."""
    return int(text) if text.isdigit() else text


def register_xlsx_bytes(register: Register) -> bytes:
    """The register as an xlsx: "Governors" (a short row per processor) and "Full register" (every
    Article 30 item, the evidence, gaps and sources, for the data protection officer)."""
    school, title, _ = title_lines(register)
    summary = governors_summary(register, None)
    governors = Sheet("Governors", GOVERNORS_HEADER, [[_number_or_text(cell.text) for cell in row] for row in summary.rows],
                      widths=GOVERNORS_WIDTHS, footer=f"{school}: {summary.title}")  # fmt: skip
    full_header = ("Id", "Name", "Kind", "Enabled", *(heading for _, heading in ITEMS), *EVIDENCE_HEADER, "Gaps",
                   "Register check", "Sources")  # fmt: skip
    full = Sheet("Full register", full_header, [_full_row(register, p) for p in register.processors],
                 max_width=FULL_MAX_WIDTH, paper="A3", pages_wide=3, title_columns=2,
                 footer=f"{school}: {title} (print on A3 landscape)")  # fmt: skip
    return xlsx_bytes([governors, full])
