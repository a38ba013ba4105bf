"""The documents a parent receives about their child: the answer to an access request (`pupil
show --pdf`) and the letter confirming an erasure (`pupil erase --letter`). Each is read back
from the PDF written, as the parent would read it: it opens with the child, speaks as the
school, names what each platform holds beyond what the school sent and who the school asks for
it, and says per platform what an erasure did."""

from __future__ import annotations

import json
import os
import re
import sqlite3

import pytest
from pypdf import PdfReader

from conftest import TODAY, Cli, key_of, set_platform
from m365_helpers import configure
from provisioner.facade import Provisioner
from provisioner.jobs.create import init_workspace
from provisioner.synthetic import synthetic_pupils, write_roster_csv

PLATFORMS = ["purple-mash", "tt-rockstars", "lgfl", "microsoft-365"]
# Words of the register's research notes, which a parent is never shown.
RESEARCH_TERMS = ("inferred", "unverified", "not found", "source")


@pytest.fixture
def school(tmp_path, graph):
    """Twelve pupils on Purple Mash and Times Tables Rock Stars (import files), LGfL on
    USO-AutoUpdate (it copies pupils from the MIS) and Microsoft 365 (the Graph stand-in); the
    Leavers group on for Times Tables Rock Stars. Returns the workspace, the command line and a
    pupil every platform serves."""
    workspace = init_workspace(tmp_path / "ws", "Access Primary", "access.sch.uk", PLATFORMS, "A. Admin")
    configure(workspace, graph)
    set_platform(workspace, "tt-rockstars", leavers_group="true")
    rows = synthetic_pupils(12, seed=11, today=TODAY)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    cli = Cli(workspace)
    applied = cli("apply", str(roster), "--yes", "--as-of", TODAY.isoformat())
    assert applied.exit_code == 0, applied.output
    for platform in ("purple-mash", "tt-rockstars"):
        assert cli("confirm", platform, "uploaded").exit_code == 0
    child = next(r for r in rows if r["year_group"] in "123456")  # Times Tables Rock Stars serves Years 1 to 6
    return workspace, cli, child


def text_of(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def flat(text: str) -> str:
    """The text with its line breaks as spaces, as a sentence reads across wrapped lines."""
    return " ".join(text.split())


def access_pdf(cli: Cli, child: dict, path) -> str:
    result = cli("pupil", "show", child["mis_id"], "--pdf", str(path), "--as-of", TODAY.isoformat())
    assert result.exit_code == 0, result.output
    return text_of(path)


def named(child: dict) -> str:
    return f"{child['preferred_forename']} {child['preferred_surname']}"


def title_of(child: dict) -> str:
    return f"{named(child)} (Class {child['class_name']}, MIS id {child['mis_id']})"


def test_the_access_answer_opens_with_the_child_and_speaks_as_the_school(school, tmp_path):
    _, cli, child = school
    text = access_pdf(cli, child, tmp_path / "answer.pdf")
    lines = [line for line in text.splitlines() if line.strip()]
    assert flat(" ".join(lines[:2])).startswith(f"What we hold about {title_of(child)}")
    opening = flat(text).split("Access Primary · ", 1)[1]
    assert opening.split(" ", 3)[3].startswith(f"{named(child)} has accounts on these learning platforms through our school")
    lowered = flat(text).lower()
    assert "this tool" not in lowered
    for term in RESEARCH_TERMS:
        assert term not in lowered, term
    assert "we never keep passwords" in lowered


def test_each_platform_says_what_else_it_holds_and_who_we_ask_for_it(school, tmp_path):
    workspace, cli, child = school
    # The school has recorded what Times Tables Rock Stars holds beyond what it sends.
    (workspace.root / "registers").mkdir(exist_ok=True)
    (workspace.root / "registers" / "tt-rockstars.toml").write_text(
        'other_data = "Also: game scores, times-table speed and activity. Question for Maths Circle: what else?"\n',
        encoding="utf-8",
    )
    text = flat(access_pdf(cli, child, tmp_path / "answer.pdf"))
    first = child["preferred_forename"]
    assert (f"Beyond what we sent, Maths Circle also holds: game scores, times-table speed and activity. We are "
            f"asking Maths Circle for a copy of everything it holds about {first}, and will send it to you.") in text
    for platform, supplier in (("Purple Mash", "2Simple"), ("LGfL", "LGfL"), ("Microsoft 365", "Microsoft")):
        assert (f"{platform} may also hold what {first} does there, such as work, scores, activity and any messages. "
                f"We are asking {supplier} what it holds, and for a copy, and will send it to you.") in text
    assert "Question for" not in text, "the register's question is asked, not printed"

    shown = cli("pupil", "show", child["mis_id"], "--as-of", TODAY.isoformat())
    assert "ask 2Simple, LGfL, Maths Circle, Microsoft for a copy" in flat(shown.output), "the admin is told to ask"


def test_lgfl_on_autoupdate_shows_the_fields_it_copies_never_blank_values(school, tmp_path):
    _, cli, child = school
    text = access_pdf(cli, child, tmp_path / "answer.pdf")
    assert (f"LGfL holds {child['preferred_forename']}'s forename, surname and date of birth, copied from our "
            "records system by LGfL USO-AutoUpdate.") in flat(text)
    assert "Copied from our records system" in flat(text) and "Forename, Surname, Date of birth" in text
    assert not re.search(r":\s*;", text) and "Forename: ;" not in text, "no blank value printed as a value"


def test_an_account_recorded_before_names_were_kept_is_named_by_the_values_last_sent(school, tmp_path):
    workspace, cli, child = school
    with sqlite3.connect(workspace.state_path) as db:  # as a state from before the pupils table was filled
        db.execute("DELETE FROM pupils WHERE pupil_key = ?", (key_of(child),))
    text = access_pdf(cli, child, tmp_path / "answer.pdf")
    bare_id = key_of(child).removeprefix("mis:")
    assert flat(text).startswith(f"What we hold about {named(child)} (Class {child['class_name']}, MIS id {bare_id})")


def test_a_deleted_account_says_how_the_deletion_is_known(school, tmp_path):
    workspace, cli, child = school
    erased = json.loads(cli("pupil", "erase", child["mis_id"], "--yes", "--json", "--as-of", TODAY.isoformat()).stdout)
    for deletion in erased["deletion_lists"]:
        if deletion["platform"] in ("purple-mash", "lgfl"):
            Provisioner(workspace).confirm_deleted(deletion["platform"], deletion["batch"], today=TODAY)

    text = flat(access_pdf(cli, child, tmp_path / "answer.pdf"))
    deleted = text.split("Accounts deleted", 1)[1]
    # The day it was recorded (the computer's clock, not --as-of), then how it is known.
    assert re.search(r"Deleted on \d{1,2} \w+ \d{4}\. Our administrator deleted it on the platform and recorded "
                     r"doing so\.", deleted)
    assert f"LGfL held {child['preferred_forename']}'s forename, surname and date of birth, copied" in deleted
    assert f"You have asked us to erase {child['preferred_forename']}'s data" in text


def test_the_erasure_letter_says_per_platform_what_was_done(school, tmp_path):
    _, cli, child = school
    letter = tmp_path / "letter.pdf"
    result = cli("pupil", "erase", child["mis_id"], "--yes", "--letter", str(letter), "--as-of", TODAY.isoformat())
    assert result.exit_code == 0, result.output
    assert "the letter for the parent" in result.output
    if os.name == "posix":
        assert letter.stat().st_mode & 0o077 == 0, "it names the child: owner-only"
    text = flat(text_of(letter))
    first = child["preferred_forename"]
    assert text.startswith(f"Erasing the data of {title_of(child)}")
    assert re.search(r"Deleted on \d{1,2} \w+ \d{4}\. We checked with Microsoft 365 afterwards that the account is "
                     r"gone\.", text)
    assert ("Listed for deletion: our administrator deletes the account on Purple Mash and records doing so. Until "
            "then Purple Mash still holds it.") in text
    assert ("Listed for deletion: our administrator deletes the account on Times Tables Rock Stars and records "
            "doing so.") in text, "an erasure asks for Delete immediately, not the Leavers group"
    assert "Leavers group" not in text
    assert (f"LGfL copies pupils' details from our records system itself, through LGfL USO-AutoUpdate. We are "
            f"stopping it copying {first}'s details, and asking LGfL to delete {first}'s account and data.") in text
    assert f"so that no platform account is made for {first} again" in text
    lowered = text.lower()
    assert "this tool" not in lowered and not any(term in lowered for term in RESEARCH_TERMS)


def test_the_erasure_outcomes_are_in_the_json_answer(school):
    _, cli, child = school
    result = json.loads(cli("pupil", "erase", child["mis_id"], "--yes", "--json", "--as-of", TODAY.isoformat()).stdout)
    outcomes = {o["platform"]: o["outcome"] for o in result["outcomes"]}
    assert outcomes == {"microsoft-365": "deleted", "purple-mash": "deletion_list", "tt-rockstars": "deletion_list",
                        "lgfl": "copied_from_mis"}  # fmt: skip
    assert result["name"] == named(child) and result["on"] == TODAY.isoformat()


def test_an_erasure_letter_for_an_unknown_pupil_is_a_clear_error_with_no_file(school, tmp_path):
    _, cli, _ = school
    letter = tmp_path / "letter.pdf"
    result = cli("pupil", "erase", "NOBODY", "--yes", "--letter", str(letter), "--json")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "no record of pupil NOBODY" in json.loads(result.stdout)["error"]["message"]
    assert not letter.exists()


def test_the_erasure_run_again_writes_the_letter_saying_what_is_done_then_forgets_the_child(school, tmp_path):
    workspace, cli, child = school
    first = json.loads(cli("pupil", "erase", child["mis_id"], "--yes", "--json", "--as-of", TODAY.isoformat()).stdout)
    for deletion in first["deletion_lists"]:
        if deletion["platform"] != "lgfl":  # LGfL's is still to be done
            Provisioner(workspace).confirm_deleted(deletion["platform"], deletion["batch"], today=TODAY)

    letter = tmp_path / "letter.pdf"
    again = cli("pupil", "erase", child["mis_id"], "--yes", "--letter", str(letter), "--as-of", TODAY.isoformat())
    assert again.exit_code == 0, again.output
    assert "LGfL (USO): already on a deletion list, waiting for you to confirm it" in again.output
    text = flat(text_of(letter))
    for platform in ("Purple Mash", "Times Tables Rock Stars"):  # deleted since the first run
        assert re.search(platform + r" Deleted on \d{1,2} \w+ \d{4}\. Our administrator deleted it on the platform "
                         r"and recorded doing so\.", text), platform
    assert "Microsoft 365 Deleted on" in text, "the account deleted by the first run is in the letter too"
    assert "LGfL copies pupils' details from our records system itself" in text

    [lgfl] = [d for d in first["deletion_lists"] if d["platform"] == "lgfl"]
    Provisioner(workspace).confirm_deleted("lgfl", lgfl["batch"], today=TODAY)
    last = cli("pupil", "erase", child["mis_id"], "--yes", "--letter", str(letter), "--as-of", TODAY.isoformat())
    assert last.exit_code == 0 and "this tool has forgotten them" in last.output, last.output
    text = flat(text_of(letter))
    assert text.count("Deleted on") == len(PLATFORMS), "every platform, each deleted"
    assert f"Every account is gone, so our account records no longer hold {child['preferred_forename']}'s name" in text
