"""The register's open questions: each fact an entry asks a supplier for ("Question for 2Simple:
...?") or leaves the school to record ("To record: ..."), one by one, with the key that fills it
(``register set``) and, for a supplier, the question to ask them. Who the supplier is, as a
letter or a parent names it, is decided here too (``supplier_name``), so every document agrees.

An item can hold both: "Question for 2Simple: may we have its data processing agreement? To
record: the signed contract's date and link." is a question for 2Simple and a fact for the
school, so each sentence is read on its own (``gap_kind`` says which; it also reads the older
markers "not found" and "school to record" of a school's own entries).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from provisioner.register.entries import GAP_SENTENCE_END, ITEMS, QUESTION, gap_kind
from provisioner.register.model import Processor, Register

SUPPLIER = "supplier"  # ask the supplier (or the body the data goes to)
SCHOOL = "school"  # the school records it

# What to ask a supplier for each item, in the words a letter uses (the school is "we").
QUESTIONS: dict[str, str] = {
    "entity": "What is your company's full legal name, company number and registered address?",
    "contact": "Who should we contact about pupils' data, and who is your data protection officer?",
    "role": ("Do you process our pupils' data only on our instructions (as our processor), or do you decide "
             "how any of it is used (as a controller)?"),  # fmt: skip
    "purpose": "What do you use our pupils' data for?",
    "lawful_basis": "On which lawful basis do you process our pupils' data?",
    "data_subjects": "Whose personal data do you hold through our school's account: pupils only, or staff and "
                     "parents too?",  # fmt: skip
    "other_data": ("What data about our pupils do you hold besides what we send you (for example their work, "
                   "scores or activity)?"),  # fmt: skip
    "special_category": "Do you hold any special-category data about our pupils, such as health or ethnicity?",
    "article_9_condition": "Under which condition of UK GDPR Article 9 do you process special-category data about "
                           "our pupils?",  # fmt: skip
    "hosting": "Where are pupils' data stored?",
    "transfers": ("Is any of our pupils' data transferred outside the UK? If so, to which countries, and under "
                  "which safeguard (for example UK adequacy regulations or the International Data Transfer "
                  "Agreement)?"),  # fmt: skip
    "sub_processors": "Which other companies (sub-processors) handle our pupils' data for you, what does each do, "
                      "and where?",  # fmt: skip
    "contract": "Could you send us your data processing agreement, or tell us where to find it?",
    "dpia": "Do you have a data protection impact assessment, or information for schools writing theirs, that "
            "you could share with us?",  # fmt: skip
    "retention": ("How long do you keep our pupils' data, and how soon after we delete an account is it removed "
                  "from your systems and backups?"),  # fmt: skip
    "security": ("How do you protect our pupils' data (for example encryption, who on your staff can see it, and "
                 "certifications such as Cyber Essentials or ISO 27001)?"),  # fmt: skip
    "own_uses": ("Do you use our pupils' data for any purpose of your own (for example product improvement, "
                 "analytics, research or training AI), and if so which?"),  # fmt: skip
    "erasure": ("Once we delete a pupil's account, when is their data erased for good, including from "
                "backups?"),  # fmt: skip
}

# Where an entry's legal entity text stops naming the company: "2Simple, which makes Purple Mash",
# "Maths Circle Ltd. Question for...", "IXL Learning, Inc., a United States company".
_COMPANY_END = re.compile(r"\s*[(:;]|\.\s|\.$|,\s+(?:which|an?)\b")
_COMPANY_SUFFIX = re.compile(r",?\s+(?:Ltd|Limited|Inc|plc|LLC)\.?$", re.IGNORECASE)


@dataclass(frozen=True)
class Gap:
    """One open question of one register entry."""

    processor: str  # the entry's id
    name: str
    supplier: str  # who to ask: a platform's company ('2Simple'), else the processor's name
    key: str  # the entry's key that answers it: 'provisioner register set PROCESSOR KEY VALUE'
    heading: str  # the item as the register shows it
    who: str  # SUPPLIER (ask them) or SCHOOL (the school records it)
    missing: str  # the entry's own words for what is missing
    question: str = ""  # what to ask the supplier (a supplier's gap only)

    def as_dict(self) -> dict:
        return asdict(self)


def entry_key(item: str) -> str:
    """The entry's key behind an item of the register: the data held beyond the connector's
    fields is ``other_data``; every other item is its own key."""
    return "other_data" if item == "fields" else item


def supplier_name(processor: Processor) -> str:
    """Who to ask, as a parent or a letter names them: a platform's company from the start of its
    entry's legal entity, without "Ltd" ("Maths Circle", "2Simple", "IXL Learning"); else the
    processor's own name ("Local authority")."""
    entity = " ".join(processor.entry.entity.split())
    name = _COMPANY_END.split(entity, maxsplit=1)[0].strip()
    name = _COMPANY_SUFFIX.sub("", name).strip(" ,.")
    if processor.entry.kind != "platform" or not name or gap_kind(name) or name.lower().startswith(("the ", "our ")):
        return processor.name
    return name


def gaps_of(processor: Processor) -> list[Gap]:
    """The open questions of one processor, in the register's order: the supplier's first within an item."""
    found = []
    supplier = supplier_name(processor)
    for item, heading in ITEMS:
        if item == "review":  # the approval's, not a fact to find
            continue
        key = entry_key(item)
        text = processor.entry.other_data if item == "fields" else processor.fact(item)
        for who, sentences in missing_by_who(text).items():
            question = _question(key, sentences) if who == SUPPLIER else ""
            found.append(Gap(processor.id, processor.name, supplier, key, heading, who, " ".join(sentences), question))
    return found


def open_gaps(register: Register) -> list[Gap]:
    """Every open question of the register, processor by processor."""
    return [gap for processor in register.processors for gap in gaps_of(processor)]


def missing_by_who(text: str) -> dict[str, list[str]]:
    """The sentences of an item that say something is missing, by who answers them."""
    by_who: dict[str, list[str]] = {}
    for sentence in GAP_SENTENCE_END.split(text.strip()):
        kind = gap_kind(sentence)
        if kind:
            by_who.setdefault(SUPPLIER if kind == "supplier" else SCHOOL, []).append(sentence)
    return {who: by_who[who] for who in (SUPPLIER, SCHOOL) if who in by_who}


def _question(key: str, sentences: list[str]) -> str:
    """What to ask: the entry's own question ("Question for 2Simple: what are its registered
    company number and address?"), put to the supplier, else the usual one for the item."""
    for sentence in sentences:
        asked = QUESTION.split(sentence, maxsplit=1)
        if len(asked) == 2 and asked[1].strip().endswith("?"):
            own = asked[1].strip()
            return own[0].upper() + own[1:].replace(" its ", " your ").replace(" it ", " you ")
    return QUESTIONS.get(key, "")
