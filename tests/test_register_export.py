"""The register's exports from a real workspace after a real apply: the governors' PDF (the
summary for governors, the summary of the data each processor holds, then each processor's
record), the xlsx, HTML and Markdown, the privacy notice's sections,
and the PDF answer to a pupil access request."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from conftest import TODAY, yes
from provisioner.errors import UsageError
from provisioner.fields import FIELDS
from provisioner.files import is_private
from provisioner.facade import Provisioner
from provisioner.roster import normalise_mis_id
from provisioner.planning.cleanup import policy
from provisioner.planning.provisioning import CREATE
from provisioner.register import ITEMS, Register, build_register
from provisioner.reports import (
    FORMATS,
    SUMMARY_HEADER,
    access_pdf_bytes,
    default_name,
    privacy_notice,
    register_html,
    register_markdown,
    register_pdf_bytes,
    register_xlsx_bytes,
    write_register,
)
from provisioner.synthetic import synthetic_pupils, write_roster_xlsx
from provisioner.jobs.create import init_workspace

PLATFORMS = ("purple-mash", "tt-rockstars")
# What reads as the register's research notes, never as a privacy notice (lower case).
RESEARCH_NOTES = ("not found", "school to record", "inferred", "unverified", "secondary copy", "source", "faq",
                  "this tool", "[platforms.", "http")  # fmt: skip
FORMULA = '=HYPERLINK("http://x")'
SCRIPT = "<script>alert(1)</script>"
# A school's own override of the shipped entry: a formula, markup and a table-breaking pipe.
OVERRIDE = f'purpose = "{FORMULA.replace(chr(34), chr(92) + chr(34))}"\nhosting = "{SCRIPT} UK | EU"\n'


def flat(text: str) -> str:
    """Extracted PDF text with line breaks (where a cell wrapped) made single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def pdf_pages(data: bytes) -> list[str]:
    return [flat(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    """A workspace with two platforms after one apply of 60 pupils (two already left), its files
    confirmed uploaded, and its register."""
    root = tmp_path_factory.mktemp("export")
    workspace = init_workspace(root / "ws", "Export Primary", "export.sch.uk", list(PLATFORMS))
    (workspace.root / "registers").mkdir(exist_ok=True)
    (workspace.root / "registers" / "purple-mash.toml").write_text(OVERRIDE, encoding="utf-8")
    roster_path = root / "roster.xlsx"
    rows = synthetic_pupils(60, seed=7, today=TODAY, leavers=2)
    write_roster_xlsx(roster_path, rows)
    result = Provisioner(workspace).apply(roster_path, confirm=yes, today=TODAY)
    for platform in PLATFORMS:  # the admin uploaded the files: the platforms hold the pupils now
        Provisioner(workspace).confirm_uploaded(platform)
    state = workspace.open_state()
    try:
        register = build_register(workspace, state, TODAY)
        accounts = {platform: state.accounts(platform) for platform in PLATFORMS}
    finally:
        state.close()
    created = {platform: len(result.plan.platforms[platform].of(CREATE)) for platform in PLATFORMS}
    on_roll = [r for r in rows if not (r["leaving_date"] and r["leaving_date"] <= TODAY)]
    served = {platform: sum(workspace.connector(platform).scope.includes(r["year_group"], r["class_name"])
                            for r in on_roll) for platform in PLATFORMS}  # fmt: skip
    return SimpleNamespace(workspace=workspace, register=register, accounts=accounts, created=created, served=served)


def held_everywhere(school) -> str:
    """The first pupil with an account on every platform (Times Tables Rock Stars serves Years 1 to 6 only)."""
    return min(set.intersection(*(set(school.accounts[platform]) for platform in PLATFORMS)))


@pytest.fixture(scope="module")
def pages(school) -> list[str]:
    return pdf_pages(register_pdf_bytes(school.register))


def processor(register: Register, entry_id: str):
    return next(p for p in register.processors if p.id == entry_id)


def record_start(name: str) -> re.Pattern:
    """A processor's record opens with its name, then what it is (in the summaries no such words follow it)."""
    return re.compile(re.escape(name) + r" (?:Platform|Recipient:)")


def page_of(pages: list[str], register: Register, entry_id: str) -> str:
    """The text of a processor's record: from its name as a title to the next processor's (records
    follow each other on a page when there is room)."""
    text = " ".join(pages[2:])
    names = [p.name for p in register.processors]
    at = names.index(processor(register, entry_id).name)
    start = record_start(names[at]).search(text).start()
    following = record_start(names[at + 1]).search(text, start) if at + 1 < len(names) else None
    return text[start : following.start() if following else len(text)]


def summary_row(pages: list[str], register: Register, entry_id: str) -> str:
    names = [p.name for p in register.processors]
    at = names.index(processor(register, entry_id).name)
    row = pages[1].split(names[at] + " ", 1)[1]
    return row.split(names[at + 1] + " ", 1)[0] if at + 1 < len(names) else row.split(" Key ", 1)[0]


def test_the_workspace_has_platforms_and_recipients(school):
    ids = {p.id for p in school.register.processors}
    assert set(PLATFORMS) <= ids and "dfe" in ids
    assert school.register.recipients(), "recipients such as the DfE are part of the register"
    assert school.created == school.served, "an account for each pupil on roll that the platform serves"
    assert school.created["purple-mash"] == 58, "60 pupils, 2 already left; every year group"
    assert school.created["tt-rockstars"] < 58, "Years 1 to 6 only: no Nursery or Reception pupil"


def test_pdf_opens_with_the_summaries_then_a_record_per_processor(school, pages):
    register = school.register
    assert pages[0].startswith("Export Primary Summary for governors: processor register as of 22 November 2026")
    summary = pages[1]
    assert summary.startswith("Export Primary Processor register as of 22 November 2026")
    for heading in SUMMARY_HEADER:
        assert heading in summary
    records = " ".join(pages[2:])
    for p in register.processors:
        assert p.name in summary
        assert len(record_start(p.name).findall(records)) == 1, f"{p.name} has its own record"
    for platform in PLATFORMS:  # short labels in the category columns
        for name in processor(register, platform).fields:
            assert FIELDS[name].label.split(" (")[0] in summary
    assert "Key" in summary and "GAP:" in summary and "OVERDUE" in summary
    assert f"Page 2 of {len(pages)}" in summary


def test_pdf_names_each_processor_its_fields_and_the_pupils_it_holds(school, pages):
    register = school.register
    text = " ".join(pages)
    for name in ("Purple Mash", "Times Tables Rock Stars", "Department for Education"):
        assert name in text
    for platform in PLATFORMS:
        p = processor(register, platform)
        held = sum(1 for a in school.accounts[platform].values() if a.status == "active")
        assert held == school.created[platform] == p.evidence.pupils_held
        own = page_of(pages, register, platform)
        assert f"Pupils held now {school.created[platform]}" in own
        for name in p.fields:
            assert FIELDS[name].label in own, f"{p.name}'s page lists {name}"
        assert re.search(r"Last provisioning run \d{1,2} [A-Z][a-z]+ 20\d\d, \d\d:\d\d", own), "on the school's clock"
        assert "Deletions overdue 0" in own
        assert "Approvals" in own and "the workspace was created" in own
        for source in p.entry.sources:  # a long address may wrap inside itself
            assert source.replace(" ", "") in own.replace(" ", "")
        assert f" {school.created[platform]} " in summary_row(pages, register, platform)
    dfe = page_of(pages, register, "dfe")
    for name in processor(register, "dfe").fields:
        assert FIELDS[name].label in dfe
    assert "\u2014" in summary_row(pages, register, "dfe"), "a recipient outside this tool: no count"


def test_pdf_marks_every_gap_in_words(school, pages):
    for p in school.register.processors:
        gaps = p.gaps()
        own = page_of(pages, school.register, p.id)
        if gaps:
            assert own.count("GAP (") >= len(gaps), f"{p.name}: every gap item is marked"
            assert f"{len(gaps)} GAP" in summary_row(pages, school.register, p.id)
        for heading, _ in gaps:
            assert heading in own
    # The override's own text is there, as the school wrote it.
    purple_mash = page_of(pages, school.register, "purple-mash")
    assert FORMULA in purple_mash and SCRIPT in purple_mash


def text_positions(data: bytes) -> list[tuple[int, float, float, float, float]]:
    """(page, x, y, width, height) of every piece of text drawn."""
    found = []
    for number, page in enumerate(PdfReader(io.BytesIO(data)).pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)

        def visit(text, cm, tm, font, size, number=number, width=width, height=height):
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                found.append((number, x, y, width, height))

        page.extract_text(visitor_text=visit)
    return found


def test_pdf_text_stays_on_the_page_even_with_very_long_entries(school, pages):
    register = school.register
    first, *rest = register.processors
    longer = replace(first, entry=first.entry.model_copy(update={
        "security": "Encrypted at rest and in transit, audited yearly. " * 300,  # taller than a page
        "sources": [*first.entry.sources, "https://example.org/" + "a" * 500],
    }))  # fmt: skip
    data = register_pdf_bytes(Register(register.school, register.today, [longer, *rest], register.problems))
    positions = text_positions(data)
    assert len({page for page, *_ in positions}) >= len(pages) + 2, "the long entry runs on over more pages"
    for page, x, y, width, height in positions:
        assert 0 <= x <= width and 0 <= y <= height, f"text off page {page} at ({x:.0f}, {y:.0f})"


def test_xlsx_has_a_governors_sheet_and_the_full_register(school):
    register = school.register
    workbook = load_workbook(io.BytesIO(register_xlsx_bytes(register)))
    assert workbook.sheetnames == ["Governors", "Full register"]
    governors = [list(row) for row in workbook["Governors"].iter_rows(values_only=True)]
    assert governors[0] == ["Processor", "What it holds", "Children", "Accounts made by", "Overdue deletions",
                            "Next review"]  # fmt: skip
    assert [row[0] for row in governors[1:]] == [p.name for p in register.processors]
    assert any(row[0].startswith("Department for Education") for row in governors[1:])
    by_name = {row[0]: row for row in governors[1:]}
    for platform in PLATFORMS:
        p = processor(register, platform)
        assert str(by_name[p.name][2]).split(" ")[0] == str(school.created[platform])
        assert by_name[p.name][4] == 0, "no deletion overdue: a number, not text"
        assert by_name[p.name][3] == p.accounts_made_by
    assert by_name["Times Tables Rock Stars"][2] == f"{school.created['tt-rockstars']} (Years 1 to 6)"
    assert by_name["Department for Education (DfE)"][2] == "\u2014", "shared outside this tool: not counted"
    full = [list(row) for row in workbook["Full register"].iter_rows(values_only=True)]
    header = full[0]
    for key, heading in ITEMS:
        assert heading in header
    assert header.index(ITEMS[0][1]) < header.index(ITEMS[-1][1])
    assert [row[0] for row in full[1:]] == [p.id for p in register.processors]
    for row, p in zip(full[1:], register.processors, strict=True):
        for key, heading in ITEMS:
            assert row[header.index(heading)] == p.fact(key)
        assert row[header.index("Sources")] == ("\n".join(p.entry.sources) or None)


def test_xlsx_keeps_a_formula_looking_override_as_text(school):
    workbook = load_workbook(io.BytesIO(register_xlsx_bytes(school.register)))
    ws = workbook["Full register"]
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[header.index("Name")].value == "Purple Mash")
    cell = row[header.index("Purpose")]
    assert cell.value == FORMULA
    assert cell.data_type == "s", "a string cell, never a formula"


def test_html_is_self_contained_printable_and_escaped(school):
    register = school.register
    page = register_html(register)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en-GB">' in page
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; UK | EU" in page
    assert "<link" not in page and "src=" not in page, "no outside resources"
    assert "@media print" in page and "break-before: page" in page
    assert page.count('<section class="processor">') == len(register.processors)
    for p in register.processors:
        assert f"<h2>{p.name.replace(chr(39), '&#x27;')}</h2>" in page
    assert page.count('class="alert"') >= sum(len(p.gaps()) for p in register.processors)


def test_markdown_has_the_summary_table_and_a_section_per_processor(school):
    register = school.register
    text = register_markdown(register)
    lines = text.splitlines()
    start = lines.index("| " + " | ".join(SUMMARY_HEADER) + " |")
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    assert len(rows) == len(register.processors)
    for row, p in zip(rows, register.processors, strict=True):
        assert row.startswith(f"| {p.name} |")
        assert len(re.findall(r"(?<!\\)\|", row)) == len(SUMMARY_HEADER) + 1, "a | inside a cell is escaped"
    for p in register.processors:
        assert f"## {p.name}" in lines
    assert "UK \\| EU" in text
    assert "<script" not in text.replace("\\<script", "")


def test_privacy_notice_names_everyone_and_never_states_a_gap_as_fact(school):
    register = school.register
    notice = privacy_notice(register)
    assert "## Programs used by pupils" in notice and "## Who we share pupil data with" in notice
    for p in register.processors:
        assert f"### {p.name}" in notice
    lowered = notice.lower()
    for note in RESEARCH_NOTES:
        assert note not in lowered, f"a parent reads no research note ({note!r})"
    assert "We are asking Maths Circle where pupils' data is stored." in notice, "a gap is a question asked"
    assert "Touch-type Read and Spell" not in notice and "leavers_group" not in notice
    assert "erase" in lowered and "corrected" in lowered and "school office" in lowered
    assert "appointed admin" in notice and "as little" in notice
    for platform in PLATFORMS:
        _, delete_days = policy(processor(register, platform).connector)
        section = notice.split(f"### {processor(register, platform).name}", 1)[1].split("###", 1)[0]
        assert f"within {delete_days} days of your child leaving" in section
    ttrs = notice.split("### Times Tables Rock Stars", 1)[1].split("###", 1)[0]
    assert "year group" in ttrs and "first name" in ttrs


def test_access_pdf_shows_the_values_sent_about_one_pupil(school):
    pupil = held_everywhere(school)
    account = school.accounts["purple-mash"][pupil]
    report = Provisioner(school.workspace).pupil_report(pupil, TODAY)
    text = " ".join(pdf_pages(access_pdf_bytes(report)))
    title = f"What we hold about {report['name']} (Class {report['class']}, MIS id {report['id']})"
    assert unicodedata.normalize("NFC", title) in text
    # The id as the school writes it (zero-padded); the key holds it without the padding.
    assert report["name"] and normalise_mis_id(report["id"]) == pupil.removeprefix("mis:")
    for platform in PLATFORMS:
        held = school.accounts[platform][pupil]
        assert report["processors"][platform]["name"] in text
        for value in held.sent.values():
            assert unicodedata.normalize("NFC", value) in text
    assert f"username {account.username}" in text
    assert unicodedata.normalize("NFC", account.sent["forename"]) in text
    assert "Account made" in text and "we never keep passwords" in text
    assert "Department for Education" in text
    assert "not found" not in text.lower(), "a parent is told what is being confirmed, not the register's gaps"


def test_access_pdf_lists_deleted_accounts_with_their_date(school):
    pupil = held_everywhere(school)
    report = Provisioner(school.workspace).pupil_report(pupil, TODAY)
    gone = {**report["processors"].pop("purple-mash"), "status": "deleted", "deleted": "2026-11-20"}
    report["deleted"] = {"purple-mash": gone}
    text = " ".join(pdf_pages(access_pdf_bytes(report)))
    assert "Accounts deleted" in text and "Deleted on 20 November 2026" in text
    assert text.index("Times Tables Rock Stars") < text.index("Accounts deleted") < text.index("Purple Mash")


def test_each_format_is_written_atomically_under_its_default_name(school, tmp_path: Path):
    register = school.register
    expected = {
        "pdf": ("processor-register-2026-11-22.pdf", b"%PDF-"),
        "html": ("processor-register-2026-11-22.html", b"<!DOCTYPE html>"),
        "xlsx": ("processor-register-2026-11-22.xlsx", b"PK"),
        "md": ("processor-register-2026-11-22.md", b"# Export Primary"),
        "notice": ("privacy-notice-section-2026-11-22.md", b"## Programs used by pupils"),
        "notice-docx": ("privacy-notice-section-2026-11-22.docx", b"PK"),
    }
    assert set(expected) | {"questions"} == set(FORMATS)
    for fmt, (name, start) in expected.items():
        assert default_name(register, fmt) == name
        path = write_register(register, fmt, tmp_path / name)
        assert path == tmp_path / name and path.read_bytes().startswith(start)
        assert is_private(path)
    # The letters to suppliers: a folder of Word documents, one per supplier with questions.
    assert default_name(register, "questions") == "questions-for-suppliers-2026-11-22"
    folder = write_register(register, "questions", tmp_path / "questions-for-suppliers-2026-11-22")
    assert folder.is_dir() and all(letter.read_bytes().startswith(b"PK") and is_private(letter)
                                   for letter in folder.iterdir())  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*(name for name, _ in expected.values()), "questions-for-suppliers-2026-11-22"])
    with pytest.raises(UsageError):
        write_register(register, "docx", tmp_path / "x.docx")
