"""The letter to a parent confirming an erasure (``provisioner pupil erase ... --letter``): for
each platform that held the child, what was done, in plain words, from the ledger as the erasure
left it (``jobs.requests.erasure_outcomes``).

An erasure is not finished everywhere on the day it is asked: an account on a platform the
school's administrator manages by hand waits on a deletion list; Times Tables Rock Stars' Leavers
group keeps an account for months; a platform that copies pupils from the MIS itself goes on
copying until the school stops it. The letter says which, and never calls a deletion done before
the ledger does, so it stays true when the parent reads it. It is titled with the child's name,
class and id like the access answer, and shares its words (access.py).
"""

from __future__ import annotations

from provisioner.reports.access import PROOF_WORDS, first_name, long_iso, platform_name, possessive, who
from provisioner.reports.content import Cell
from provisioner.reports.pdf import PAIR_WIDTHS, Document, make_pdf

# The outcomes ``jobs.requests.erasure_outcomes`` records (jobs/ is above reports/, so by value).
DELETED = "deleted"
ON_DELETION_LIST = "deletion_list"
HELD_BY_PLATFORM = "held_by_platform"
COPIED_FROM_MIS = "copied_from_mis"


def outcome_words(outcome: dict, child: str) -> str:
    """What the erasure did on one platform, for the parent."""
    platform, supplier = platform_name(outcome), outcome.get("supplier") or platform_name(outcome)
    kind = outcome.get("outcome")
    if kind == DELETED:
        day = long_iso(outcome.get("on"))
        if outcome.get("checked"):
            return f"Deleted on {day}. We checked with {platform} afterwards that the account is gone."
        proof = PROOF_WORDS.get(outcome.get("proof") or "", "").format(day=long_iso(outcome.get("proved_on")))
        return " ".join(x for x in (f"Deleted on {day}.", proof) if x)
    if kind == HELD_BY_PLATFORM:
        return (f"Removed from use. {outcome.get('where') or platform} keeps the account until "
                f"{long_iso(outcome.get('until'))} and then deletes it for good; until then nobody can sign in "
                "to it.")  # fmt: skip
    if kind == COPIED_FROM_MIS:
        return (f"{platform} copies pupils' details from our records system itself, through "
                f"{outcome.get('copied_by') or 'its own connection'}. We are stopping it copying {possessive(child)} "
                f"details, and asking {supplier} to delete {possessive(child)} account and data.")  # fmt: skip
    if kind == ON_DELETION_LIST:
        return (f"Listed for deletion: our administrator deletes the account on {platform} and records doing so. "
                f"Until then {platform} still holds it.")  # fmt: skip
    return str(kind or "")


def erasure_letter_pdf_bytes(result: dict) -> bytes:
    """An A4 PDF for the parent, from ``ErasureResult.as_dict()``: the child, the day, and per
    platform what the erasure did; then what our own records keep. It names the child: the
    caller writes it owner-only."""
    school = str(result.get("school", ""))
    title = f"Erasing the data of {who(result)}"
    child = first_name(result) or "your child"
    outcomes = result.get("outcomes") or []

    def draw(pdf: Document) -> None:
        pdf.add_page()
        pdf.write_line(title, 15, bold=True)
        pdf.write_line(f"{school} \u00b7 {long_iso(result.get('on'))}", 10, gap=1)
        named = result.get("name") or "Your child"
        if outcomes:
            pdf.write_line(f"{named}: you asked us to erase {possessive(child)} data from the learning platforms "
                           f"where {child} has accounts through our school. This is what we have done on each "
                           "one.", 9, gap=2)  # fmt: skip
            rows = [[Cell(platform_name(o)), Cell(outcome_words(o, child))] for o in outcomes]
            pdf.grid(("Platform", "What we have done"), rows, PAIR_WIDTHS, 8.5)
            pdf.ln(2)
        else:
            pdf.write_line(f"{named}: you asked us to erase {possessive(child)} data. None of our learning "
                           f"platforms held an account for {child}.", 9, gap=2)  # fmt: skip
        pdf.write_line("Our own records", 11.5, bold=True, gap=1)
        if result.get("purged"):
            kept = f"Every account is gone, so our account records no longer hold {possessive(child)} name or details."
        else:
            kept = (f"Once every account above is gone, we remove {possessive(child)} name and details from our "
                    "account records.")  # fmt: skip
        pdf.write_line(f"{kept} We keep only a coded note, with no name, that an erasure was asked for, so that no "
                       f"platform account is made for {child} again unless you tell us you agree to one.", 9, gap=1)
        pdf.write_line(f"This letter covers the learning platforms only, not {possessive(child)} record in our school "
                       "records system (the MIS), which schools are required to keep; please ask the school office "
                       "about that record.", 9, gap=1)  # fmt: skip

    return make_pdf(title, f"{title} \u00b7 {school} \u00b7 PRIVATE: holds a pupil's personal data", draw)
