"""The PDF answer to a pupil access request (``jobs.requests.access_report``): what each
processor holds about one pupil, what was deleted and when, and the recipients outside this
tool. It draws with the register PDF's document and tables (pdf.py).
"""

from __future__ import annotations

from datetime import date

from provisioner.fields import short_label
from provisioner.reports.content import Cell, honest, long_date, when
from provisioner.reports.pdf import PAIR_WIDTHS, Document, make_pdf

ACTIONS = {"create": "Account made", "update": "Updated", "disable": "Disabled", "delete": "Deleted",
           "restore": "Restored", "hold": "Removed from use; kept by the platform until it deletes it",
           "deleted_by_platform": "Deleted by the platform on its own schedule"}  # fmt: skip


def _long_iso(day: str) -> str:
    try:
        return long_date(date.fromisoformat(day))
    except ValueError:
        return day


def _values(fields: object) -> str:
    """A send's fields, readable: "Label: value" pairs, or labels where only names were kept."""
    if isinstance(fields, dict):
        return "; ".join(f"{short_label(k)}: {v}" for k, v in fields.items()) or "none"
    if isinstance(fields, list):
        return ", ".join(short_label(str(k)) for k in fields) or "none"
    return str(fields)


def _history_row(send: dict) -> list[Cell]:
    """One send about the pupil: when, what, and the values (an update: the ones it changed)."""
    action = send.get("action", "")
    values = send.get("changed") if action == "update" and send.get("changed") else send.get("fields")
    return [Cell(when(send.get("at"))), Cell(ACTIONS.get(action, action)), Cell(_values(values))]


def _recipient_row(recipient: dict) -> list[Cell]:
    """A recipient outside this tool, with the data the register lists (never a gap as if a fact)."""
    listed = ", ".join(recipient.get("fields") or [])
    other = honest(recipient.get("other_data") or "", "them") if recipient.get("other_data") else ""
    text = " ".join(x for x in (f"{listed}." if listed else "", other) if x)
    return [Cell(recipient.get("name", "")), Cell(text or "none")]


def _held_block(pdf: Document, record: dict, deleted: bool) -> None:
    pdf.write_line(record.get("name", ""), 12, bold=True)
    waiting = record.get("awaiting_upload")  # made in a file the school has not uploaded yet
    facts = [f"Status: {waiting or record.get('status', '')}", f"Username: {record.get('username', '')}",
             f"{'Made on' if waiting else 'Held since'}: {record.get('since', '') or 'unknown'}"]  # fmt: skip
    if deleted:
        facts.append(f"Deleted: {record.get('deleted', '') or 'date not recorded'}")
        if record.get("deletion_proof"):
            facts.append(f"How this is known: {record['deletion_proof']}")
    pdf.write_line(" \u00b7 ".join(facts), 8.5, gap=1)
    if record.get("held_note") and not deleted:
        pdf.write_line(f"{record['held_note']}.", 8.5, gap=1)
    from_mis = record.get("read_from_mis") or []
    rows = [[Cell(short_label(k)), Cell("Read by the platform from the MIS; no copy here" if k in from_mis else str(v))]
            for k, v in (record.get("fields") or {}).items()]  # fmt: skip
    rows += [
        [Cell(short_label(k)), Cell(f"Not kept: {why}")] for k, why in (record.get("not_kept") or {}).items()
    ]
    if rows:
        heading = "Last sent" if deleted else "In the file, exactly as written" if waiting else "Held now, exactly as sent"
        pdf.write_line(heading, 9, bold=True)
        pdf.grid(("Field", "Value"), rows, PAIR_WIDTHS, 8)
    history = record.get("history") or []
    if history:
        pdf.write_line("History", 9, bold=True)
        pdf.grid(("When", "What", "Data"), [_history_row(h) for h in history], (38, 26, 122), 7.5)
    pdf.ln(2)


def _who(report: dict) -> str:
    """The child, as the title names them: "Ava Ali (Oak, 3337)", so the answer is checked
    against the request before it is given; the id alone once the name is no longer held."""
    pupil_id = str(report.get("id") or report.get("pupil", ""))
    name = str(report.get("name") or "")
    if not name:
        return f"pupil {pupil_id}"
    return f"{name} ({', '.join(x for x in (str(report.get('class') or ''), pupil_id) if x)})"


def access_pdf_bytes(report: dict) -> bytes:
    """An A4 PDF of ``jobs.requests.access_report``: what each processor holds about one pupil
    (the exact values, since when, and every send), what was deleted and when, and the
    recipients outside this tool. It holds pupil data: the caller writes it owner-only."""
    school = str(report.get("school", ""))
    as_of = str(report.get("as_of", ""))
    title = f"What we hold about {_who(report)}"

    def draw(pdf: Document) -> None:
        pdf.add_page()
        pdf.write_line(title, 15, bold=True)
        pdf.write_line(f"{school} \u00b7 as of {_long_iso(as_of)}", 10, gap=1)
        pdf.write_line("Every value below is exactly what this tool's records show was sent to each platform. "
                       "Passwords are never kept.", 8.5, gap=2)  # fmt: skip
        if report.get("erasure_requested"):
            pdf.bullets(
                [[Cell("An erasure has been requested for this pupil: no new accounts are made.", True)]], 9
            )
        pdf.write_line("Platforms holding data now", 11.5, bold=True, gap=1)
        processors = report.get("processors") or {}
        if not processors:
            pdf.write_line("None.", 9, gap=2)
        for record in processors.values():
            _held_block(pdf, record, deleted=False)
        removed = report.get("deleted") or {}
        if removed:
            pdf.write_line("Accounts deleted", 11.5, bold=True, gap=1)
            for record in removed.values():
                _held_block(pdf, record, deleted=True)
        others = report.get("other_recipients") or []
        if others:
            pdf.write_line("Shared outside this tool", 11.5, bold=True)
            pdf.write_line("The school's register names these recipients. This tool cannot see what the school's "
                           "MIS sent them; ask the school office for those records.", 8.5, gap=1)  # fmt: skip
            rows = [_recipient_row(recipient) for recipient in others]
            pdf.grid(("Recipient", "Data the register lists"), rows, PAIR_WIDTHS, 8)

    return make_pdf(title, f"{title} \u00b7 {school} \u00b7 PRIVATE: holds a pupil's personal data", draw)
