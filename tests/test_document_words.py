"""The words governors and parents read: the privacy notice and the register, exported from the
demo workspace as a school would export them, and the shipped entries they are made from.

The notice carries no research notes (what a parent reads is a statement the school stands
behind, or that it is being confirmed); the Department for Education's census categories are
listed, on the register's first page and in the notice, not the few roster fields this tool
knows; each platform's page says whether the supplier uses the data for itself and when a
deleted pupil's data is gone; LGfL under USO-AutoUpdate is never said to have its accounts made
by this tool; and the entries' sources are links a governor can open on the supplier's own site
or an official one.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
from types import SimpleNamespace
from urllib.parse import urlparse

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from provisioner.cli import app
from provisioner.register import gap_kind, load_entries, shipped_entries
from provisioner.workspace import Workspace

# Words of a research note, not of a statement: none may reach a parent.
RESEARCH_TERMS = ("inferred", "unverified", "secondary copy", "not found", "source", "reference", "cut off",
                  "school to record", "question for", "to record:")  # fmt: skip
GOVERNORS_TERMS = RESEARCH_TERMS[:7]  # not the gap markers: a governor is shown what is still to collect
# What the school census carries (gov.uk, "Complete the school census"), in the words the entry uses.
CENSUS = ("unique pupil number", "date of birth", "gender", "ethnicity", "first language",
          "special educational needs", "free school meal", "attendance", "exclusions", "enrolment status")  # fmt: skip
# Sites that copy other people's documents: never a source a governor should be sent to.
DOCUMENT_COPIES = ("docslib", "expydoc", "vdocuments", "fdokumen", "1library", "readkong", "issuu", "docstoc",
                   "scribd", "yumpu", "studylib", "dokumen", "oreate", "whatdotheyknow")  # fmt: skip
LGFL = "LGfL (London Grid for Learning) USO"


def words(text: str) -> str:
    """Text as a reader sees it: one space between words, lower case, typographic marks plain."""
    flat = " ".join(unicodedata.normalize("NFC", text).split()).lower()
    return flat.replace("\u2019", "'")


def research_words_in(text: str, terms: tuple[str, ...] = RESEARCH_TERMS) -> list[str]:
    """The research terms in ``text`` as words (so "resources" is not "source"), plurals too."""
    lowered = words(text)
    return [term for term in terms if re.search(rf"\b{re.escape(term)}(s\b|\b|(?<=:))", lowered)]


def section(markdown: str, heading: str, level: str = "###") -> str:
    """One processor's part of a Markdown document: from its heading to the next of the same level."""
    start = markdown.index(f"{level} {heading}\n")
    rest = markdown[start + len(heading) + len(level) + 2:]
    ends = [i for i in (rest.find(f"\n{level} "), rest.find("\n## ")) if i >= 0]
    return rest[: min(ends)] if ends else rest


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> SimpleNamespace:
    """The demo workspace after its apply, and the notice and the register as 'register export' writes them."""
    root = tmp_path_factory.mktemp("words") / "demo"
    runner = CliRunner()
    made = runner.invoke(app, ["demo", str(root)])
    assert made.exit_code == 0, made.output
    files = {}
    for fmt in ("notice", "md", "html", "pdf"):
        path = root / "reports" / f"words.{fmt}"
        command = ["register", "export", "--format", fmt, "--out", str(path), "--workspace", str(root)]
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output
        files[fmt] = path
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(files["pdf"].read_bytes())).pages]
    page_html = files["html"].read_text(encoding="utf-8")
    return SimpleNamespace(
        workspace=Workspace(root),
        notice=files["notice"].read_text(encoding="utf-8"),
        markdown=files["md"].read_text(encoding="utf-8"),
        html=page_html,
        html_text=html.unescape(re.sub(r"<[^>]+>", " ", page_html)),
        pdf_pages=pages,
    )


def test_the_notice_carries_no_research_notes(exported):
    assert research_words_in(exported.notice) == []
    assert "We are asking" in exported.notice, "what is not known yet is said to be being confirmed"


def test_the_governors_summary_carries_no_research_notes(exported, tmp_path):
    """Page 1 of the register, and the workbook's Governors sheet, are what governors read first.
    Unlike the notice, they may say what is still to record or ask (the gaps are the governors'
    business too), but never how a fact was researched."""
    summary = " ".join(exported.pdf_pages[0].split())
    assert summary.startswith(f"{exported.workspace.settings.school.name} Summary for governors")
    assert research_words_in(summary, GOVERNORS_TERMS) == []
    book = tmp_path / "register.xlsx"
    result = CliRunner().invoke(app, ["register", "export", "--format", "xlsx", "--out", str(book),
                                      "--workspace", str(exported.workspace.root)])  # fmt: skip
    assert result.exit_code == 0, result.output
    cells = [str(v) for row in load_workbook(book)["Governors"].iter_rows(values_only=True) for v in row if v]
    assert research_words_in(" ".join(cells), GOVERNORS_TERMS) == []


def test_the_notice_lists_what_the_census_sends_the_dfe_and_that_the_mis_sends_it(exported):
    dfe = words(section(exported.notice, "Department for Education (DfE)"))
    missing = [category for category in CENSUS if category not in dfe]
    assert missing == [], f"the notice leaves out of the census: {missing}"
    assert "each term" in dfe and "management information system" in dfe


def test_the_registers_first_pages_list_the_census_categories(exported):
    summary = section(exported.markdown, "Summary", "##")
    [dfe_row] = [line for line in summary.splitlines() if line.startswith("| Department for Education (DfE) |")]
    assert [category for category in CENSUS if category not in words(dfe_row)] == []
    for page in exported.pdf_pages[:2]:  # the summary for governors, then the categories of data held
        first_page = words(page)
        assert "department for education (dfe)" in first_page
        assert [category for category in CENSUS if category not in first_page] == []


def test_every_recipient_says_what_goes_there_from_the_mis_and_not_from_this_tool(exported):
    for name in ("Department for Education (DfE)", "Local authority", "School nursing service",
                 "The pupil's next school"):  # fmt: skip
        page = section(exported.markdown, name, "##")
        assert "Recipient: the school shares this data outside this tool." in page
        assert "management information system" in words(section(exported.notice, name))
    next_school = words(section(exported.notice, "The pupil's next school"))
    assert "common transfer file" in next_school and "school to school" in next_school
    nurse = words(section(exported.notice, "School nursing service"))
    assert "national child measurement programme" in nurse and "reception and year 6" in nurse


def test_each_platform_says_its_own_uses_and_when_deleted_data_is_gone(exported):
    for platform in ("bug-club", "education-city", "ixl", "lgfl", "purple-mash", "tt-rockstars"):
        name = load_entries()[platform].name
        page = section(exported.markdown, name, "##")
        assert "| Its own uses of the data |" in page.replace("**", "")
        assert "| From deletion to erasure |" in page.replace("**", "")
        assert "Its own uses of the data:" in section(exported.notice, name)
        assert "After an account is deleted:" in section(exported.notice, name)
    ttrs = words(section(exported.notice, "Times Tables Rock Stars"))
    assert "leavers group for 6 months" in ttrs and "delete immediately" in ttrs
    assert "can be restored in purple mash" in words(section(exported.notice, "Purple Mash"))


def test_lgfl_under_autoupdate_is_never_said_to_have_its_accounts_made_by_this_tool(exported):
    assert not exported.workspace.connector("lgfl").delivery.makes_accounts, "the demo runs LGfL's AutoUpdate"
    page = section(exported.markdown, LGFL, "##")
    assert "Accounts made by: LGfL USO-AutoUpdate" in page
    html_page = exported.html_text.split(LGFL)[2].split("Purple Mash")[0]  # the summary, then its own page
    for text in (page, html_page, section(exported.notice, LGFL)):
        lowered = words(text)
        assert "this tool makes" not in lowered and "makes and manages" not in lowered
        assert "the school deletes your child's account" not in lowered
    assert "from our records system itself" in words(section(exported.notice, LGFL))


def test_a_gap_is_a_question_for_the_supplier_or_a_fact_to_record():
    assert gap_kind("Question for Maths Circle: where are pupils' data stored?") == "supplier"
    assert gap_kind("Amazon Web Services. Question for 2Simple: which safeguard covers that transfer?") == "supplier"
    assert gap_kind("To record: the signed contract's date and link.") == "school"
    assert gap_kind("Maths Circle keeps the account for 6 months, then deletes it.") is None
    assert gap_kind("We record the DPIA's date in the school's register.") is None, "'record' alone is no gap"
    # A school's older entry, in the markers used before, keeps its gaps.
    assert gap_kind("Not found: ask the supplier.") == "supplier"
    assert gap_kind("School to record: the DPIA.") == "school"


def test_the_shipped_entries_are_written_as_statements_with_questions_for_what_is_not_known():
    for entry_id, raw in shipped_entries().items():
        texts = {key: value for key, value in raw.items() if isinstance(value, str)}
        texts |= {f"needs.{key}": value for key, value in raw.get("needs", {}).items()}
        texts["scope.note"] = raw.get("scope", {}).get("note", "")
        for key, text in texts.items():
            lowered = words(text)
            for note in ("not found", "school to record", "unverified", "inferred", "secondary copy", "cut off",
                         "the research", "the reference"):  # fmt: skip
                assert note not in lowered, f"registers/{entry_id}.toml {key}: a research note ('{note}')"


def test_the_shipped_entries_sources_are_pages_a_governor_can_open_from_the_supplier_or_an_official_site():
    for entry_id, raw in shipped_entries().items():
        assert raw.get("sources"), f"registers/{entry_id}.toml names no source"
        for source in raw["sources"]:
            address = source.split(" ", 1)[0]
            host = urlparse(address).hostname or ""
            assert address.startswith("https://") and host, f"registers/{entry_id}.toml: {source!r} is no link"
            copied = any(copy in host for copy in DOCUMENT_COPIES)
            assert not copied, f"registers/{entry_id}.toml: {host} copies other people's documents"
            assert "border" not in address.lower(), f"registers/{entry_id}.toml: {address} is about something else"
            if host in {"github.com", "raw.githubusercontent.com", "gist.github.com"}:
                assert "(third party:" in source, f"registers/{entry_id}.toml: label {address} as third-party code"
        if raw.get("kind") == "recipient":
            assert all(urlparse(s).hostname.endswith(".gov.uk") for s in raw["sources"]), entry_id
