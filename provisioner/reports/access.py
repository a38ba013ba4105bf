"""The PDF answer to a pupil access request (``jobs.requests.access_report``), and the words it
shares with the letter confirming an erasure (erasure.py).

A parent reads it, so the school speaks as "we" and names the child first: the title carries
their name, class and id, so the answer is checked against the request before it is given.
Each platform says what we sent it exactly, and what else it holds that we did not send (the
child's work, scores, activity): from its register entry where the entry states it, else
as what we are asking its supplier; either way the school asks the supplier for a copy. A
platform that copies pupils from our records system itself (LGfL's USO-AutoUpdate, a data
broker such as Wonde) is said to hold the fields it copies, by name: our records keep which
fields, never the values, so no empty value is ever printed as if it were one. It draws with
the register PDF's document and tables (pdf.py).
"""

from __future__ import annotations

from datetime import date

from provisioner.fields import short_label
from provisioner.reports.content import Cell, honest, long_date, when
from provisioner.reports.pdf import PAIR_WIDTHS, Document, make_pdf
from provisioner.reports.plain import stated

ACTIONS = {"create": "Account made", "update": "Updated", "disable": "Sign-in switched off", "delete": "Deleted",
           "restore": "Restored", "hold": "Removed from use; kept by the platform until it deletes it",
           "deleted_by_platform": "Deleted by the platform on its own schedule"}  # fmt: skip
# An account's status, as a parent reads it.
STATUS_WORDS = {"pending": "being set up", "active": "in use", "disabled": "sign-in switched off",
                "deletion_requested": "waiting for our administrator to delete it on the platform",
                "platform_hold": "removed from use, kept by the platform until it deletes it",
                "deleted": "deleted"}  # fmt: skip
# How a deletion is known, for a parent ({day}: the day of the platform's own list of pupils).
PROOF_WORDS = {
    "export": "We checked: the platform's own list of pupils on {day} no longer had the account.",
    "admin": "Our administrator deleted it on the platform and recorded doing so.",
    "still_present": "Our administrator recorded deleting it, but the platform's own list of pupils on {day} "
                     "still had it, so we have asked for it to be deleted again.",
}  # fmt: skip


def long_iso(day: str | None) -> str:
    """An ISO date (or time stamp) as a British reader writes it; anything else as it is."""
    try:
        return long_date(date.fromisoformat((day or "")[:10]))
    except ValueError:
        return day or ""


def possessive(name: str) -> str:
    """"Amelia's", "James's": the child's first name, owning."""
    return f"{name}'s" if name else "the child's"


def first_name(report: dict) -> str:
    """The name the answer uses after the title: the first name, else "your child"."""
    name = str(report.get("name") or "").split()
    return name[0] if name else ""


def who(report: dict) -> str:
    """The child as a title names them: "Amelia Khan (Class 3B, MIS id 001000)"; the id alone
    once the name is no longer held ("pupil with MIS id 001000")."""
    pupil_id = str(report.get("id") or report.get("pupil", ""))
    id_words = f"{report.get('id_kind') or 'MIS id'} {pupil_id}"
    name = str(report.get("name") or "")
    if not name:
        return f"the pupil with {id_words}"
    class_name = str(report.get("class") or "")
    if class_name and not class_name.casefold().startswith("class"):
        class_name = f"Class {class_name}"
    return f"{name} ({', '.join(x for x in (class_name, id_words) if x)})"


def field_names(names: list[str]) -> str:
    """Fields in a sentence: "forename, surname and date of birth"."""
    words = [_lower(short_label(n)) for n in names]
    return " and ".join(x for x in (", ".join(words[:-1]), words[-1]) if x) if words else ""


def _lower(label: str) -> str:
    """A label inside a sentence: "date of birth", but "UPN" stays as it is."""
    return label[0].lower() + label[1:] if len(label) > 1 and label[1].islower() else label


def _values(fields: object, copied: bool) -> str:
    """A send's fields, readable: "Label: value" pairs; names only where the platform copied the
    values from our records system (we keep which fields, not the values); nothing for a send
    with none (a deletion)."""
    if isinstance(fields, dict) and not copied:
        return "; ".join(f"{short_label(k)}: {v}" for k, v in fields.items())
    if isinstance(fields, (dict, list)):
        return ", ".join(short_label(str(k)) for k in fields)
    return str(fields or "")  # a deletion sends nothing


def _history_row(send: dict, copied: bool) -> list[Cell]:
    """One send about the pupil: when, what, and the values (an update: the ones it changed)."""
    action = send.get("action", "")
    values = send.get("changed") if action == "update" and send.get("changed") else send.get("fields")
    what = ACTIONS.get(action, action)
    if copied and action == "create":
        what = "Copied from our records system"
    return [Cell(when(send.get("at"))), Cell(what), Cell(_values(values, copied))]


def _recipient_row(recipient: dict) -> list[Cell]:
    """A recipient our records system shares with, with the data the register lists (never a gap as if a fact)."""
    listed = ", ".join(recipient.get("fields") or [])
    other = honest(recipient.get("other_data") or "", "them") if recipient.get("other_data") else ""
    text = " ".join(x for x in (f"{listed}." if listed else "", other) if x)
    return [Cell(recipient.get("name", "")), Cell(text or "none")]


def also_held(record: dict, child: str) -> str:
    """What the platform holds beyond what we sent, and how we ask for it, in plain statements:
    "Maths Circle also holds ...: <what its entry states>. We are asking Maths Circle for a copy
    of everything it holds about Amelia, and will send it to you." Never a research note: what
    the entry does not state is what we are asking."""
    supplier = record.get("supplier") or record.get("name", "")
    found = stated(record.get("other_data") or "")
    asking = f"We are asking {supplier} for a copy of everything it holds about {child}, and will send it to you."
    if found.text:
        held = found.text.removeprefix("Also:").strip()
        return f"Beyond what we sent, {supplier} also holds: {held[0].lower()}{held[1:]} {asking}"
    return (f"{platform_name(record)} may also hold what {child} does there, such as work, scores, activity and any "
            f"messages. We are asking {supplier} what it holds, and for a copy, and will send it to you.")  # fmt: skip


def copied_by(record: dict, child: str, deleted: bool = False) -> str:
    """A platform that copies pupils from our records system: what it holds (or held, once the
    account is deleted), by field name."""
    fields = field_names(record.get("read_from_mis") or list(record.get("fields") or {}))
    broker = record.get("copied_by") or "its own connection"
    return (f"{platform_name(record)} {'held' if deleted else 'holds'} {possessive(child)} {fields}, copied from our records system by {broker}. "
            "It copies them itself, so our records note which details, not the details themselves.")


def platform_name(record: dict) -> str:
    """The platform's name in a sentence, without the register's explanation in brackets:
    "LGfL" for "LGfL (London Grid for Learning) USO"."""
    return str(record.get("name", "")).split(" (")[0]


def _held_block(pdf: Document, record: dict, child: str, deleted: bool) -> None:
    pdf.write_line(record.get("name", ""), 12, bold=True)
    copied = "read_from_mis" in record
    waiting = record.get("awaiting_upload")  # made in a file the school has not uploaded yet
    status = STATUS_WORDS.get(record.get("status", ""), record.get("status", ""))
    facts = [f"{waiting[0].upper()}{waiting[1:]}" if waiting else f"Account {status}"]
    if record.get("username"):
        facts.append(f"username {record['username']}")
    facts.append(f"{'made on' if waiting else 'held since'} {long_iso(record.get('since')) or 'a date not recorded'}")
    pdf.write_line(" \u00b7 ".join(facts), 8.5, gap=1)
    if deleted:
        proof = PROOF_WORDS.get(record.get("deletion_proof_kind") or "", "")
        gone = f"Deleted on {long_iso(record.get('deleted'))}." if record.get("deleted") else "Deleted."
        pdf.write_line(" ".join(x for x in (gone, proof.format(day=long_iso(record.get("deletion_proof_on")))) if x),
                       8.5, gap=1)  # fmt: skip
    if record.get("held_until") and not deleted:
        pdf.write_line(f"Removed from use, but {record.get('held_where') or platform_name(record)} keeps the account "
                       f"and its data until {long_iso(record['held_until'])}, and then deletes it.", 8.5, gap=1)
    if copied:
        pdf.write_line(copied_by(record, child, deleted), 8.5, gap=1)
    else:
        rows = [[Cell(short_label(k)), Cell(str(v))] for k, v in (record.get("fields") or {}).items()]
        rows += [[Cell(short_label(k)), Cell("Sent once, so they could sign in; we never keep passwords")]
                 for k in (record.get("not_kept") or {})]  # fmt: skip
        if rows:
            heading = "What we last sent" if deleted else "In the file, exactly as written" if waiting else \
                "What we sent, exactly"  # fmt: skip
            pdf.write_line(heading, 9, bold=True)
            pdf.grid(("Detail", "Value"), rows, PAIR_WIDTHS, 8)
    if not deleted:
        pdf.write_line(also_held(record, child), 8.5, gap=1)
    history = record.get("history") or []
    if history:
        pdf.write_line("History", 9, bold=True)
        pdf.grid(("When", "What", "Details"), [_history_row(h, copied) for h in history], (38, 40, 110), 7.5)
    pdf.ln(2)


def access_pdf_bytes(report: dict) -> bytes:
    """An A4 PDF of ``jobs.requests.access_report``: what each platform holds about one pupil
    (exactly what we sent, since when, every send, and what else it holds), what was deleted and
    how that is known, and the organisations our records system shares data with. It holds
    pupil data: the caller writes it owner-only."""
    school = str(report.get("school", ""))
    title = f"What we hold about {who(report)}"
    child = first_name(report) or "your child"

    def draw(pdf: Document) -> None:
        pdf.add_page()
        pdf.write_line(title, 15, bold=True)
        pdf.write_line(f"{school} \u00b7 {long_iso(report.get('as_of'))}", 10, gap=1)
        processors = report.get("processors") or {}
        named = report.get("name") or "This pupil"
        if processors:
            opening = (f"{named} has accounts on these learning platforms through our school, {school}. For each "
                       f"one we show exactly what it was sent about {child} and when, from our records. Each "
                       "platform may also hold what it records itself, such as work and scores: for each one we "
                       "say what we know, and we are asking the company behind it for a copy.")  # fmt: skip
        else:
            opening = (f"{named} has no account on our learning platforms now. Below is what our records, at "
                       f"{school}, show of any earlier accounts.")  # fmt: skip
        pdf.write_line(f"{opening} We never keep passwords.", 9, gap=2)
        if report.get("erasure_requested"):
            pdf.bullets([[Cell(f"You have asked us to erase {possessive(child)} data: we make no new accounts for "
                               f"{child}.", True)]], 9)  # fmt: skip
        pdf.write_line("Platforms holding data now", 11.5, bold=True, gap=1)
        if not processors:
            pdf.write_line(f"None of our platforms holds {possessive(child)} data now.", 9, gap=2)
        for record in processors.values():
            _held_block(pdf, record, child, deleted=False)
        removed = report.get("deleted") or {}
        if removed:
            pdf.write_line("Accounts deleted", 11.5, bold=True, gap=1)
            for record in removed.values():
                _held_block(pdf, record, child, deleted=True)
        others = report.get("other_recipients") or []
        if others:
            pdf.keep_room(40)  # the heading stays with its paragraph and the table's first rows
            pdf.write_line("Organisations we share pupils' data with", 11.5, bold=True)
            pdf.write_line("Our records system (the MIS) shares pupils' data with these organisations, as the law "
                           "or their work needs; none of it goes through the platform accounts above. Below is "
                           "what each receives. The school office can tell you what was sent about "
                           f"{child}.", 8.5, gap=1)  # fmt: skip
            rows = [_recipient_row(recipient) for recipient in others]
            pdf.grid(("Organisation", "Data our register lists"), rows, PAIR_WIDTHS, 8)

    return make_pdf(title, f"{title} \u00b7 {school} \u00b7 PRIVATE: holds a pupil's personal data", draw)
