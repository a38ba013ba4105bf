"""The layout of what governors and the admin print: the register PDF opens with a summary for
governors that fits one page, has no near-empty page and never breaks a web address inside a
word; the register's xlsx wraps its text and prints (header row repeated, fitted to the page's
width); a checklist's title is printed whole; and an erasure's deletion list says what it is and,
for LGfL reading the MIS, who the pupil is and what to do in USO."""

from __future__ import annotations

import io
import re
import shutil
import sqlite3
from datetime import timedelta
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from typer.testing import CliRunner

from conftest import TODAY, Cli, yes
from provisioner.checklist import checklist_pdf_bytes
from provisioner.cli import app
from provisioner.facade import Provisioner
from provisioner.jobs.create import init_workspace
from provisioner.synthetic import synthetic_pupils, write_roster_csv
from provisioner.workspace import Workspace
from provisioner.register import verdict

MIN_LINES = 8  # a page with fewer lines of text than this (its footer aside) is a page nearly empty
ADDRESS = re.compile(r"https?://\S+")


def pdf_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> SimpleNamespace:
    """The demo workspace after its apply (its processors), and the register as PDF and xlsx."""
    root = tmp_path_factory.mktemp("layout") / "demo"
    runner = CliRunner()
    made = runner.invoke(app, ["demo", str(root)])
    assert made.exit_code == 0, made.output
    written = {}
    for fmt in ("pdf", "xlsx"):
        path = root / "reports" / f"register.{fmt}"
        result = runner.invoke(app, ["register", "export", "--format", fmt, "--out", str(path), "--workspace",
                                     str(root)])  # fmt: skip
        assert result.exit_code == 0, result.output
        written[fmt] = path
    workspace = Workspace(root)
    register = Provisioner(workspace).register()
    return SimpleNamespace(workspace=workspace, register=register, pages=pdf_texts(written["pdf"].read_bytes()),
                           xlsx=load_workbook(written["xlsx"]))  # fmt: skip


# The register PDF


def test_the_summary_for_governors_is_page_one_and_fits_it(demo):
    first, second = flat(demo.pages[0]), flat(demo.pages[1])
    assert first.startswith(f"{demo.register.school} Summary for governors: processor register as of ")
    assert len(demo.register.processors) >= 10, "the demo's processors, all on the one page"
    for p in demo.register.processors:
        assert p.name in first
    for heading in ("What it holds", "Children", "Accounts made by", "Overdue deletions", "Next review"):
        assert heading in first
    assert "Audit log: intact" in first
    assert "The register has no errors." in first and " facts are still to collect: " in first
    # Nothing of it spills over: the next page is the summary of the data each processor holds.
    assert second.startswith(f"{demo.register.school} Processor register as of ")
    assert "Summary for governors" not in " ".join(demo.pages[1:])


def test_the_summary_counts_each_platforms_children_and_facts_to_collect(demo):
    first = flat(demo.pages[0])
    for p in demo.register.platforms():
        assert f" {p.evidence.pupils_held}" in first.split(p.name, 1)[1]
    assert f"{len(verdict(demo.register).gaps)} facts are still to collect" in first, "the check's own count"


def test_a_broken_audit_log_is_said_on_the_summary(demo, tmp_path):
    workspace = Workspace(shutil.copytree(demo.workspace.root, tmp_path / "copy"))
    with sqlite3.connect(workspace.state_path) as db:
        db.execute("DROP TRIGGER audit_no_update")  # as someone rewriting the record by hand would
        db.execute("UPDATE audit SET detail = '{}' WHERE seq = 3")
    out = tmp_path / "register.pdf"
    result = Cli(workspace)("register", "export", "--format", "pdf", "--out", str(out))
    assert result.exit_code == 0, result.output
    first = flat(pdf_texts(out.read_bytes())[0])
    assert "Audit log: BROKEN: event 3 does not match the chain" in first and "intact" not in first


def test_no_page_of_the_register_is_nearly_empty_but_the_last(demo):
    for number, text in enumerate(demo.pages[:-1], start=1):
        lines = [line for line in text.splitlines() if line.strip()][:-1]  # the footer aside
        assert len(lines) >= MIN_LINES, f"page {number} has only {len(lines)} lines: {lines}"


def test_every_source_address_is_printed_whole(demo):
    text = "\n".join(demo.pages)
    assert "\u200b" not in text, "no invisible break marks in what a reader copies"
    joined = re.sub(r"(?<=[/?])\n", "", text)  # a line may end only just after a "/" or "?"
    addresses = [found.group() for p in demo.register.processors for source in p.entry.sources
                 for found in ADDRESS.finditer(source)]  # fmt: skip
    assert len(addresses) > 30
    broken = [address for address in addresses if address not in joined]
    assert broken == [], f"addresses broken elsewhere than after a / or ?: {broken}"


# The register xlsx


def test_both_sheets_wrap_their_text_and_print_with_the_header_on_every_page(demo):
    for ws in demo.xlsx.worksheets:
        assert ws.print_title_rows == "$1:$1", f"{ws.title}: the header row repeats on each printed page"
        assert ws.freeze_panes == "A2"
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
        widths = [ws.column_dimensions[cell.column_letter].width for cell in ws[1]]
        assert max(widths) <= 50, f"{ws.title}: no column wider than 50 characters: {widths}"
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert cell.alignment.wrap_text, f"{ws.title}!{cell.coordinate} wraps"
        longest = max(ws.iter_rows(min_row=2), key=lambda row: max(len(str(c.value or "")) for c in row))
        assert ws.row_dimensions[longest[0].row].height > 15 * 3, f"{ws.title}: the longest row is tall enough"


def test_the_governors_sheet_prints_on_one_a4_page_across_and_the_full_register_on_a3(demo):
    governors, full = demo.xlsx["Governors"], demo.xlsx["Full register"]
    assert [c.value for c in governors[1]] == ["Processor", "What it holds", "Children", "Accounts made by",
                                                "Overdue deletions", "Next review"]  # fmt: skip
    assert int(governors.page_setup.paperSize) == int(governors.PAPERSIZE_A4) and governors.page_setup.fitToWidth == 1
    assert [row[0].value for row in governors.iter_rows(min_row=2)] == [p.name for p in demo.register.processors]
    assert int(full.page_setup.paperSize) == int(full.PAPERSIZE_A3) and full.page_setup.fitToWidth == 3
    assert full.print_title_cols == "$A:$B", "the id and name repeat on each page across"
    assert "A3" in full.oddFooter.left.text


# Checklists and deletion lists


def test_a_long_checklist_title_and_cells_are_printed_whole():
    title = "Bug Club (Pearson ActiveLearn Primary): accounts to delete for an erasure request (batch 20270120-001)"
    name = "Alexandria-Josephine Montgomery-Fitzwilliam-Hargreaves-Worthington (MIS record 001000)"
    data = checklist_pdf_bytes(title, ["Delete each account, tick it."], ["Username", "Name", "Class"],
                               [["amontgomery", name, "Year 6 Oak"]] * 50)  # fmt: skip
    pages = [flat(text) for text in pdf_texts(data)]
    assert len(pages) > 1
    assert pages[0].startswith(title)
    unspaced = name.replace(" ", "")
    assert all(text.replace(" ", "").count(unspaced) >= 1 for text in pages), "a long name wraps, never cut short"
    assert sum(text.count("amontgomery") for text in pages) == 50
    assert all("Done Username Name Class" in text for text in pages), "the headings repeat on each page"
    assert all(f"of {len(pages)}" in text for text in pages)


def lgfl_school(tmp_path):
    workspace = init_workspace(tmp_path / "ws", "Grid Primary", "grid.sch.uk", ["lgfl", "purple-mash"], "A. Admin")
    rows = synthetic_pupils(12, seed=3, today=TODAY, leavers=0)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    Provisioner(workspace).apply(roster, confirm=yes, today=TODAY)
    return workspace, rows, roster


def deletion_list_text(path) -> str:
    return flat("\n".join(pdf_texts(path.read_bytes())))


def test_an_erasure_list_says_it_is_one_and_lgfl_names_the_pupil_and_what_to_do_in_uso(tmp_path):
    workspace, rows, _ = lgfl_school(tmp_path)
    erased = rows[1]
    result = Cli(workspace)("pupil", "erase", erased["mis_id"], "--yes", "--as-of", TODAY.isoformat())
    assert result.exit_code == 0, result.output
    [lgfl_pdf] = (workspace.outbox / "lgfl").glob("lgfl-deletions-*.pdf")
    lgfl = deletion_list_text(lgfl_pdf)
    assert lgfl.startswith("LGfL (USO): accounts to delete for an erasure request (batch ")
    assert "leavers" not in lgfl
    name = f"{erased['preferred_forename']} {erased['preferred_surname']}"
    assert f"{name} (MIS record {erased['mis_id']}) {erased['class_name']}" in lgfl
    assert "Nominated Contact" in lgfl and "USO admin" in lgfl and "LGfL USO-AutoUpdate" in lgfl
    [xlsx] = (workspace.outbox / "lgfl").glob("lgfl-deletions-*.xlsx")
    [_, listed] = list(load_workbook(xlsx).active.iter_rows(values_only=True))
    assert listed[2:] == (f"{name} (MIS record {erased['mis_id']})", erased["class_name"])
    [purple_mash] = (workspace.outbox / "purple-mash").glob("purple-mash-deletions-*.pdf")
    assert deletion_list_text(purple_mash).startswith("Purple Mash: accounts to delete for an erasure request")


def test_a_leavers_list_is_titled_as_one(tmp_path):
    workspace = init_workspace(tmp_path / "ws", "Mash Primary", "mash.sch.uk", ["purple-mash"], "A. Admin")
    rows = synthetic_pupils(12, seed=3, today=TODAY, leavers=0)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    Provisioner(workspace).apply(roster, confirm=yes, today=TODAY)
    leaver = rows[4]
    leaver["leaving_date"] = TODAY + timedelta(days=1)
    write_roster_csv(roster, rows)
    result = Provisioner(workspace).apply_leavers(roster, confirm=yes, today=TODAY + timedelta(days=60))
    [deletion_list] = result.deletion_lists
    text = deletion_list_text(deletion_list.path)
    assert text.startswith(f"Purple Mash: leavers' accounts to delete (batch {deletion_list.batch_id})")
    assert leaver["preferred_surname"] in text, "listed by the name Purple Mash was sent"
