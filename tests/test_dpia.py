"""The documents the DPO, the headteacher and parents read, from a real demo workspace after a
real apply: the DPIA draft for one platform (PDF and Word) on the ICO's seven steps, with what
the tool knows filled in and the school's judgements marked; the privacy notice's section as a
Word document; and no research note of the register's reaching either."""

from __future__ import annotations

import io
import json
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import pytest
from docx import Document
from pypdf import PdfReader
from typer.testing import CliRunner

from conftest import TODAY, set_platform, yes
from provisioner.cli import app
from provisioner.facade import Provisioner
from provisioner.fields import short_label
from provisioner.files import is_private
from provisioner.register import Processor, load_entries
from provisioner.reports import dpia_draft, dpia_pdf_bytes, notice_content, privacy_notice
from provisioner.reports.plain import questions, stated, supplier

runner = CliRunner()
STEPS = (
    "Step 1: Identify the need for a DPIA",
    "Step 2: Describe the processing",
    "Step 3: Consultation",
    "Step 4: Necessity and proportionality",
    "Step 5: Identify and assess risks",
    "Step 6: Identify measures to reduce risk",
    "Step 7: Sign off and record outcomes",
)
# What reads as the register's research notes, never as a document for parents or governors.
RESEARCH_NOTES = ("not found", "school to record", "inferred", "unverified", "secondary copy", "source", "faq",
                  "this tool", "[platforms.", "leavers_group", "http", "a different company")  # fmt: skip


def flat(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def pdf_pages(path: Path) -> list[str]:
    return [flat(page.extract_text()) for page in PdfReader(io.BytesIO(path.read_bytes())).pages]


def docx_text(path: Path) -> tuple[list[tuple[str, str]], list[list[list[str]]]]:
    """(style, text) of each paragraph, and each table's cells' text."""
    doc = Document(str(path))
    paragraphs = [(p.style.name, flat(p.text)) for p in doc.paragraphs]
    tables = [[[flat(cell.text) for cell in row.cells] for row in table.rows] for table in doc.tables]
    return paragraphs, tables


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo workspace after its apply, its files uploaded: every offline platform, a few hundred
    synthetic pupils."""
    root = tmp_path_factory.mktemp("dpia")
    provisioner, roster = Provisioner.demo(root / "demo", TODAY)
    provisioner.apply(roster, confirm=yes, today=TODAY)
    for platform, info in provisioner.status(TODAY)["platforms"].items():
        if info["awaiting_upload"]:  # the admin uploaded the files: the platforms hold the pupils now
            provisioner.confirm_uploaded(platform, today=TODAY)
    with provisioner.workspace.open_state() as state:
        held = {platform: sum(1 for a in state.accounts(platform).values() if a.status.held)
                for platform in ("tt-rockstars", "bug-club", "purple-mash")}  # fmt: skip
    register = provisioner.register(TODAY)
    return SimpleNamespace(provisioner=provisioner, root=provisioner.workspace.root, register=register, held=held)


def run(demo, *args: str):
    return runner.invoke(app, [*args, "--workspace", str(demo.root), "--as-of", TODAY.isoformat()])


def ttrs(demo) -> Processor:
    return next(p for p in demo.register.processors if p.id == "tt-rockstars")


def test_the_dpia_pdf_follows_the_ico_steps_and_fills_in_what_the_tool_knows(demo, tmp_path):
    path = tmp_path / "ttrs-dpia.pdf"
    result = run(demo, "register", "dpia", "tt-rockstars", "--output", str(path), "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["path"] == str(path) and answer["steps"] == list(STEPS)
    assert answer["pupils_held"] == demo.held["tt-rockstars"] > 0
    assert is_private(path), "a DPIA draft is written owner-only, as every export"

    pages = pdf_pages(path)
    text = " ".join(pages)
    at = [text.index(step) for step in STEPS]
    assert at == sorted(at), "the seven steps, in the ICO's order"
    processor = ttrs(demo)
    for name in processor.fields:
        assert short_label(name) in text, f"the field {name} and why it is sent"
    assert "So the teacher can tell apart pupils with the same first name." in text
    assert f"Pupils with an account now {demo.held['tt-rockstars']} " in text
    assert "Which pupils Years 1 to 6" in text, "its scope: the year groups it serves"
    assert "deleted 30 days after the pupil leaves" in text, "the leaver policy"
    assert "The Unique Pupil Number is not sent." in text and "Date of birth is not sent." in text
    assert "To decide: is the use of Times Tables Rock Stars likely to result in a high risk" in text
    assert len(answer["to_decide"]) >= 5 and all(q.startswith("To decide: ") for q in answer["to_decide"])
    assert "Questions to send to Maths Circle" in text and "Where are pupils' data stored?" in text
    assert "Where are pupils' data stored?" in answer["questions_for_supplier"]
    signoff = text[text.index(STEPS[6]):]
    for box in ("Data protection officer", "Headteacher", "Name", "Role", "Date", "Signature"):
        assert box in signoff
    lowered = text.lower()
    for note in RESEARCH_NOTES:
        assert note not in lowered, f"the draft carries no research note ({note!r})"
    for number, page in enumerate(pages, 1):
        assert len(page) > 400, f"page {number} is nearly empty"


def test_the_dpia_docx_holds_the_same_steps_fields_count_and_marked_questions(demo, tmp_path):
    path = tmp_path / "ttrs-dpia.docx"
    result = run(demo, "register", "dpia", "tt-rockstars", "--format", "docx", "-o", str(path))
    assert result.exit_code == 0, result.output
    assert f"Wrote {path}" in flat(result.output) and is_private(path)
    paragraphs, tables = docx_text(path)
    headings = [text for style, text in paragraphs if style == "Heading 1"]
    assert headings == list(STEPS)
    cells = [cell for table in tables for row in table for cell in row]
    for name in ttrs(demo).fields:
        assert any(cell.startswith(short_label(name)) for cell in cells), name
    assert f"{demo.held['tt-rockstars']} (the tool's records on 22 November 2026)" in cells
    decide = [text for _, text in paragraphs if text.startswith("To decide: ")]
    assert decide and all(
        piece.bold for p in Document(str(path)).paragraphs if p.text.startswith("To decide: ") for piece in p.runs
    ), "a question for the school is marked, not just written"
    assert "Where are pupils' data stored?" in [text for _, text in paragraphs]
    signoff = tables[-1]
    assert signoff[0][1:] == ["Name", "Role", "Date", "Signature"]
    assert [row[0] for row in signoff[1:]] == ["Data protection officer", "Headteacher"]
    assert all(cell == "" for row in signoff[1:] for cell in row[1:]), "boxes left to fill in"
    everything = " ".join([text for _, text in paragraphs] + cells).lower()
    for note in RESEARCH_NOTES:
        assert note not in everything, note


@pytest.mark.parametrize("platform", ["bug-club", "purple-mash", "lgfl", "ixl", "education-city"])
def test_every_demo_platform_gets_a_dpia_naming_its_fields_and_their_reasons(demo, platform):
    content = dpia_draft(demo.register, platform)
    processor = next(p for p in demo.register.processors if p.id == platform)
    assert [step.title for step in content.steps] == list(STEPS)
    text = " ".join(flat(page.extract_text()) for page in PdfReader(io.BytesIO(dpia_pdf_bytes(content))).pages)
    for name in processor.fields:
        assert short_label(name) in text
    for name, reason in processor.entry.needs.items():
        assert stated(reason).text in text, f"why {name} is sent, from the entry's [needs]"
    if "pseudonymous_id" in processor.fields:
        assert f"matched on a code number made for {processor.name} alone" in text
    if "date_of_birth" in processor.fields:
        assert "Date of birth is not sent." not in text
    assert content.questions == questions(processor)
    assert content.supplier in text


def test_an_unknown_platform_or_a_recipient_is_a_clear_error_also_as_json(demo, tmp_path):
    target = tmp_path / "nothing.pdf"
    for args, said in ((["nope"], "'nope' is not a platform in this school's register"),
                       (["dfe"], "'dfe' is an organisation the school shares data with, not a platform"),
                       (["ixl", "--format", "odt"], "unknown DPIA format 'odt'")):  # fmt: skip
        plain = run(demo, "register", "dpia", *args, "--output", str(target))
        assert plain.exit_code == 2
        assert said in flat(plain.output) and "Traceback" not in plain.output
        if args[0] != "ixl":
            assert "tt-rockstars" in flat(plain.output), "the error names the platforms to choose from"
        answer = json.loads(run(demo, "register", "dpia", *args, "--output", str(target), "--json").stdout)
        assert said in answer["error"]["message"] and answer["error"]["exit_code"] == 2 and answer["error"]["hint"]
    assert not target.exists()


def test_the_notice_docx_names_every_enabled_platform_with_no_research_note(demo, tmp_path):
    path = tmp_path / "notice.docx"
    result = run(demo, "register", "export", "--format", "notice-docx", "--out", str(path))
    assert result.exit_code == 0, result.output
    assert is_private(path)
    paragraphs, tables = docx_text(path)
    assert [t for s, t in paragraphs if s == "Heading 1"] == [
        "Programs used by pupils", "Who we share pupil data with", "Your rights"]  # fmt: skip
    enabled = [p for p in demo.register.platforms() if p.enabled]
    assert len(enabled) == 6
    program_headings = [t for s, t in paragraphs if s == "Heading 2"]
    [table] = tables
    assert table[0] == ["Program", "Provided by", "What it holds from your child's school record"]
    for processor in enabled:
        assert processor.name in program_headings
        assert [processor.name, supplier(processor)] in [row[:2] for row in table[1:]]
    texts = [t for _, t in paragraphs]
    assert "We are asking Maths Circle where pupils' data is stored." in " ".join(texts)
    assert any(t.startswith("How long: We delete your child's account within 30 days") for t in texts)
    everything = " ".join(texts + [cell for row in table for cell in row]).lower()
    for note in RESEARCH_NOTES:
        assert note not in everything, f"a parent reads no research note ({note!r})"
    assert "the school's admin makes" not in everything and "our appointed admin" in everything


def test_the_markdown_and_word_notices_say_the_same(demo):
    content = notice_content(demo.register)
    markdown = privacy_notice(demo.register)
    for entry in content.programs + content.recipients:
        for label, text in entry.items:
            assert f"- {label}: {text}" in markdown


def test_a_leavers_group_school_is_told_how_long_maths_circle_keeps_deleted_accounts(demo):
    workspace = demo.provisioner.workspace
    before = workspace.settings_path.read_text(encoding="utf-8")
    try:
        set_platform(workspace, "tt-rockstars", leavers_group="true")
        register = Provisioner(workspace).register(TODAY)
        notice = privacy_notice(register)
        draft = " ".join(flat(page.extract_text())
                         for page in PdfReader(io.BytesIO(dpia_pdf_bytes(dpia_draft(register, "tt-rockstars")))).pages)  # fmt: skip
    finally:
        workspace.settings_path.write_text(before, encoding="utf-8")
        workspace.__dict__.pop("settings", None)
    assert "Maths Circle then keeps the deleted account for about 6 months before erasing it." in notice
    assert "Maths Circle then keeps a deleted account for about 6 months" in draft


@pytest.mark.parametrize(("text", "kept", "asks"), [
    ('Sends leavers to the Leavers group. (The 30-day rule on help.ttrsonline.com belongs to Touch-type Read and '
     'Spell, a different company.)', "Sends leavers to the Leavers group.", False),
    ("Backups are kept up to nine days (US privacy page).", "Backups are kept up to nine days.", False),
    ("Amazon Web Services hosts the data (so a sub-processor: inferred). Any others: not found; ask 2Simple.",
     "Amazon Web Services hosts the data.", True),
    ("Viva Engage data, if used, is held in the US (inferred).", "", True),
    ("Maths Circle Ltd (company number and address: not found).", "Maths Circle Ltd.", True),
    ('A school sets leavers_group = true under [platforms.tt-rockstars].', "", False),
])  # fmt: skip
def test_a_register_text_keeps_its_facts_and_leaves_its_research_notes(text, kept, asks):
    found = stated(text)
    assert found.text == kept and found.asks_supplier is asks


def test_the_supplier_is_named_as_a_parent_knows_it():
    entries = load_entries()
    names = {key: supplier(Processor(entries[key], [], True)) for key in
             ("tt-rockstars", "purple-mash", "ixl", "bug-club", "local-authority")}  # fmt: skip
    assert names == {"tt-rockstars": "Maths Circle", "purple-mash": "2Simple", "ixl": "IXL Learning",
                     "bug-club": "Pearson Education", "local-authority": "Local authority"}  # fmt: skip


def test_a_platform_the_school_adds_by_hand_gets_a_dpia_that_claims_nothing_the_tool_does_not_do(workspace):
    (workspace.root / "registers").mkdir(exist_ok=True)
    (workspace.root / "registers" / "word-garden.toml").write_text(
        'name = "Word Garden"\nentity = "Word Garden Learning Ltd"\npurpose = "Spelling practice."\n'
        'hosting = "London, UK."\nfields = ["forename", "class_name"]\ndpia = "DPIA 2026/4, agreed 2026-10-01"\n',
        encoding="utf-8",
    )
    content = dpia_draft(Provisioner(workspace).register(TODAY), "word-garden")
    text = " ".join(flat(page.extract_text()) for page in PdfReader(io.BytesIO(dpia_pdf_bytes(content))).pages)
    assert content.supplier == "Word Garden Learning" and content.pupils_held is None
    assert "The register's record of a DPIA for Word Garden: DPIA 2026/4, agreed 2026-10-01" in text
    assert "The school sends Word Garden its data by hand" in text and "Not tracked by the tool." in text
    assert "Could you send us your data processing agreement, or tell us where to find it?" in content.questions, "an empty fact is asked"
    assert "Where are pupils' data stored?" not in content.questions, "the entry says where"
    assert "matched on the MIS admission number" not in text and "deletion list" not in text
