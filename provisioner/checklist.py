"""Printable checklists (PDF and xlsx) for work the admin does by hand on a platform, such as
deleting leavers' accounts where the platform takes no bulk removal file.

The title wraps rather than running off the page (a platform's long name and the batch make it
long), and so does every cell: a name is never cut short on a list the admin acts on. The
column headings repeat on each page, and each page's foot names the list and its page.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

from provisioner import files
from provisioner.slips import SANS, SANS_BOLD, font_file, printable
from provisioner.xlsx import Sheet, xlsx_bytes

MARGIN = 10.0
DONE_WIDTH = 12.0  # the tick box's column, in millimetres
TITLE_SIZE = 13
TEXT_SIZE = 9
LINE = 5.0  # millimetres per line of 9-point text


def _checklist_pdf(title: str):
    """An A4 portrait document with a footer naming the list and the page ("Page 2 of 3")."""
    # Imported here, not at the top: fpdf2 takes a third of a second to load, and only a
    # command that prints a checklist needs it (tests/test_startup.py).
    from fpdf import FPDF

    class _ChecklistPdf(FPDF):
        """A4 portrait with a footer naming the list and the page ("Page 2 of 3")."""

        def __init__(self, title: str):
            super().__init__(orientation="P", unit="mm", format="A4")
            self.list_title = printable(title)
            self.set_margins(MARGIN, 12)
            self.set_auto_page_break(True, margin=15)

        def footer(self) -> None:
            self.set_y(-11)
            self.set_font(SANS.family, SANS.style, 7)
            self.set_text_color(80)
            width = self.epw - 30
            title = self.list_title
            while title and self.get_string_width(title) > width - 2:
                title = title[:-2] + "\u2026"
            self.cell(width, 5, title, align="L")
            self.cell(30, 5, f"Page {self.page_no()} of {{nb}}", align="R")
            self.set_text_color(0)

    return _ChecklistPdf(title)


def checklist_pdf_bytes(title: str, lines: Sequence[str], header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """An A4 table with a tick box per row, under a title and a few lines of instructions."""
    from fpdf.fonts import FontFace  # with fpdf itself, only where a checklist is printed

    width = 210 - 2 * MARGIN - DONE_WIDTH
    widths = (DONE_WIDTH, *([width / len(header)] * len(header)))
    with ExitStack() as stack:
        pdf = _checklist_pdf(title)
        pdf.set_title(printable(title))
        pdf.set_creator("provisioner")
        pdf.set_lang("en-GB")
        for face in (SANS, SANS_BOLD):
            pdf.add_font(face.family, face.style, stack.enter_context(resources.as_file(font_file(face))))
        pdf.add_page()
        pdf.set_font(SANS_BOLD.family, SANS_BOLD.style, TITLE_SIZE)
        pdf.multi_cell(0, 6.5, printable(title), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        pdf.set_font(SANS.family, SANS.style, TEXT_SIZE)
        for line in lines:
            pdf.multi_cell(0, LINE, printable(line), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        with pdf.table(col_widths=widths, width=sum(widths), align="LEFT", text_align="LEFT", line_height=LINE,
                       padding=1, headings_style=FontFace(emphasis="BOLD", fill_color=(225, 225, 225)),
                       repeat_headings=1, v_align="TOP") as table:  # fmt: skip
            heading = table.row()
            for text in ("Done", *header):
                heading.cell(printable(text))
            for row in rows:
                line = table.row()
                line.cell("")
                for text in row:
                    line.cell(printable(str(text)))
        return bytes(pdf.output())


def write_checklist(pdf_path: Path, xlsx_path: Path, title: str, lines: Sequence[str], header: Sequence[str],
                    rows: Sequence[Sequence[str]]) -> None:  # fmt: skip
    """Write the checklist as PDF and xlsx, both owner-only and atomic (made in memory first)."""
    pdf = checklist_pdf_bytes(title, lines, header, rows)
    workbook = xlsx_bytes([Sheet("Checklist", ["Done", *header], [["", *row] for row in rows], orientation="portrait",
                                 footer=title)])  # fmt: skip
    files.atomic_write_bytes(pdf_path, pdf)
    files.atomic_write_bytes(xlsx_path, workbook)
