"""Printable checklists (PDF and xlsx) for work the admin does by hand on a platform, such as
deleting leavers' accounts where the platform takes no bulk removal file."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

from provisioner import files
from provisioner.slips import SANS, SANS_BOLD, font_file, printable
from provisioner.xlsx import Sheet, xlsx_bytes

ROWS_PER_PAGE = 32


def checklist_pdf_bytes(title: str, lines: Sequence[str], header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """An A4 table with a tick box per row, under a title and a few lines of instructions."""
    # Imported here, not at the top: fpdf2 takes a third of a second to load, and only a
    # command that prints a checklist needs it (tests/test_startup.py).
    from fpdf import FPDF

    widths = [12.0] + [178.0 / len(header)] * len(header)
    with ExitStack() as stack:
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_margins(10, 12)
        pdf.set_auto_page_break(False)
        pdf.set_title(printable(title))
        pdf.set_creator("provisioner")
        pdf.set_lang("en-GB")
        for face in (SANS, SANS_BOLD):
            pdf.add_font(face.family, face.style, stack.enter_context(resources.as_file(font_file(face))))
        pages = [rows[i : i + ROWS_PER_PAGE] for i in range(0, len(rows), ROWS_PER_PAGE)] or [[]]
        for number, page in enumerate(pages, start=1):
            pdf.add_page()
            pdf.set_font(SANS_BOLD.family, SANS_BOLD.style, 13)
            pdf.cell(0, 8, printable(title), new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(SANS.family, SANS.style, 9)
            for line in lines:
                pdf.multi_cell(0, 5, printable(line), new_x="LMARGIN", new_y="NEXT")
            pdf.cell(0, 5, f"Page {number} of {len(pages)}", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
            pdf.set_font(SANS_BOLD.family, SANS_BOLD.style, 9)
            for width, text in zip(widths, ["Done", *header]):
                pdf.cell(width, 7, text, border=1)
            pdf.ln()
            pdf.set_font(SANS.family, SANS.style, 9)
            for row in page:
                pdf.cell(widths[0], 7, "", border=1)
                for width, text in zip(widths[1:], row):
                    pdf.cell(width, 7, printable(str(text))[:60], border=1)
                pdf.ln()
        return bytes(pdf.output())


def write_checklist(pdf_path: Path, xlsx_path: Path, title: str, lines: Sequence[str], header: Sequence[str],
                    rows: Sequence[Sequence[str]]) -> None:  # fmt: skip
    """Write the checklist as PDF and xlsx, both owner-only and atomic (made in memory first)."""
    pdf = checklist_pdf_bytes(title, lines, header, rows)
    workbook = xlsx_bytes([Sheet("Checklist", ["Done", *header], [["", *row] for row in rows])])
    files.atomic_write_bytes(pdf_path, pdf)
    files.atomic_write_bytes(xlsx_path, workbook)
