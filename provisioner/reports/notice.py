"""The privacy notice's sections on the programs pupils use and who pupil data is shared with, in
plain words for parents, from the processor register: one content model (``notice_content``), written
as Markdown here and as a Word document by word.py, so the two cannot say different things.

The school speaks as "we". A register entry's research notes (its sources, its doubts, the
tool's settings) never reach a parent: plain.py keeps only what an entry states as fact, and
what is not known yet is said as the question the school has asked the supplier.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from provisioner.fields import short_label
from provisioner.register import Processor, Register
from provisioner.reports.content import long_date, policy
from provisioner.reports.plain import ASKING, asked, kept_after_deletion, stated, supplier

# Plain words for the privacy notice (the labels in provisioner.fields are for the register).
PLAIN: dict[str, str] = {
    "forename": "first name",
    "surname": "surname",
    "legal_forename": "legal first name",
    "legal_surname": "legal surname",
    "year_group": "year group",
    "class_name": "class",
    "date_of_birth": "date of birth",
    "gender": "gender",
    "email": "school email address",
    "upn": "Unique Pupil Number (the number every pupil in England has for school records)",
    "mis_id": "the school's admission number for your child",
    "pseudonymous_id": "a code number made for that program only, which does not show who your child is",
    "username": "a username",
    "password": "a first password (we do not keep it)",
}

PROGRAMS = "Programs used by pupils"
SHARING = "Who we share pupil data with"
RIGHTS = "Your rights"
TABLE_HEADER = ("Program", "Provided by", "What it holds from your child's school record")


@dataclass(frozen=True)
class Entry:
    """One program or organisation: its name, then (label, text) items in plain words."""

    name: str
    items: list[tuple[str, str]]


@dataclass(frozen=True)
class Notice:
    school: str
    as_of: date
    programs_intro: str
    programs: list[Entry]
    table: list[tuple[str, str, str]]  # a row per program, under TABLE_HEADER
    sharing_intro: str
    recipients: list[Entry]
    rights: str

    @property
    def closing(self) -> str:
        return f"(Taken from our processor register as of {long_date(self.as_of)}.)"


def _plain_list(names: Iterable[str]) -> str:
    words = [PLAIN.get(n, short_label(n).lower()) for n in names]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def _fact(processor: Processor, key: str, text: str | None = None) -> str:
    """One register item for a parent: its facts, then the question asked where something is
    not known, or that we are confirming it where it is the school's own to record."""
    found = stated(processor.fact(key) if text is None else text)
    parts = [found.text] if found.text else []
    if found.asks_supplier and key in ASKING:
        parts.append(asked(processor, key))
    elif found.asks_supplier or found.school_decides or not parts:
        parts.append("We are confirming this." if parts else "We are confirming this and will update this notice.")
    return " ".join(parts)


def _notice_retention(processor: Processor, today: date) -> str:
    """How long: our leaver policy for the platform, then what the supplier keeps."""
    lines = []
    delivery = processor.connector.delivery if processor.connector is not None else None
    if delivery is not None and delivery.removes_leavers:
        lines.append(f"{processor.name} takes your child's details from our records system itself, and "
                     "ends your child's access when they leave.")  # fmt: skip
    elif delivery is not None:
        disable_days, delete_days = policy(processor.connector)
        deleted = ("on the day your child leaves the school" if delete_days == 0
                   else f"within {_days(delete_days)} of your child leaving the school")  # fmt: skip
        if delivery.sent_by:
            lines.append(f"When your child leaves, {delivery.sent_by} stops sending their details, and we make "
                         f"sure {processor.name} has deleted the account {deleted}.")  # fmt: skip
        elif disable_days is None:
            lines.append(f"We delete your child's account {deleted}.")
        else:
            switched = (
                "on the day they leave" if disable_days == 0 else f"{_days(disable_days)} after they leave"
            )
            lines.append(f"We switch your child's account off {switched} and delete it {deleted}.")
        kept = kept_after_deletion(processor, today)
        if kept:
            lines.append(f"{supplier(processor)} then keeps the deleted account for {kept} before erasing it.")
    lines.append(_fact(processor, "retention"))
    erasure = _fact(processor, "erasure")
    if erasure:
        lines.append(f"After an account is deleted: {erasure}")
    return " ".join(line for line in lines if line)


def holds(processor: Processor) -> str:
    """What a program holds from the school record, in plain words (a sentence without its stop)."""
    return _plain_list(processor.fields) or "nothing from your child's school record"


def _platform_entry(processor: Processor, today: date) -> Entry:
    name = processor.name
    items = [("What it holds from your child's school record", f"{holds(processor)}.")]
    sender = processor.evidence.sent_by if processor.evidence is not None else ""
    if sender:
        items.append(("How it gets it", f"{sender} reads our records system and passes it on; we do not make "
                      "this account ourselves."))  # fmt: skip
    stale = processor.evidence.no_longer_sent if processor.evidence else []
    if stale:
        items.append(("Held from before", f"It may still hold your child's {_plain_list(stale)}, sent before we "
                      "stopped sending it; this goes as accounts are updated or deleted."))  # fmt: skip
    if processor.entry.other_data.strip():
        items.append(("Also", _fact(processor, "other_data")))
    items += [
        ("Why", _fact(processor, "purpose")),
        ("Its own uses of the data", _fact(processor, "own_uses")),
        ("Where it is held", _fact(processor, "hosting")),
        ("How long", _notice_retention(processor, today)),
    ]
    if not processor.enabled:
        items.append(("Now", f"We have stopped adding pupils to {name}; it still holds accounts made earlier."))
    return Entry(name, items)


def _recipient_entry(processor: Processor) -> Entry:
    """What we share with an organisation outside the programs, and why; anything the register
    does not know yet is ours to confirm (we choose what we send)."""
    parts = [f"your child's {_plain_list(processor.fields)}."] if processor.fields else []
    other = stated(processor.entry.other_data)
    if other.text:
        parts.append(other.text)
    if other.asks_supplier or other.school_decides or not parts:
        parts.append("We are confirming exactly what we share." if parts else
                     "We are confirming what we share and will update this notice.")  # fmt: skip
    purpose = stated(processor.fact("purpose"))
    why = purpose.text
    if purpose.asks_supplier or purpose.school_decides or not why:
        why = f"{why} We are confirming anything else we share it for." if why else "We are confirming why we share it."
    return Entry(processor.name, [("What we share", " ".join(parts)), ("Why", why.strip())])


def notice_content(register: Register) -> Notice:
    """The privacy notice's sections "Programs used by pupils" and "Who we share pupil data with",
    in plain words for parents, the school speaking as "we"."""
    platforms = register.platforms()
    return Notice(
        school=register.school,
        as_of=register.today,
        programs_intro=(
            f"Pupils at {register.school} use the online programs below in their learning. Our appointed admin "
            "makes and manages each pupil's account (or, where said below, a service reading our records system "
            "makes it), and each program gets as little of your child's data as it needs to work. We delete each "
            "account after your child leaves the school, as set out below."
        ),
        programs=[_platform_entry(p, register.today) for p in platforms],
        table=[(p.name, supplier(p), f"{holds(p)[0].upper()}{holds(p)[1:]}") for p in platforms],
        sharing_intro="We also share pupil data with these organisations, outside the programs above:",
        recipients=[_recipient_entry(p) for p in register.recipients()],
        rights=(
            "You can ask us what data we and these organisations hold about your child, have anything wrong "
            "corrected, and ask for your child's data to be erased (deleted). To ask, contact the school office."
        ),
    )


def privacy_notice(register: Register) -> str:
    """The privacy notice's sections as Markdown, to paste into the school's notice."""
    content = notice_content(register)
    out = [f"## {PROGRAMS}", "", content.programs_intro, ""]
    for entry in content.programs:
        out += [f"### {entry.name}", "", *(f"- {label}: {text}" for label, text in entry.items), ""]
    out += [f"## {SHARING}", "", content.sharing_intro, ""]
    for entry in content.recipients:
        out += [f"### {entry.name}", "", *(f"- {label}: {text}" for label, text in entry.items), ""]
    out += [f"## {RIGHTS}", "", content.rights, "", content.closing, ""]
    return "\n".join(out)
