"""The governors' register as an A4 PDF (a one-page summary for governors and the summary of
the data each processor holds, both landscape, then each processor's record, portrait), and the
PDF drawing it shares with the access request's answer (access.py): the document with the
bundled fonts and a footer, wrapped lines, tables (``grid``) whose very long rows are split to
fit, and bullet lists.

Web addresses are never broken inside a word: fpdf2 wraps at spaces (and would cut a long
address anywhere), so an address is given a break opportunity after each "/" or "?" of its
path, the lines are laid out with them, and the text is drawn with those line breaks and without
the invisible break marks, so the address copied from the page is the address.

A processor's record follows the one before it on the same page when more than half the page is
left, so a record that runs a few lines onto a new page does not leave a page nearly empty; a
heading is never left alone at the foot of a page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from importlib import resources

from fpdf import FPDF
from fpdf.fonts import FontFace

from provisioner.register import Register
from provisioner.reports.content import (
    GOVERNORS_HEADER,
    KEY,
    SUMMARY_HEADER,
    AuditCheck,
    Cell,
    Page,
    governors_summary,
    pages,
    summary_rows,
    title_lines,
)
from provisioner.slips import PT, SANS, SANS_BOLD, font_file, printable

# --- PDF drawing, shared with the access request's answer --------------------------------------

ALERT_RGB = (150, 0, 0)  # dark red on a light fill: still bold and shaded in black and white
ALERT = FontFace(emphasis="BOLD", color=ALERT_RGB, fill_color=(255, 222, 200))
HEADING = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))
BOLD = FontFace(emphasis="BOLD")
MARGIN = 11.0
LINE_HEIGHT = 0.45  # millimetres of line per point of font size (about 1.28 times the size)
PADDING = 0.8  # a table cell's padding, in millimetres
ADDRESS = re.compile(r"(?:https?://|www\.)\S+")
ADDRESS_BREAK = re.compile(r"(?<=[^/:\s][/?])(?=\S)")  # after a "/" or "?" of the path, never in "https://"
BREAK_MARK = "\u200b"  # a zero-width space: where fpdf2 may break a line


class Document(FPDF):
    """An A4 document with the bundled fonts and a footer naming it, with page numbers."""

    def __init__(self, title: str, footer_text: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = printable(footer_text)
        self.set_margins(MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=16)
        self.set_title(printable(title))
        self.set_creator("provisioner")
        self.set_lang("en-GB")

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font(SANS.family, SANS.style, 7)
        self.set_text_color(80)
        self.cell(self.epw - 30, 5, self._fitted(self.footer_text, self.epw - 32), align="L")
        self.cell(30, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0)

    def _fitted(self, text: str, width: float) -> str:
        """``text`` cut with an ellipsis to fit ``width`` in the current font (a long school name)."""
        if self.get_string_width(text) <= width:
            return text
        while text and self.get_string_width(text + "\u2026") > width:
            text = text[:-1]
        return text.rstrip() + "\u2026"

    @property
    def room(self) -> float:
        """Millimetres left on the page above the footer."""
        return self.page_break_trigger - self.get_y()

    def keep_room(self, height: float) -> None:
        """A new page unless ``height`` millimetres are left (a heading stays with what follows it)."""
        if self.room < height:
            self.add_page(orientation=self.cur_orientation)

    def unbroken_addresses(self, text: str, width: float) -> str:
        """``text`` (already printable) with line breaks where it wraps in ``width`` millimetres in
        the current font, breaking a web address only after a "/" or "?"; unchanged without one."""
        if not ADDRESS.search(text):
            return text
        marked = ADDRESS.sub(lambda found: ADDRESS_BREAK.sub(BREAK_MARK, found.group()), text)
        lines = self.multi_cell(width, 1, marked, dry_run=True, output="LINES")
        return "\n".join(line.replace(BREAK_MARK, "").rstrip() for line in lines)

    def write_line(self, text: str, size: float, bold: bool = False, gap: float = 0.0) -> None:
        """A paragraph across the page, wrapped; never wider than the margins."""
        face = SANS_BOLD if bold else SANS
        self.set_font(face.family, face.style, size)
        self.multi_cell(0, size * LINE_HEIGHT, self.unbroken_addresses(printable(text), self.epw), align="L",
                        new_x="LMARGIN", new_y="NEXT")  # fmt: skip
        if gap:
            self.ln(gap)

    def grid(self, header: Sequence[str], rows: Sequence[Sequence[Cell]], widths: Sequence[float], size: float,
             heading_column: bool = False) -> None:  # fmt: skip
        """A table whose cells wrap; an alert cell is shaded, bold and dark red."""
        self.set_font(SANS.family, SANS.style, size)
        with self.table(col_widths=tuple(widths), width=sum(widths), align="LEFT", text_align="LEFT",
                        line_height=size * LINE_HEIGHT, padding=PADDING, headings_style=HEADING,
                        first_row_as_headings=bool(header), v_align="TOP") as table:  # fmt: skip
            if header:
                heading = table.row()
                for text in header:
                    heading.cell(printable(text))
            for row in _fitting_rows(rows, widths, size):
                line = table.row()
                for column, (cell, width) in enumerate(zip(row, widths)):
                    style = ALERT if cell.alert else (BOLD if heading_column and column == 0 else None)
                    face = SANS if style is None else SANS_BOLD
                    self.set_font(face.family, face.style, size)
                    line.cell(self.unbroken_addresses(cell.text, width - 2 * PADDING - 0.5), style=style)
                self.set_font(SANS.family, SANS.style, size)
        self.ln(2)

    def bullets(self, rows: Sequence[Sequence[Cell]], size: float) -> None:
        for [cell] in rows:
            face = SANS_BOLD if cell.alert else SANS
            self.set_font(face.family, face.style, size)
            if cell.alert:
                self.set_text_color(*ALERT_RGB)
            else:
                self.set_text_color(0)
            self.multi_cell(
                0,
                size * LINE_HEIGHT,
                self.unbroken_addresses("\u2022 " + printable(cell.text), self.epw),
                align="L",
                new_x="LMARGIN",
                new_y="NEXT",
            )
        self.set_text_color(0)
        self.ln(2)


ROW_MAX_MM = 120.0  # the tallest a table row is made: fpdf2 refuses a row taller than a page
EM_GUESS = 0.75  # a generous average glyph width in ems, so a chunk's lines are never underestimated


def _chunks(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, broken at spaces where there are any."""
    pieces = []
    while len(text) > limit:
        cut = text.rfind(" ", 0, limit + 1)
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*pieces, text]


def _fitting_rows(rows: Sequence[Sequence[Cell]], widths: Sequence[float], size: float) -> list[list[Cell]]:
    """The rows as printable text, a row with a very long cell split over several (the first cell of
    each further row saying "(continued)"), so that no row is taller than ROW_MAX_MM."""
    lines = int(ROW_MAX_MM / (size * LINE_HEIGHT))
    limits = [max(20, int((width - 2) / (size * PT * EM_GUESS)) * lines) for width in widths]
    out = []
    for row in rows:
        pieces = [_chunks(printable(cell.text), limit) for cell, limit in zip(row, limits)]
        for i in range(max(len(p) for p in pieces)):
            out.append([
                Cell(p[i] if i < len(p) else ("(continued)" if column == 0 else ""), cell.alert)
                for column, (cell, p) in enumerate(zip(row, pieces))
            ])  # fmt: skip
    return out


def make_pdf(title: str, footer: str, draw: Callable[[Document], None]) -> bytes:
    with ExitStack() as stack:
        # fpdf2 reads the font files lazily, up to output(): they must exist until then.
        document = Document(title, footer)
        for face in (SANS, SANS_BOLD):
            document.add_font(
                face.family, face.style, stack.enter_context(resources.as_file(font_file(face)))
            )
        draw(document)
        return bytes(document.output())


# --- the governors' register -------------------------------------------------------------------

# Landscape A4 is 297 mm wide: the summaries' columns in millimetres (275 mm between the margins).
GOVERNORS_WIDTHS = (44, 104, 27, 50, 22, 28)
SUMMARY_WIDTHS = (30, 30, 22, 18, 24, 22, 36, 22, 26, 45)
PAIR_WIDTHS = (44, 144)  # portrait A4: 188 mm between the margins
APPROVAL_WIDTHS = (20, 30, 24, 72, 20, 22)
CHANGE_WIDTHS = (20, 30, 38, 100)  # the facts the school recorded: when, by, item, what it says now
TABLE_WIDTHS = {len(widths): widths for widths in (APPROVAL_WIDTHS, CHANGE_WIDTHS)}  # by number of columns


FLOW_ROOM = 0.5  # a processor's record starts on the same page when more than this share of it is left
HEADING_ROOM = 25.0  # millimetres: a block's heading and its first lines, kept together


def _governors_page(pdf: Document, register: Register, audit: AuditCheck | None) -> None:
    """The one page governors read first (it fits one A4 page for a dozen processors)."""
    summary = governors_summary(register, audit)
    pdf.add_page(orientation="L")
    pdf.write_line(summary.school, 15, bold=True)
    pdf.write_line(summary.title, 12, bold=True, gap=2)
    pdf.grid(GOVERNORS_HEADER, summary.rows, GOVERNORS_WIDTHS, 8, heading_column=True)
    pdf.bullets([[line] for line in summary.lines], 8.5)


def _summary_page(pdf: Document, register: Register) -> None:
    pdf.add_page(orientation="L")
    school, title, check = title_lines(register)
    pdf.write_line(school, 15, bold=True)
    pdf.write_line(title, 12, bold=True, gap=1)
    pdf.write_line(check, 8, gap=2)
    pdf.grid(SUMMARY_HEADER, summary_rows(register), SUMMARY_WIDTHS, 6.5, heading_column=True)
    pdf.write_line("Key", 7, bold=True)
    for line in KEY:
        pdf.write_line(line, 6.5)


def _processor_page(pdf: Document, page: Page) -> None:
    """A processor's record: on a new portrait page, or after the one before when over half the page is left."""
    if pdf.cur_orientation.value != "P" or pdf.room < FLOW_ROOM * (pdf.h - 2 * MARGIN):
        pdf.add_page(orientation="P")
    elif pdf.get_y() > pdf.t_margin:
        pdf.ln(4)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(3)
    pdf.write_line(page.title, 14, bold=True)
    pdf.write_line(page.subtitle, 9, gap=2)
    for block in page.blocks:
        pdf.keep_room(HEADING_ROOM)
        pdf.write_line(block.title, 10.5, bold=True, gap=1)
        if not block.rows:
            pdf.bullets([[Cell(block.empty, block.empty_alert)]], 8)
        elif block.kind == "pairs":
            pdf.grid((), block.rows, PAIR_WIDTHS, 7.5, heading_column=True)
        elif block.kind == "table":
            pdf.grid(block.header, block.rows, TABLE_WIDTHS[len(block.header)], 7.5)
        else:
            pdf.bullets(block.rows, 8)


def register_pdf_bytes(register: Register, audit: AuditCheck | None = None) -> bytes:
    """The governors' register as an A4 PDF: the one-page summary for governors (with the state of
    the audit log, where ``audit`` is given), a summary table of every processor against the
    categories of data it holds (landscape), then each processor's record (portrait)."""
    school, title, _ = title_lines(register)

    def draw(pdf: Document) -> None:
        _governors_page(pdf, register, audit)
        _summary_page(pdf, register)
        for page in pages(register):
            _processor_page(pdf, page)

    return make_pdf(f"{school}: {title}", f"{school} \u00b7 {title}", draw)
