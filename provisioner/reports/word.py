"""Word documents: the privacy notice's sections (notice.py's content) ready to paste into the
school's notice, and the DPIA draft (dpia.py's content) for the DPO and the headteacher to
complete. A school edits these in Word, so they are real headings, paragraphs and tables,
in Word's own styles, rather than a layout to copy from.

A marked question (a "To decide", a gap) is bold and dark red on a light shaded cell, as in the
PDFs, so it still stands out printed in black and white. The document's properties name the
school, not the library that wrote it.
"""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import datetime, time, timezone

from docx import Document
from docx.enum.table import WD_ROW_HEIGHT_RULE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from provisioner.reports.content import Cell
from provisioner.reports.dpia import Dpia, Part
from provisioner.reports.notice import PROGRAMS, RIGHTS, SHARING, TABLE_HEADER, Entry, Notice

ALERT_RGB = RGBColor(150, 0, 0)  # as the PDFs' alert: dark red on a light fill
ALERT_FILL = "FFDEC8"
HEADING_FILL = "E1E1E1"
PAGE_WIDTH_CM = 17.0  # A4 with 2 cm margins
WHITESPACE = re.compile(r"\s+")
BOX_HEIGHT_CM = 1.3  # a sign-off box: room to write a name, a date or a signature


def _clean(text: str) -> str:
    """Text Word can hold: NFC, runs of whitespace one space, control and format characters
    dropped (XML refuses most of them)."""
    text = WHITESPACE.sub(" ", unicodedata.normalize("NFC", text))
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))


def _new(title: str, school: str, day) -> Document:
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = Cm(2)
    doc.styles["Normal"].font.size = Pt(10.5)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = _clean(title), _clean(school), _clean(school)
    props.comments = props.subject = props.keywords = props.category = ""
    props.created = props.modified = datetime.combine(day, time(), tzinfo=timezone.utc)
    props.revision = 1
    return doc


def _shade(cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _run(paragraph, text: str, bold: bool = False, alert: bool = False):
    run = paragraph.add_run(_clean(text))
    run.bold = bold or alert
    if alert:
        run.font.color.rgb = ALERT_RGB
    return run


def _fill(cell, content: Cell, bold: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    _run(paragraph, content.text, bold=bold, alert=content.alert)
    if content.alert:
        _shade(cell, ALERT_FILL)


def _table(doc, header: tuple[str, ...], rows: list[list[Cell]], widths: tuple[float, ...],
           first_bold: bool = False, box: bool = False) -> None:  # fmt: skip
    columns = len(widths) or max(len(header), max((len(r) for r in rows), default=1))
    shares = widths or tuple(1 / columns for _ in range(columns))
    table = doc.add_table(rows=0, cols=columns)
    table.style = "Table Grid"
    table.autofit = False
    if any(header):
        cells = table.add_row().cells
        for cell, text in zip(cells, header):
            _fill(cell, Cell(text), bold=True)
            _shade(cell, HEADING_FILL)
    for row in rows:
        added = table.add_row()
        if box:
            added.height, added.height_rule = Cm(BOX_HEIGHT_CM), WD_ROW_HEIGHT_RULE.AT_LEAST
        for column, (cell, content) in enumerate(zip(added.cells, row)):
            _fill(cell, content, bold=first_bold and column == 0)
    for row in table.rows:
        for cell, share in zip(row.cells, shares):
            cell.width = Cm(PAGE_WIDTH_CM * share)
    doc.add_paragraph()


# --- the privacy notice's sections ------------------------------------------------------------


def _entry(doc, entry: Entry) -> None:
    doc.add_heading(_clean(entry.name), level=2)
    for label, text in entry.items:
        paragraph = doc.add_paragraph()
        _run(paragraph, f"{label}: ", bold=True)
        _run(paragraph, text)


def notice_docx_bytes(notice: Notice) -> bytes:
    """The privacy notice's sections as a Word document: a heading for each section and each
    program, plain paragraphs, and a table of the programs and what each holds."""
    doc = _new(f"{notice.school}: privacy notice, {PROGRAMS.lower()}", notice.school, notice.as_of)
    doc.add_heading(PROGRAMS, level=1)
    doc.add_paragraph(_clean(notice.programs_intro))
    _table(doc, TABLE_HEADER, [[Cell(c) for c in row] for row in notice.table], (0.28, 0.22, 0.5), first_bold=True)
    for entry in notice.programs:
        _entry(doc, entry)
    doc.add_heading(SHARING, level=1)
    doc.add_paragraph(_clean(notice.sharing_intro))
    for entry in notice.recipients:
        _entry(doc, entry)
    doc.add_heading(RIGHTS, level=1)
    doc.add_paragraph(_clean(notice.rights))
    _run(doc.add_paragraph(), notice.closing).italic = True
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# --- the DPIA draft -----------------------------------------------------------------------------


def _part(doc, part: Part) -> None:
    if part.kind == "heading":
        doc.add_heading(_clean(part.rows[0][0].text), level=3)
    elif part.kind == "text":
        for [cell] in part.rows:
            _run(doc.add_paragraph(), cell.text, alert=cell.alert)
    elif part.kind == "list":
        for [cell] in part.rows:
            _run(doc.add_paragraph(style="List Bullet"), cell.text, alert=cell.alert)
    elif part.kind == "pairs":
        _table(doc, (), part.rows, part.widths, first_bold=True)
    else:
        _table(doc, part.header, part.rows, part.widths, box=part.kind == "signoff")


def dpia_docx_bytes(content: Dpia) -> bytes:
    """The DPIA draft as a Word document, for the school to complete: each ICO step a heading,
    the facts the tool knows, the marked questions, and the sign-off boxes."""
    doc = _new(content.title, content.school, content.today)
    doc.add_heading(_clean(content.title), level=0)
    doc.add_paragraph(_clean(content.subtitle))
    for line in content.intro:
        doc.add_paragraph(_clean(line))
    for step in content.steps:
        doc.add_heading(_clean(step.title), level=1)
        for part in step.parts:
            _part(doc, part)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
