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
from provisioner.slips import PT, SANS, SANS_BOLD, Face, font_file, printable, wrap
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


class _Table:
    """The checklist's table, drawn as PDF operators: a deletion list at trust scale has
    thousands of rows (2,500 leavers on six platforms), and fpdf2's table spends milliseconds a
    cell in its own layout. Each row is measured once with the slips' font metrics, wrapped at
    word breaks as fpdf2 wraps (a word wider than its cell breaks inside it), and written as one
    self-contained graphics state (``q`` ... ``Q``): the cells' frames, the heading's grey, the
    text. Rows never split across pages; the heading row repeats at the top of each page."""

    PAD = 1.0  # millimetres inside each cell's frame
    BOTTOM = 297 - 15  # the page's last usable line, above the footer

    def __init__(self, pdf, widths: Sequence[float]):
        from fpdf.enums import PDFResourceType

        self.pdf, self.widths, self.k = pdf, widths, pdf.k
        self.fonts = {face: pdf.fonts[face.family + face.style] for face in (SANS, SANS_BOLD)}
        self.resource = PDFResourceType.FONT

    def lines_of(self, face: Face, row: Sequence[str]) -> list[list[str]]:
        return [wrap(text, face, TEXT_SIZE, width - 2 * self.PAD, words=True) if text else []
                for text, width in zip(row, self.widths)]  # fmt: skip

    def height(self, cells: list[list[str]]) -> float:
        return max(1, *map(len, cells)) * LINE + 2 * self.PAD

    def draw(self, face: Face, cells: list[list[str]], top: float, height: float, fill: bool) -> None:
        """One row at ``top``: frames (grey-filled for the heading), then each cell's lines."""
        k, page_h = self.k, self.pdf.h * self.pdf.k
        ops = ["q 0.2 w 0 G", f"{225 / 255:.3f} g" if fill else "0 g"]
        upper, x = page_h - top * k, MARGIN
        for width in self.widths:
            ops.append(f"{x * k:.2f} {upper - height * k:.2f} {width * k:.2f} {height * k:.2f} re {'B' if fill else 'S'}")
            x += width
        ops.append("0 g")
        font, x = self.fonts[face], MARGIN
        for lines, width in zip(cells, self.widths):
            baseline = top + self.PAD + LINE / 2 + TEXT_SIZE * PT * 0.35  # as fpdf2 centres 9 pt in a 5 mm line
            for line in lines:
                ops.append(f"BT /F{font.i} {TEXT_SIZE:.2f} Tf {(x + self.PAD) * k:.2f} {page_h - baseline * k:.2f} Td "
                           f"{font.encode_text(line)} ET")  # fmt: skip
                baseline += LINE
            x += width
        ops.append("Q")
        self.pdf._out("\n".join(ops))

    def rows(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        pdf = self.pdf
        heading = self.lines_of(SANS_BOLD, [printable(text) for text in header])
        heading_h = self.height(heading)

        def new_page(top: float | None = None) -> float:
            if top is None:
                pdf.add_page()
                top = pdf.t_margin
            for font in self.fonts.values():  # the operators name the fonts: each page must list them
                pdf._resource_catalog.add(self.resource, font.i, pdf.page)
            self.draw(SANS_BOLD, heading, top, heading_h, fill=True)
            return top + heading_h

        y = new_page(pdf.get_y())
        for row in rows:
            cells = self.lines_of(SANS, [printable(str(text)) for text in row])
            height = self.height(cells)
            if y + height > self.BOTTOM:
                y = new_page()
            self.draw(SANS, cells, y, height, fill=False)
            y += height


def checklist_pdf_bytes(title: str, lines: Sequence[str], header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """An A4 table with a tick box per row, under a title and a few lines of instructions."""
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
        _Table(pdf, widths).rows(["Done", *header], [["", *row] for row in rows])
        return bytes(pdf.output())


def write_checklist(pdf_path: Path, xlsx_path: Path, title: str, lines: Sequence[str], header: Sequence[str],
                    rows: Sequence[Sequence[str]]) -> None:  # fmt: skip
    """Write the checklist as PDF and xlsx, both owner-only and atomic (made in memory first)."""
    pdf = checklist_pdf_bytes(title, lines, header, rows)
    workbook = xlsx_bytes([Sheet("Checklist", ["Done", *header], [["", *row] for row in rows], orientation="portrait",
                                 footer=title)])  # fmt: skip
    files.atomic_write_bytes(pdf_path, pdf)
    files.atomic_write_bytes(xlsx_path, workbook)
