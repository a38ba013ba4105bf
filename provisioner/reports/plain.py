"""A register entry's text made fit for parents and governors: the facts it states, without the
research notes it carries for the data protection officer, and what is not known yet turned
into a question the school is asking.

A register entry is written for whoever keeps the register: it says where a fact came from
("(FAQ dated October 2018)"), how sure it is ("inferred", "unverified"), what is still to be
found ("not found; ask IXL") and how the tool is set up ("leavers_group = true under
[platforms.tt-rockstars]"). The privacy notice and the DPIA draft are read by parents, governors
and the headteacher, so they take from an entry only what it states as fact (``stated``), and
say what is not known as a question put to the supplier ("We are asking Maths Circle where
pupils' data is stored."), never as a fact and never as a research note. The entries are left
as they are: they are the register's record of what was found and how.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from provisioner.register import Processor, gap_kind
from provisioner.register.gaps import QUESTIONS as LETTER_QUESTIONS
from provisioner.register.gaps import supplier_name
from provisioner.reports.content import SENTENCE_END

# Words that make a sentence a note on what is not known yet: the supplier is asked.
UNSURE = re.compile(r"not found|not known|\binferred\b|unverified|\bprobably\b|\bask\b|cut off", re.IGNORECASE)
# Words that make a sentence the school's own to settle.
SCHOOL_DECIDES = re.compile(r"school to record|the dpo confirms|confirm it in the contract", re.IGNORECASE)
# Words that make a sentence a note about the register or the tool's settings, not about the
# processing: left out, with no question in its place.
REGISTER_NOTE = re.compile(
    r"secondary|the reference|this tool|\[platforms\.|\w = \w|\bsources?\b|\bFAQ\b|help\.\w|listed because|"
    r"named in the school's",
    re.IGNORECASE,
)
# A remark in brackets naming where a fact came from, or how sure it is: left out, the sentence
# kept ("(US privacy page)", "(IRMS toolkit; unverified wording)", "(so a sub-processor: inferred)").
CITED = re.compile(
    r"https?://|\bpage\b|\bFAQ\b|toolkit|\bdated\b|secondary|\bguide\b|privacy (?:policy|notice)|unverified|"
    r"inferred|not found|the reference",
    re.IGNORECASE,
)
# A remark in brackets that is nothing but a doubt about the whole sentence: the sentence goes.
DOUBT_ONLY = re.compile(r"\((?:inferred|unverified|not found|probably)[^()]*\)", re.IGNORECASE)
BRACKETED = re.compile(r"\s*\(([^()]*)\)")
COMPANY_SUFFIX = re.compile(r",?\s+(?:Ltd|Limited|Inc|plc|LLC)\.?$", re.IGNORECASE)


@dataclass(frozen=True)
class Stated:
    """What a register text states as fact, and what it leaves open."""

    text: str  # the sentences that are facts, in plain words ("" if none)
    asks_supplier: bool  # something in it is not known yet: a question for the supplier
    school_decides: bool  # something in it is the school's to record or decide


def _without_citations(sentence: str) -> tuple[str, bool]:
    """The sentence without its citations, and whether one of them said something is not known
    ("Maths Circle Ltd (company number and address: not found)")."""
    unsure = False

    def keep(match: re.Match) -> str:
        nonlocal unsure
        if not CITED.search(match.group(1)):
            return match.group(0)
        unsure = unsure or bool(UNSURE.search(match.group(1)))
        return ""

    return BRACKETED.sub(keep, sentence).strip(), unsure


def stated(text: str) -> Stated:
    """The sentences of a register text that state a fact, each without its citations; an aside
    in brackets (a whole sentence) is a note for the register's reader and goes too."""
    sentences = [s.strip() for s in SENTENCE_END.split(" ".join(text.split())) if s.strip()]
    kept: list[str] = []
    asks = school = False
    for sentence in sentences:
        if sentence.startswith("(") and sentence.endswith(")"):
            continue
        if DOUBT_ONLY.search(sentence):
            asks = True
            continue
        sentence, unsure = _without_citations(sentence)
        asks = asks or unsure
        if gap_kind(sentence) == "supplier":  # "Question for Maths Circle: where are pupils' data stored?"
            asks = True
            continue
        if SCHOOL_DECIDES.search(sentence) or gap_kind(sentence) == "school":
            school = True
            if UNSURE.search(sentence.lower().replace("school to record", "")):
                asks = True
            continue
        if UNSURE.search(sentence):
            asks = True
            continue
        if REGISTER_NOTE.search(sentence):
            continue
        kept.append(sentence)
    return Stated(" ".join(kept), asks, school)


def supplier(processor: Processor) -> str:
    """The company behind a platform, as a parent would name it ("Maths Circle" for Times Tables
    Rock Stars): the register's one answer (``register.gaps.supplier_name``)."""
    return supplier_name(processor)


# What the school says it is asking the supplier when a fact is not known, by the register item
# it is about ("We are asking Maths Circle where pupils' data is stored."); the questions
# themselves, as a letter puts them, are the register's (``register.gaps.QUESTIONS``).
ASKING: dict[str, str] = {
    "entity": "for its full company name and registered address",
    "contact": "who its data protection officer is",
    "role": "to confirm that it acts only on our instructions",
    "purpose": "what it uses pupils' data for",
    "hosting": "where pupils' data is stored",
    "transfers": "whether pupils' data leaves the UK, and how it is protected if it does",
    "sub_processors": "which other companies handle pupils' data for it",
    "contract": "for its data processing agreement",
    "retention": "how long it keeps pupils' data after an account is deleted",
    "security": "how it keeps pupils' data secure",
    "other_data": "what else it holds about pupils",
    "own_uses": "whether it uses pupils' data for any purpose of its own",
    "erasure": "how long a deleted account's data is kept before it is erased for good",
}


def asked(processor: Processor, key: str) -> str:
    """What the school says it is asking the supplier about one register item:
    "We are asking Maths Circle where pupils' data is stored." (true from the day the school
    sends its questions: ``register export --format questions`` writes them)."""
    return f"We are asking {supplier(processor)} {ASKING[key]}."


def questions(processor: Processor) -> list[str]:
    """The questions to send the supplier: one for each register item its entry does not know
    (or leaves empty)."""
    return [LETTER_QUESTIONS[key] for key in ASKING if open_question(processor, key)]


def open_question(processor: Processor, key: str) -> bool:
    """Whether the supplier is still to answer one register item: the entry says it is not known,
    or leaves a supplier's fact empty (the purpose and anything else held are the school's)."""
    found = stated(processor.fact(key))
    empty = not (found.text or found.school_decides) and key in ASKING and key not in ("purpose", "other_data")
    return found.asks_supplier or empty


def kept_after_deletion(processor: Processor, today: date) -> str:
    """How long the supplier keeps an account the school deleted, where the school's settings say
    it does (Times Tables Rock Stars' Leavers group): "about 6 months", or "" (gone at once)."""
    until = processor.connector.held_after_deletion(today) if processor.connector is not None else None
    if until is None:
        return ""
    days = (until - today).days
    if days >= 56:
        return f"about {round(days / 30.44)} months"
    return "1 day" if days == 1 else f"{days} days"
