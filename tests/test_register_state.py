"""One state per register entry, which every document reads: who makes the accounts, the fields
held, the pupils held and those whose accounts wait in a file nobody has uploaded yet. The
governors' PDF, the HTML page, the Markdown and the workbook, written from a real demo workspace,
say the same numbers and words; the register check says both its errors and the facts still to
collect; and a file written but not uploaded is never counted as held, though erasure still
treats it as possibly held.
"""

from __future__ import annotations

import html
import io
import json
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from conftest import TODAY, Cli, key_of, set_platform, yes
from provisioner.cli import app
from provisioner.facade import Provisioner
from provisioner.fields import FIELDS
from provisioner.jobs.requests import AWAITING_UPLOAD_WORDS
from provisioner.state.accounts import _FILLED_VALUE
from provisioner.reports import access_pdf_bytes, dpia_draft
from provisioner.workspace import Workspace

runner = CliRunner()
FORMATS = ("pdf", "html", "md", "xlsx")
UPLOADED = "purple-mash"  # the one platform whose file the admin confirms uploading in the demo


def flat(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def invoke(root: Path, *args: str):
    return runner.invoke(app, [*args, "--workspace", str(root), "--as-of", TODAY.isoformat()])


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    """The demo built by 'provisioner demo', Purple Mash's file confirmed uploaded and the rest
    not, and the register written in every format for governors: {format: its text or workbook}."""
    root = tmp_path_factory.mktemp("state") / "demo"
    made = runner.invoke(app, ["demo", str(root)])
    assert made.exit_code == 0, made.output
    confirmed = runner.invoke(app, ["confirm", UPLOADED, "uploaded", "--workspace", str(root)])
    assert confirmed.exit_code == 0, confirmed.output
    shown = invoke(root, "register", "show", "--json")
    assert shown.exit_code == 0, shown.output
    written = {}
    for fmt in FORMATS:
        out = root / "reports" / f"register.{fmt}"
        exported = invoke(root, "register", "export", "--format", fmt, "--out", str(out))
        assert exported.exit_code == 0, exported.output
        written[fmt] = out
    pages = [flat(page.extract_text()) for page in PdfReader(io.BytesIO(written["pdf"].read_bytes())).pages]
    page_text = html.unescape(re.sub(r"<[^>]+>", " ", written["html"].read_text(encoding="utf-8")))
    return {
        "root": root,
        "register": json.loads(shown.stdout),
        "pdf": pages,
        "html": flat(page_text),
        "md": flat(written["md"].read_text(encoding="utf-8").replace("|", " ").replace("\\", "")),
        "xlsx": load_workbook(written["xlsx"]),
    }


def platforms(demo: dict) -> dict[str, dict]:
    return {pid: p for pid, p in demo["register"]["processors"].items() if p["evidence"] is not None}


def live_evidence(text: str, processors: dict) -> dict[str, str]:
    """Each processor's "Live evidence" block, from the text of a whole document (pages in the
    register's order, each with one such block)."""
    blocks = text.split("Live evidence")[1:]
    assert len(blocks) == len(processors), "one block per processor"
    return {pid: block.split(" Approvals (latest first)")[0] for pid, block in zip(processors, blocks, strict=True)}


def test_the_demo_state_counts_each_pupil_once_as_held_or_not_yet_uploaded(demo):
    states = {pid: p["evidence"] for pid, p in platforms(demo).items()}
    uploaded = states[UPLOADED]
    assert uploaded["pupils_held"] > 0 and uploaded["awaiting_upload"] == 0
    for pid, state in states.items():
        if state["provisioning"] == "file" and pid != UPLOADED:
            assert state["pupils_held"] == 0 and state["awaiting_upload"] > 0, f"{pid}: its file is not uploaded"
            assert state["fields_held"] == [], f"{pid}: nothing is held before the upload"
        if state["pupils_held"]:
            assert state["fields_held"], f"{pid}: pupils held, so some of their data is held"
            assert set(state["fields_held"]) <= set(state["fields_declared"])
    lgfl = states["lgfl"]  # the demo's LGfL reads the MIS through AutoUpdate
    assert lgfl["provisioning"] == "mis-sync" and lgfl["sent_by"] == "LGfL USO-AutoUpdate"
    assert lgfl["made_by"].startswith("LGfL USO-AutoUpdate") and "this tool (" not in lgfl["made_by"]
    assert lgfl["pupils_held"] > 0 and lgfl["fields_held"] == lgfl["fields_declared"] != []


@pytest.mark.parametrize("fmt", ("pdf", "html", "md"))
def test_every_document_says_the_states_counts_fields_and_who_makes_the_accounts(demo, fmt):
    text = " ".join(demo[fmt]) if fmt == "pdf" else demo[fmt]
    blocks = live_evidence(text, demo["register"]["processors"])
    for pid, processor in platforms(demo).items():
        state, block = processor["evidence"], blocks[pid]
        assert f"Accounts made by {state['made_by']}" in block, (fmt, pid, block)
        assert f"Pupils held now {state['pupils_held']} " in block, (fmt, pid, block)
        assert re.search(rf"Issued, not yet uploaded {state['awaiting_upload']}\b", block), (fmt, pid, block)
        held = ", ".join(FIELDS[n].label if n in FIELDS else n for n in state["fields_held"]) or "none"
        assert f"Fields held now {held} Last provisioning run" in block, (fmt, pid, block)
        if state["sent_by"]:
            assert "this tool (" not in block, f"{pid} is fed by {state['sent_by']}, never said to be made here"


def test_the_workbook_says_the_same_as_the_pages(demo):
    full = [list(row) for row in demo["xlsx"]["Full register"].iter_rows(values_only=True)]
    header, rows = full[0], {row[0]: row for row in full[1:]}
    governors = [list(row) for row in demo["xlsx"]["Governors"].iter_rows(values_only=True)]
    by_name = {row[0]: row for row in governors[1:]}
    for pid, processor in platforms(demo).items():
        state = processor["evidence"]
        row = rows[pid]
        held = ", ".join(FIELDS[n].label if n in FIELDS else n for n in state["fields_held"]) or "none"
        assert row[header.index("Pupils held now")] == state["pupils_held"]
        assert row[header.index("Issued, not yet uploaded")] == state["awaiting_upload"]
        assert row[header.index("Fields held now")] == held
        assert row[header.index("Accounts made by")] == state["made_by"]
        children = str(by_name[processor["name"]][governors[0].index("Children")])
        assert children.split(" ")[0].rstrip(";") == str(state["pupils_held"])
        assert (f"issued, not yet uploaded: {state['awaiting_upload']}" in children) == bool(state["awaiting_upload"])


def test_the_summary_page_and_the_dpia_say_the_same_counts(demo):
    summary = demo["pdf"][0]
    for pid, processor in platforms(demo).items():
        state = processor["evidence"]
        if state["awaiting_upload"]:
            assert f"issued, not yet uploaded: {state['awaiting_upload']}" in summary, pid
    workspace = Workspace(demo["root"])
    register = Provisioner(workspace).register(TODAY)
    for pid in ("tt-rockstars", UPLOADED):
        state = platforms(demo)[pid]["evidence"]
        draft = dpia_draft(register, pid)
        assert draft.pupils_held == state["pupils_held"]
        text = " ".join(flat(cell.text) for step in draft.steps for part in step.parts for row in part.rows
                        for cell in row)  # fmt: skip
        assert f"{state['pupils_held']} (the tool's records on 22 November 2026)" in text
        assert ("more in an import file the school has not yet uploaded" in text) == bool(state["awaiting_upload"])


# --- the check: errors and facts still to collect, both said -----------------------------------


def test_the_check_says_it_has_no_errors_and_how_many_facts_are_still_to_collect(demo):
    root = demo["root"]
    gaps = json.loads(invoke(root, "register", "gaps", "--json").stdout)["gaps"]
    checked = invoke(root, "register", "check", "--json")
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.stdout)
    assert report["ok"] is True and report["errors"] == 0 and report["error_list"] == []
    assert report["facts_to_collect"] == len(report["facts_to_collect_list"]) == len(gaps) > 0
    assert report["headline"].startswith("The register has no errors. ")
    assert f"{len(gaps)} facts are still to collect" in report["headline"]
    assert "(provisioner register gaps)" in report["headline"]
    words = invoke(root, "register", "check")
    assert " ".join(words.output.split()).endswith(" ".join(report["headline"].split()))
    # Every document's first page says the same, never "passes" above its gaps.
    for text in (demo["pdf"][0], demo["html"], demo["md"]):
        assert report["headline"] in text
        assert "passes" not in text
    # The summary's gap counts add up to the same number.
    counted = sum(len(p["gaps"]) for p in demo["register"]["processors"].values())
    assert counted == len(gaps)


def test_an_error_fails_the_check_and_the_facts_to_collect_are_still_counted(tmp_path, roster_file):
    provisioner = Provisioner.demo(tmp_path / "demo", TODAY)[0]
    cli = Cli(provisioner.workspace)
    before = json.loads(cli("register", "check", "--json").stdout)
    set_platform(provisioner.workspace, "bug-club", optional_fields='["class_name"]')  # nobody approved it
    result = cli("register", "check", "--json")
    assert result.exit_code == 7
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["errors"] == len(report["error_list"]) == 1
    assert "Registration class" in report["error_list"][0]["message"]
    assert report["facts_to_collect"] == before["facts_to_collect"]
    assert report["headline"].startswith("The register has 1 error to fix (it is wrong or out of date). ")
    assert "still to collect" in report["headline"]
    said = cli("register", "check")
    assert said.exit_code == 7 and "1 error to fix" in said.output and "Traceback" not in said.output


# --- held means held ---------------------------------------------------------------------------


def test_a_file_not_yet_uploaded_is_made_but_not_held_until_its_upload_is_confirmed(workspace, roster_file, pupils):
    provisioner = Provisioner(workspace)
    result = provisioner.apply(roster_file, confirm=yes, today=TODAY)
    made = sum(b.rows for b in result.batches if b.platform == "purple-mash")
    assert made > 0

    status = provisioner.status(TODAY)["platforms"]["purple-mash"]
    assert status["issued_not_uploaded"] == made and status["accounts"] == {"issued_not_uploaded": made}
    [mash] = [p for p in provisioner.register(TODAY).processors if p.id == "purple-mash"]
    assert (mash.evidence.pupils_held, mash.evidence.awaiting_upload, mash.evidence.fields_held) == (0, made, [])

    # Planning treats them as made: nobody is created twice.
    again = provisioner.plan(roster_file, today=TODAY)
    assert again.platforms["purple-mash"].counts()["create"] == 0

    # A parent's access report says what it is.
    pupil = next(p for p in pupils if p["leaving_date"] is None)
    report = provisioner.pupil_report(pupil["mis_id"], TODAY)
    assert report["processors"]["purple-mash"]["awaiting_upload"] == AWAITING_UPLOAD_WORDS
    pdf = " ".join(flat(page.extract_text()) for page in PdfReader(io.BytesIO(access_pdf_bytes(report))).pages)
    assert "Account made; file awaiting upload by the school" in pdf
    assert "In the file, exactly as written" in pdf and "Held now, exactly as sent" not in pdf

    provisioner.confirm_uploaded("purple-mash", today=TODAY)
    status = provisioner.status(TODAY)["platforms"]["purple-mash"]
    assert status["issued_not_uploaded"] == 0 and status["accounts"] == {"active": made}
    [mash] = [p for p in provisioner.register(TODAY).processors if p.id == "purple-mash"]
    assert (mash.evidence.pupils_held, mash.evidence.awaiting_upload) == (made, 0)
    assert mash.evidence.fields_held and "awaiting_upload" not in provisioner.pupil_report(
        pupil["mis_id"], TODAY)["processors"]["purple-mash"]  # fmt: skip


def test_erasure_treats_an_account_in_a_file_not_yet_uploaded_as_possibly_held(workspace, roster_file, pupils):
    provisioner = Provisioner(workspace)
    provisioner.apply(roster_file, confirm=yes, today=TODAY)
    pupil = next(p for p in pupils if p["leaving_date"] is None)
    result = provisioner.erase_pupil(pupil["mis_id"], confirm=yes, today=TODAY)
    listed = result.as_dict()
    assert "purple-mash" in result.waiting, "the file may have been uploaded: its deletion is asked for"
    with workspace.open_state() as state:
        assert state.accounts("purple-mash")[key_of(pupil)].status == "deletion_requested"
        assert key_of(pupil) not in state.awaiting_upload("purple-mash"), "counted once: awaiting deletion"
    assert listed["waiting_for"] == ["purple-mash"]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(list(FIELDS)),
                       st.one_of(st.text(), st.just(""), st.none(), st.text(alphabet='"\\: ,{}'))))  # fmt: skip
def test_the_fields_a_register_counts_as_held_are_those_with_a_value_whatever_the_value_holds(values):
    """The register reads which fields an account holds from its recorded JSON without decoding
    every account (``State.fields_held``): a value of quotes, backslashes, colons or any other
    text must count as held, and an empty value or none as not held."""
    for separators in (None, (",", ":")):
        shape = json.loads(_FILLED_VALUE.sub('":1', json.dumps(values, separators=separators)))
        assert {k for k, v in shape.items() if v} == {k for k, v in values.items() if v}
        assert set(shape) == set(values)
