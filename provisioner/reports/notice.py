"""The privacy notice's sections on the programs pupils use and who pupil data is shared with, in
plain words for parents, from the processor register. A gap in the register is never written
as a fact (content.honest).
"""

from __future__ import annotations

from collections.abc import Iterable

from provisioner.fields import short_label
from provisioner.register import Processor, Register
from provisioner.reports.content import honest, long_date, policy

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
    "password": "a first password (the school does not keep it)",
}


def _plain_list(names: Iterable[str]) -> str:
    words = [PLAIN.get(n, short_label(n).lower()) for n in names]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def _notice_retention(processor: Processor) -> str:
    """How long: the school's leaver policy for the platform, then what the supplier keeps."""
    lines = []
    if processor.connector is not None and not processor.connector.delivery.makes_accounts:
        lines.append(f"{processor.name} takes your child's details from the school's records system itself, and "
                     "ends your child's access when they leave.")  # fmt: skip
    elif processor.connector is not None:
        disable_days, delete_days = policy(processor.connector)
        deleted = ("on the day your child leaves the school" if delete_days == 0
                   else f"within {_days(delete_days)} of your child leaving the school")  # fmt: skip
        if disable_days is None:
            lines.append(f"The school deletes your child's account {deleted}.")
        else:
            switched = (
                "on the day they leave" if disable_days == 0 else f"{_days(disable_days)} after they leave"
            )
            lines.append(f"The school switches your child's account off {switched} and deletes it {deleted}.")
    lines.append(honest(processor.fact("retention"), processor.name))
    lines.append(f"After an account is deleted: {honest(processor.fact('erasure'), processor.name)}")
    return " ".join(lines)


def _platform_notice(processor: Processor) -> list[str]:
    name = processor.name
    data = _plain_list(processor.fields) or "nothing from your child's school record"
    out = [f"### {name}", "", f"- What it holds from your child's school record: {data}."]
    stale = [
        n for n in (processor.evidence.fields_held if processor.evidence else []) if n not in processor.fields
    ]
    if stale:
        out.append(f"- It may still hold your child's {_plain_list(stale)}, sent before the school stopped sending "
                   "it; this goes as accounts are updated or deleted.")  # fmt: skip
    if processor.entry.other_data.strip():
        out.append(f"- Also: {honest(processor.entry.other_data, name)}")
    out += [
        f"- Why: {honest(processor.fact('purpose'), name)}",
        f"- Its own uses of the data: {honest(processor.fact('own_uses'), name)}",
        f"- Where it is held: {honest(processor.fact('hosting'), name)}",
        f"- How long: {_notice_retention(processor)}",
    ]
    if not processor.enabled:
        out.append(f"- The school has stopped adding pupils to {name}; it still holds accounts made earlier.")
    return [*out, ""]


def _recipient_notice(processor: Processor) -> list[str]:
    name = "them"  # "we are confirming this with them": a recipient's name may not read well mid-sentence
    parts = []
    if processor.fields:
        parts.append(f"your child's {_plain_list(processor.fields)}.")
    if processor.entry.other_data.strip():
        parts.append(honest(processor.entry.other_data, name))
    data = " ".join(parts) or honest("", name)
    why = honest(processor.fact("purpose"), name)
    return [f"### {processor.name}", "", f"- What we share: {data}", f"- Why: {why}", ""]


def privacy_notice(register: Register) -> str:
    """The privacy notice's sections "Programs used by pupils" and "Who we share pupil data with",
    in plain words for parents. A gap in the register is never written as a fact: the notice says
    it is being confirmed instead."""
    school = register.school
    out = [
        "## Programs used by pupils",
        "",
        (
            f"Pupils at {school} use the online programs below in their learning. The school's appointed admin "
            "makes and manages each pupil's account (or, for a program that reads the school's records system "
            "itself, chooses what it may read), and sends each program as little of your child's data as it "
            "needs to work. Each account is deleted after your child leaves the school, as set out below."
        ),
        "",
    ]
    for processor in register.platforms():
        out += _platform_notice(processor)
    out += [
        "## Who we share pupil data with",
        "",
        "The school also shares pupil data with these organisations, outside the programs above:",
        "",
    ]
    for processor in register.recipients():
        out += _recipient_notice(processor)
    out += [
        "## Your rights",
        "",
        (
            "You can ask the school what data it and these organisations hold about your child, have anything "
            "wrong corrected, and ask for your child's data to be erased (deleted). To ask, contact the school "
            "office."
        ),
        "",
        f"(Taken from the school's processor register as of {long_date(register.today)}.)",
        "",
    ]
    return "\n".join(out)
