"""The processor register as documents: a PDF and an HTML page for the governors, Markdown, an
xlsx for the data protection officer, the privacy notice's sections on pupils' programs and
data sharing, and the PDF answer to a pupil access request.

Every format is drawn from the same content (``_summary_rows`` and ``_pages``), so the PDF,
the HTML page and the Markdown cannot say different things. A gap (a fact "not found" or for
the "school to record") is highlighted with a shaded, bold cell that also says GAP in words,
so it still stands out when printed in black and white; so is anything overdue.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from provisioner import files
from provisioner.errors import UsageError
from provisioner.connector import MIS_SYNC
from provisioner.fields import CHARACTERISTICS, CONTACT, CREDENTIALS, FIELDS, IDENTIFIERS, SCHOOL, short_label
from provisioner.leavers import policy
from provisioner.register import ITEMS, Processor, Register, gap_kind
from provisioner.slips import PT, SANS, SANS_BOLD, font_file, printable
from provisioner.xlsx import Sheet, xlsx_bytes

CATEGORIES = (IDENTIFIERS, CHARACTERISTICS, CONTACT, SCHOOL, CREDENTIALS)
OTHER = "Other"
NONE_HELD = "\u2014"  # an em dash: a recipient outside this tool, whose holdings it cannot count
REVIEW_SOON = timedelta(days=60)  # a review this close shows as due, so governors can plan it
OTHER_MAX_CHARS = 80  # the summary shows the start of a recipient's other data; its page has it all
FORMATS = ("pdf", "html", "xlsx", "md", "notice")

SUMMARY_HEADER = ("Processor", *CATEGORIES, OTHER, "Pupils held now", "Gaps", "Status")
KEY = (
    (
        "Each category cell names the pupil data the processor holds (short labels; its own page lists them "
        "in full). A blank cell: nothing in that category."
    ),
    (
        f"Pupils held now: the accounts this tool's records show on the platform today. {NONE_HELD}: a "
        "recipient outside this tool, to which the school sends data another way."
    ),
    (
        "GAP: a fact the register does not have yet: ask the supplier or recipient, or the school records it. "
        "OVERDUE: deletions or a review past their date. Shaded, bold cells need action."
    ),
    (
        "Status: deletions awaited or overdue, the next review, and the register check's errors. A page for "
        "each processor follows, in the same order."
    ),
)

# Plain words for the privacy notice (the labels in provisioner.fields are for the register).
PLAIN: dict[str, str] = {
    "forename": "first name",
    "surname": "surname",
    "legal_forename": "legal first name",
    "legal_surname": "legal surname",
    "year_group": "year group",
    "class_name": "class",
    "date_of_birth": "date of birth",
    "gender": "gender",
    "email": "school email address",
    "upn": "Unique Pupil Number (the number every pupil in England has for school records)",
    "mis_id": "the school's admission number for your child",
    "pseudonymous_id": "a code number made for that program only, which does not show who your child is",
    "username": "a username",
    "password": "a first password (the school does not keep it)",
}

ACTIONS = {"create": "Account made", "update": "Updated", "disable": "Disabled", "delete": "Deleted",
           "restore": "Restored"}  # fmt: skip


# --- the content every format shares -----------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    text: str
    alert: bool = False  # a gap or something overdue: shaded and bold, and the text says so


@dataclass(frozen=True)
class Block:
    """One part of a processor's page: "pairs" (item, text), a "table" under ``header``, or a "list"."""

    title: str
    kind: str
    rows: list[list[Cell]]
    header: tuple[str, ...] = ()
    empty: str = ""  # shown instead of an empty table or list
    empty_alert: bool = False  # an empty block that needs action (nobody has approved the entry)


@dataclass(frozen=True)
class Page:
    title: str
    subtitle: str
    blocks: list[Block]


def long_date(day: date) -> str:
    """A date as a British reader writes it: 22 November 2026."""
    return f"{day.day} {day:%B %Y}"


def _when(stamp: str | None) -> str:
    """An ISO time stamp from the state, readable: 2026-11-22 09:30 UTC."""
    if not stamp:
        return "never"
    text = stamp.replace("T", " ")
    return f"{text[:16]} UTC" if text.endswith("+00:00") else text


def _labels(names: Iterable[str]) -> str:
    return ", ".join(short_label(n) for n in names) or "none"


def _asked(processor: Processor) -> str:
    """Who a fact not found is asked of: a platform's supplier, or the recipient itself."""
    return "supplier" if processor.entry.kind == "platform" else "recipient"


def _gap_words(kind: str, processor: Processor) -> str:
    """A gap's marker, in words as well as highlighted, for black-and-white print."""
    return f"GAP (ask the {_asked(processor)})" if kind == "supplier" else "GAP (school to record)"


def _title_lines(register: Register) -> tuple[str, str, str]:
    errors = sum(1 for p in register.problems if p.severity == "error")
    check = (
        "The register check passes."
        if register.ok
        else (
            f"The register check finds {errors} error{'s' if errors != 1 else ''} to fix (see each processor's page)."
        )
    )
    return register.school, f"Processor register as of {long_date(register.today)}", check


def _category_cells(processor: Processor) -> list[Cell]:
    """What the processor holds in each category; fields held but no longer sent are named as such."""
    held = list(processor.fields)
    stale = [n for n in (processor.evidence.fields_held if processor.evidence else []) if n not in held]
    cells = []
    for category in CATEGORIES:
        names = [short_label(n) for n in held if n in FIELDS and FIELDS[n].category == category]
        names += [f"{short_label(n)} (still held, no longer sent)" for n in stale
                  if n in FIELDS and FIELDS[n].category == category]  # fmt: skip
        cells.append(Cell(", ".join(names)))
    unknown = [n for n in held if n not in FIELDS]  # a check error; still shown, never dropped
    other = " ".join(x for x in (", ".join(unknown), processor.entry.other_data.strip()) if x)
    if len(other) > OTHER_MAX_CHARS:
        other = other[:OTHER_MAX_CHARS].rsplit(" ", 1)[0] + "\u2026 (see its page)"
    kind = gap_kind(processor.entry.other_data)
    cells.append(Cell(f"{_gap_words(kind, processor)}: {other}", True) if kind else Cell(other))
    return cells


def _gaps_cell(processor: Processor) -> Cell:
    gaps = processor.gaps()
    if not gaps:
        return Cell("None")
    supplier = sum(1 for _, kind in gaps if kind == "supplier")
    school = len(gaps) - supplier
    parts = [
        f"{supplier} ask {_asked(processor)}" if supplier else "",
        f"{school} school to record" if school else "",
    ]
    return Cell(f"{len(gaps)} GAP{'S' if len(gaps) != 1 else ''} ({', '.join(p for p in parts if p)})", True)


def _status(register: Register, processor: Processor) -> list[Cell]:
    """The things governors act on, each flagged where it is overdue or an error."""
    found: list[Cell] = []
    evidence = processor.evidence
    if processor.entry.kind == "platform" and not processor.enabled:
        found.append(Cell("switched off; still holds accounts"))
    if evidence and evidence.deletions_overdue:
        found.append(Cell(f"OVERDUE deletions: {evidence.deletions_overdue}", True))
    if evidence and evidence.awaiting_deletion:
        found.append(Cell(f"awaiting deletion: {evidence.awaiting_deletion}"))
    review = processor.next_review
    if review is None:
        found.append(Cell("NOT APPROVED yet", True))
    elif review < register.today.isoformat():
        found.append(Cell(f"review OVERDUE since {review}", True))
    elif review <= (register.today + REVIEW_SOON).isoformat():
        found.append(Cell(f"review due {review}"))
    else:
        found.append(Cell(f"next review {review}"))
    errors = [p for p in register.problems_of(processor.id) if p.severity == "error"]
    if errors:
        found.append(Cell(f"check ERRORS: {len(errors)}", True))
    return found


def _joined(cells: list[Cell]) -> Cell:
    return Cell("; ".join(c.text for c in cells), any(c.alert for c in cells))


def _pupils_held(processor: Processor) -> str:
    return str(processor.evidence.pupils_held) if processor.evidence else NONE_HELD


def _summary_rows(register: Register) -> list[list[Cell]]:
    """A row per processor, in SUMMARY_HEADER's columns."""
    return [
        [
            Cell(p.name),
            *_category_cells(p),
            Cell(_pupils_held(p)),
            _gaps_cell(p),
            _joined(_status(register, p)),
        ]
        for p in register.processors
    ]


def _item_rows(processor: Processor) -> list[list[Cell]]:
    rows = []
    for key, heading in ITEMS:
        text = processor.fact(key)
        # Processor.gaps() leaves out the data held, but a recipient's other data may be a gap.
        checked = {"fields": processor.entry.other_data, "review": ""}.get(key, text)
        kind = gap_kind(checked)
        if kind:
            rows.append([Cell(heading, True), Cell(f"{_gap_words(kind, processor)}: {text}", True)])
        else:
            rows.append(
                [Cell(heading), Cell(text or "(not recorded)", key == "review" and not processor.approvals)]
            )
    return rows


def _leaver_policy(processor: Processor) -> str | None:
    """How soon a leaver's account is disabled and deleted there, in words (platforms only)."""
    if processor.connector is None:
        return None
    disable_days, delete_days = policy(processor.connector)
    deleted = (
        "on the day the pupil leaves" if delete_days == 0 else f"{delete_days} days after the pupil leaves"
    )
    if disable_days is None:
        return f"deleted {deleted}"
    disabled = "on leaving" if disable_days == 0 else f"{disable_days} days after leaving"
    return f"disabled {disabled}, deleted {deleted}"


def _evidence_rows(processor: Processor) -> list[list[Cell]]:
    evidence = processor.evidence
    if evidence is None:
        return []
    held = [f"{FIELDS[n].label if n in FIELDS else n}" + ("" if n in processor.fields else " (no longer sent)")
            for n in evidence.fields_held]  # fmt: skip
    rows = [
        [Cell("Pupils held now"), Cell(str(evidence.pupils_held))],
        [Cell("Fields held now"), Cell(", ".join(held) or "none")],
        [Cell("Last provisioning run"), Cell(_when(evidence.last_provisioning))],
        [Cell("Last leaver cleanup"), Cell(_when(evidence.last_cleanup))],
        [Cell("Awaiting deletion"), Cell(str(evidence.awaiting_deletion))],
        [Cell("Deletions overdue"), _overdue_cell(evidence.deletions_overdue)],
    ]
    leaving = _leaver_policy(processor)
    if leaving:
        rows.append([Cell("Leaver policy"), Cell(leaving)])
    return rows


def _overdue_cell(count: int) -> Cell:
    return Cell(f"OVERDUE: {count}", True) if count else Cell("0")


def _approval_rows(processor: Processor) -> list[list[Cell]]:
    return [
        [Cell(a.approved_at[:10]), Cell(a.approved_by), Cell(a.role),
         Cell(f"{_labels(a.fields_before)} \u2192 {_labels(a.fields_after)}"), Cell(a.next_review), Cell(a.note)]
        for a in reversed(processor.approvals)  # the latest first: the one in force
    ]  # fmt: skip


def _problem_rows(register: Register, processor: Processor) -> list[list[Cell]]:
    rows = []
    for problem in register.problems_of(processor.id):
        error = problem.severity == "error"
        text = f"{'ERROR' if error else 'Warning'}: {problem.message}"
        rows.append([Cell(f"{text}. What to do: {problem.hint}" if problem.hint else text, error)])
    return rows


def _subtitle(processor: Processor) -> str:
    if processor.entry.kind == "recipient":
        return "Recipient: the school shares this data outside this tool."
    if processor.connector is None:
        return "Platform with no connector: the school sends its data by hand."
    state = "on" if processor.enabled else "switched off, but still holding accounts"
    return f"Platform: this tool makes and manages the accounts ({state})."


def _pages(register: Register) -> list[Page]:
    """A page per processor: its Article 30 record, evidence, approvals, check findings and sources."""
    pages = []
    for p in register.processors:
        blocks = [Block("Article 30 record", "pairs", _item_rows(p))]
        blocks.append(Block("Live evidence", "pairs", _evidence_rows(p),
                            empty="None: this tool does not send this data, so it holds no record of it."))  # fmt: skip
        blocks.append(Block("Approvals (latest first)", "table", _approval_rows(p),
                            ("Approved", "By", "Role", "Fields before \u2192 after", "Next review", "Note"),
                            "NOT APPROVED: nobody has approved the data this processor receives.", True))  # fmt: skip
        blocks.append(Block("Register check", "list", _problem_rows(register, p), empty="No problems found."))
        blocks.append(Block("Sources", "list", [[Cell(s)] for s in p.entry.sources], empty="None recorded."))
        pages.append(Page(p.name, _subtitle(p), blocks))
    return pages


# --- PDF ---------------------------------------------------------------------------------------

ALERT_RGB = (150, 0, 0)  # dark red on a light fill: still bold and shaded in black and white
ALERT = FontFace(emphasis="BOLD", color=ALERT_RGB, fill_color=(255, 222, 200))
HEADING = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))
BOLD = FontFace(emphasis="BOLD")
MARGIN = 11.0
LINE_HEIGHT = 0.45  # millimetres of line per point of font size (about 1.28 times the size)


class _Document(FPDF):
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

    def write_line(self, text: str, size: float, bold: bool = False, gap: float = 0.0) -> None:
        """A paragraph across the page, wrapped; never wider than the margins."""
        face = SANS_BOLD if bold else SANS
        self.set_font(face.family, face.style, size)
        self.multi_cell(0, size * LINE_HEIGHT, printable(text), align="L", new_x="LMARGIN", new_y="NEXT")
        if gap:
            self.ln(gap)

    def grid(self, header: Sequence[str], rows: Sequence[Sequence[Cell]], widths: Sequence[float], size: float,
             heading_column: bool = False) -> None:  # fmt: skip
        """A table whose cells wrap; an alert cell is shaded, bold and dark red."""
        self.set_font(SANS.family, SANS.style, size)
        with self.table(col_widths=tuple(widths), width=sum(widths), align="LEFT", text_align="LEFT",
                        line_height=size * LINE_HEIGHT, padding=0.8, headings_style=HEADING,
                        first_row_as_headings=bool(header), v_align="TOP") as table:  # fmt: skip
            if header:
                heading = table.row()
                for text in header:
                    heading.cell(printable(text))
            for row in _fitting_rows(rows, widths, size):
                line = table.row()
                for column, cell in enumerate(row):
                    style = ALERT if cell.alert else (BOLD if heading_column and column == 0 else None)
                    line.cell(cell.text, style=style)
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
                "\u2022 " + printable(cell.text),
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


def _pdf(title: str, footer: str, draw: Callable[[_Document], None]) -> bytes:
    with ExitStack() as stack:
        # fpdf2 reads the font files lazily, up to output(): they must exist until then.
        document = _Document(title, footer)
        for face in (SANS, SANS_BOLD):
            document.add_font(
                face.family, face.style, stack.enter_context(resources.as_file(font_file(face)))
            )
        draw(document)
        return bytes(document.output())


# Landscape A4 is 297 mm wide: the summary's columns in millimetres (275 mm between the margins).
SUMMARY_WIDTHS = (30, 30, 22, 18, 24, 22, 40, 14, 26, 49)
PAIR_WIDTHS = (44, 144)  # portrait A4: 188 mm between the margins
APPROVAL_WIDTHS = (20, 30, 24, 72, 20, 22)


def _summary_page(pdf: _Document, register: Register) -> None:
    pdf.add_page(orientation="L")
    school, title, check = _title_lines(register)
    pdf.write_line(school, 15, bold=True)
    pdf.write_line(title, 12, bold=True, gap=1)
    pdf.write_line(check, 8, gap=2)
    pdf.grid(SUMMARY_HEADER, _summary_rows(register), SUMMARY_WIDTHS, 6.5, heading_column=True)
    pdf.write_line("Key", 7, bold=True)
    for line in KEY:
        pdf.write_line(line, 6.5)


def _processor_page(pdf: _Document, page: Page) -> None:
    pdf.add_page(orientation="P")
    pdf.write_line(page.title, 14, bold=True)
    pdf.write_line(page.subtitle, 9, gap=2)
    for block in page.blocks:
        pdf.write_line(block.title, 10.5, bold=True, gap=1)
        if not block.rows:
            pdf.bullets([[Cell(block.empty, block.empty_alert)]], 8)
        elif block.kind == "pairs":
            pdf.grid((), block.rows, PAIR_WIDTHS, 7.5, heading_column=True)
        elif block.kind == "table":
            pdf.grid(block.header, block.rows, APPROVAL_WIDTHS, 7.5)
        else:
            pdf.bullets(block.rows, 8)


def register_pdf_bytes(register: Register) -> bytes:
    """The governors' register as an A4 PDF: a summary table of every processor against the
    categories of data it holds (landscape), then a portrait page or more per processor."""
    school, title, _ = _title_lines(register)

    def draw(pdf: _Document) -> None:
        _summary_page(pdf, register)
        for page in _pages(register):
            _processor_page(pdf, page)

    return _pdf(f"{school}: {title}", f"{school} \u00b7 {title}", draw)


# --- HTML --------------------------------------------------------------------------------------

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; margin: 1.5em; color: #000; }
h1 { font-size: 16pt; margin: 0; } h2 { font-size: 13pt; } h3 { font-size: 11pt; margin-bottom: 0.3em; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1em; }
th, td { border: 1px solid #555; padding: 3px 5px; text-align: left; vertical-align: top; }
th { background: #e1e1e1; }
table.summary { font-size: 8pt; }
table.pairs th { width: 25%; }
.alert { background: #ffdec8; color: #960000; font-weight: bold; }
.key { font-size: 8pt; }
a { color: inherit; word-break: break-all; }
@page { size: A4; margin: 12mm; }
@media print {
  body { margin: 0; }
  .summary-page { page: landscape; }
  section.processor { break-before: page; page-break-before: always; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  .alert { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
@page landscape { size: A4 landscape; }
"""


ALERT_CLASS = ' class="alert"'


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _td(cell: Cell, tag: str = "td") -> str:
    css = ALERT_CLASS if cell.alert else ""
    return f"<{tag}{css}>{_e(cell.text)}</{tag}>"


def _html_block(block: Block) -> list[str]:
    out = [f"<h3>{_e(block.title)}</h3>"]
    if not block.rows:
        css = ALERT_CLASS if block.empty_alert else ""
        return [*out, f"<p{css}>{_e(block.empty)}</p>"]
    if block.kind == "pairs":
        out.append('<table class="pairs">')
        out += [f"<tr>{_td(label, 'th')}{_td(value)}</tr>" for label, value in block.rows]
        return [*out, "</table>"]
    if block.kind == "table":
        out.append("<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in block.header) + "</tr>")
        out += ["<tr>" + "".join(_td(c) for c in row) + "</tr>" for row in block.rows]
        return [*out, "</table>"]
    items = []
    for [cell] in block.rows:
        text = cell.text
        if re.fullmatch(r"https?://\S+", text):  # a source: a link (never javascript: or the like)
            items.append(f'<li><a href="{_e(text)}">{_e(text)}</a></li>')
        else:
            items.append(f"<li{ALERT_CLASS if cell.alert else ''}>{_e(text)}</li>")
    return [*out, "<ul>", *items, "</ul>"]


def register_html(register: Register) -> str:
    """The same register as one self-contained, printable HTML page (each processor from a new page)."""
    school, title, check = _title_lines(register)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{_e(school)}: {_e(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        '<div class="summary-page">',
        f"<h1>{_e(school)}</h1>",
        f"<h2>{_e(title)}</h2>",
        f"<p>{_e(check)}</p>",
        '<table class="summary">',
        "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in SUMMARY_HEADER) + "</tr>",
    ]
    out += ["<tr>" + "".join(_td(c) for c in row) + "</tr>" for row in _summary_rows(register)]
    out += ["</table>", '<div class="key"><strong>Key</strong>', *(f"<p>{_e(line)}</p>" for line in KEY), "</div>",
            "</div>"]  # fmt: skip
    for page in _pages(register):
        out += ['<section class="processor">', f"<h2>{_e(page.title)}</h2>", f"<p>{_e(page.subtitle)}</p>"]
        for block in page.blocks:
            out += _html_block(block)
        out.append("</section>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


# --- Markdown ----------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Text for a Markdown table cell or line: one line, ``|`` escaped (it would end the cell),
    and ``<`` escaped so no renderer takes an entry's text for HTML."""
    flat = " ".join(text.split())
    return flat.replace("\\", "\\\\").replace("|", "\\|").replace("<", "\\<")


def _md_cell(cell: Cell) -> str:
    return f"**{_md(cell.text)}**" if cell.alert and cell.text else _md(cell.text)


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> list[str]:
    out = ["| " + " | ".join(_md(h) for h in header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]


def register_markdown(register: Register) -> str:
    """The same register in Markdown: the summary table, then a section per processor."""
    school, title, check = _title_lines(register)
    out = [f"# {_md(school)}: {_md(title)}", "", _md(check), "", "## Summary", ""]
    out += _md_table(SUMMARY_HEADER, _summary_rows(register))
    out += ["", "Key:", "", *(f"- {_md(line)}" for line in KEY), ""]
    for page in _pages(register):
        out += [f"## {_md(page.title)}", "", _md(page.subtitle), ""]
        for block in page.blocks:
            out += [f"### {_md(block.title)}", ""]
            if not block.rows:
                out += [_md(block.empty), ""]
            elif block.kind == "pairs":
                out += [*_md_table(("Item", "Record"), block.rows), ""]
            elif block.kind == "table":
                out += [*_md_table(block.header, block.rows), ""]
            else:
                out += [*(f"- {_md_cell(cell)}" for [cell] in block.rows), ""]
    return "\n".join(out)


# --- xlsx --------------------------------------------------------------------------------------

GOVERNORS_HEADER = ("Name", "Role", "Purpose", "Data held", "Pupils held now", "Gaps", "Gap items",
                    "Overdue deletions", "Next review")  # fmt: skip
EVIDENCE_HEADER = ("Pupils held now", "Fields held now", "Last provisioning run", "Last leaver cleanup",
                   "Awaiting deletion", "Deletions overdue", "Leaver policy")  # fmt: skip


def _pupils_cell(processor: Processor) -> int | str:
    return processor.evidence.pupils_held if processor.evidence else NONE_HELD


def _governors_row(processor: Processor) -> list[object]:
    gaps = processor.gaps()
    held = _labels(processor.fields) if processor.fields else ""
    other = processor.entry.other_data.strip()
    return [
        processor.name,
        processor.fact("role"),
        processor.fact("purpose"),
        f"{held}. Also: {other}" if held and other else (held or other or "none"),
        _pupils_cell(processor),
        len(gaps),
        "; ".join(
            f"{heading} ({_gap_words(kind, processor).removeprefix('GAP (')}" for heading, kind in gaps
        ),
        processor.evidence.deletions_overdue if processor.evidence else NONE_HELD,
        processor.next_review or "never approved",
    ]


def _full_row(register: Register, processor: Processor) -> list[object]:
    evidence = processor.evidence
    if evidence:
        held = ", ".join(f"{short_label(n)}{'' if n in processor.fields else ' (no longer sent)'}"
                         for n in evidence.fields_held)  # fmt: skip
        live = [evidence.pupils_held, held, _when(evidence.last_provisioning), _when(evidence.last_cleanup),
                evidence.awaiting_deletion, evidence.deletions_overdue, _leaver_policy(processor) or ""]  # fmt: skip
    else:
        live = [NONE_HELD] * len(EVIDENCE_HEADER)
    problems = "\n".join(f"{p.severity}: {p.message}" for p in register.problems_of(processor.id))
    return [
        processor.id,
        processor.name,
        processor.entry.kind,
        "yes" if processor.enabled else "no",
        *(processor.fact(key) for key, _ in ITEMS),
        *live,
        "; ".join(heading for heading, _ in processor.gaps()),
        problems,
        "\n".join(processor.entry.sources),
    ]


def register_xlsx_bytes(register: Register) -> bytes:
    """The register as an xlsx: "Governors" (a short row per processor) and "Full register" (every
    Article 30 item, the evidence, gaps and sources, for the data protection officer)."""
    governors = Sheet("Governors", GOVERNORS_HEADER, [_governors_row(p) for p in register.processors])
    full_header = ("Id", "Name", "Kind", "Enabled", *(heading for _, heading in ITEMS), *EVIDENCE_HEADER, "Gaps",
                   "Register check", "Sources")  # fmt: skip
    full = Sheet("Full register", full_header, [_full_row(register, p) for p in register.processors])
    return xlsx_bytes([governors, full])


# --- the privacy notice ------------------------------------------------------------------------

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")


def _known(text: str) -> tuple[str, bool]:
    """The sentences of ``text`` that are facts (no gap in them), and whether any were left out."""
    sentences = [s.strip() for s in SENTENCE_END.split(" ".join(text.split())) if s.strip()]
    kept = [s for s in sentences if gap_kind(s) is None]
    return " ".join(kept), len(kept) != len(sentences)


def _honest(text: str, holder: str) -> str:
    """A fact for parents: what is known, and for the rest that it is being confirmed with ``holder``
    (or recorded by the school), never a gap as if it were a fact."""
    known, left_out = _known(text)
    if not left_out:
        return known or "The school is recording this; ask the school office."
    kinds = {gap_kind(s) for s in SENTENCE_END.split(" ".join(text.split()))} - {None}
    who = f"we are confirming this with {holder}" if "supplier" in kinds else "the school is recording this"
    rest = f"{who[0].upper()}{who[1:]}." if not known else f"For the rest, {who}."
    return f"{known} {rest}".strip()


def _plain_list(names: Iterable[str]) -> str:
    words = [PLAIN.get(n, short_label(n).lower()) for n in names]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"


def _notice_retention(processor: Processor) -> str:
    """How long: the school's leaver policy for the platform, then what the supplier keeps."""
    lines = []
    if processor.connector is not None and processor.connector.mode == MIS_SYNC:
        lines.append(f"{processor.name} takes your child's details from the school's records system itself, and "
                     "ends your child's access when they leave.")  # fmt: skip
    elif processor.connector is not None:
        disable_days, delete_days = policy(processor.connector)
        deleted = ("on the day your child leaves the school" if delete_days == 0
                   else f"within {_days(delete_days)} of your child leaving the school")  # fmt: skip
        if disable_days is None:
            lines.append(f"The school deletes your child's account {deleted}.")
        else:
            switched = (
                "on the day they leave" if disable_days == 0 else f"{_days(disable_days)} after they leave"
            )
            lines.append(f"The school switches your child's account off {switched} and deletes it {deleted}.")
    lines.append(_honest(processor.fact("retention"), processor.name))
    return " ".join(lines)


def _platform_notice(processor: Processor) -> list[str]:
    name = processor.name
    data = _plain_list(processor.fields) or "nothing from your child's school record"
    out = [f"### {name}", "", f"- What it holds from your child's school record: {data}."]
    stale = [
        n for n in (processor.evidence.fields_held if processor.evidence else []) if n not in processor.fields
    ]
    if stale:
        out.append(f"- It may still hold your child's {_plain_list(stale)}, sent before the school stopped sending "
                   "it; this goes as accounts are updated or deleted.")  # fmt: skip
    if processor.entry.other_data.strip():
        out.append(f"- Also: {_honest(processor.entry.other_data, name)}")
    out += [
        f"- Why: {_honest(processor.fact('purpose'), name)}",
        f"- Where it is held: {_honest(processor.fact('hosting'), name)}",
        f"- How long: {_notice_retention(processor)}",
    ]
    if not processor.enabled:
        out.append(f"- The school has stopped adding pupils to {name}; it still holds accounts made earlier.")
    return [*out, ""]


def _recipient_notice(processor: Processor) -> list[str]:
    name = "them"  # "we are confirming this with them": a recipient's name may not read well mid-sentence
    parts = []
    if processor.fields:
        parts.append(f"your child's {_plain_list(processor.fields)}.")
    if processor.entry.other_data.strip():
        parts.append(_honest(processor.entry.other_data, name))
    data = " ".join(parts) or _honest("", name)
    why = _honest(processor.fact("purpose"), name)
    return [f"### {processor.name}", "", f"- What we share: {data}", f"- Why: {why}", ""]


def privacy_notice(register: Register) -> str:
    """The privacy notice's sections "Programs used by pupils" and "Who we share pupil data with",
    in plain words for parents. A gap in the register is never written as a fact: the notice says
    it is being confirmed instead."""
    school = register.school
    out = [
        "## Programs used by pupils",
        "",
        (
            f"Pupils at {school} use the online programs below in their learning. The school's appointed admin "
            "makes and manages each pupil's account, and sends each program as little of your child's data as "
            "it needs to work. Each account is deleted after your child leaves the school, as set out below."
        ),
        "",
    ]
    for processor in register.platforms():
        out += _platform_notice(processor)
    out += [
        "## Who we share pupil data with",
        "",
        "The school also shares pupil data with these organisations, outside the programs above:",
        "",
    ]
    for processor in register.recipients():
        out += _recipient_notice(processor)
    out += [
        "## Your rights",
        "",
        (
            "You can ask the school what data it and these organisations hold about your child, have anything "
            "wrong corrected, and ask for your child's data to be erased (deleted). To ask, contact the school "
            "office."
        ),
        "",
        f"(Taken from the school's processor register as of {long_date(register.today)}.)",
        "",
    ]
    return "\n".join(out)


# --- a pupil access request --------------------------------------------------------------------


def _long_iso(day: str) -> str:
    try:
        return long_date(date.fromisoformat(day))
    except ValueError:
        return day


def _values(fields: object) -> str:
    """A send's fields, readable: "Label: value" pairs, or labels where only names were kept."""
    if isinstance(fields, dict):
        return "; ".join(f"{short_label(k)}: {v}" for k, v in fields.items()) or "none"
    if isinstance(fields, list):
        return ", ".join(short_label(str(k)) for k in fields) or "none"
    return str(fields)


def _history_row(send: dict) -> list[Cell]:
    """One send about the pupil: when, what, and the values (an update: the ones it changed)."""
    action = send.get("action", "")
    values = send.get("changed") if action == "update" and send.get("changed") else send.get("fields")
    return [Cell(_when(send.get("at"))), Cell(ACTIONS.get(action, action)), Cell(_values(values))]


def _recipient_row(recipient: dict) -> list[Cell]:
    """A recipient outside this tool, with the data the register lists (never a gap as if a fact)."""
    listed = ", ".join(recipient.get("fields") or [])
    other = _honest(recipient.get("other_data") or "", "them") if recipient.get("other_data") else ""
    text = " ".join(x for x in (f"{listed}." if listed else "", other) if x)
    return [Cell(recipient.get("name", "")), Cell(text or "none")]


def _held_block(pdf: _Document, record: dict, deleted: bool) -> None:
    pdf.write_line(record.get("name", ""), 12, bold=True)
    facts = [f"Status: {record.get('status', '')}", f"Username: {record.get('username', '')}",
             f"Held since: {record.get('since', '') or 'unknown'}"]  # fmt: skip
    if deleted:
        facts.append(f"Deleted: {record.get('deleted', '') or 'date not recorded'}")
    pdf.write_line(" \u00b7 ".join(facts), 8.5, gap=1)
    from_mis = record.get("read_from_mis") or []
    rows = [[Cell(short_label(k)), Cell("Read by the platform from the MIS; no copy here" if k in from_mis else str(v))]
            for k, v in (record.get("fields") or {}).items()]  # fmt: skip
    rows += [
        [Cell(short_label(k)), Cell(f"Not kept: {why}")] for k, why in (record.get("not_kept") or {}).items()
    ]
    if rows:
        pdf.write_line("Last sent" if deleted else "Held now, exactly as sent", 9, bold=True)
        pdf.grid(("Field", "Value"), rows, PAIR_WIDTHS, 8)
    history = record.get("history") or []
    if history:
        pdf.write_line("History", 9, bold=True)
        pdf.grid(("When", "What", "Data"), [_history_row(h) for h in history], (38, 26, 122), 7.5)
    pdf.ln(2)


def access_pdf_bytes(report: dict) -> bytes:
    """An A4 PDF of ``subject_requests.access_report``: what each processor holds about one pupil
    (the exact values, since when, and every send), what was deleted and when, and the
    recipients outside this tool. It holds pupil data: the caller writes it owner-only."""
    pupil = str(report.get("pupil", ""))
    school = str(report.get("school", ""))
    as_of = str(report.get("as_of", ""))
    title = f"What we hold about pupil {pupil}"

    def draw(pdf: _Document) -> None:
        pdf.add_page()
        pdf.write_line(title, 15, bold=True)
        pdf.write_line(f"{school} \u00b7 as of {_long_iso(as_of)}", 10, gap=1)
        pdf.write_line("Every value below is exactly what this tool's records show was sent to each platform. "
                       "Passwords are never kept.", 8.5, gap=2)  # fmt: skip
        if report.get("erasure_requested"):
            pdf.bullets(
                [[Cell("An erasure has been requested for this pupil: no new accounts are made.", True)]], 9
            )
        pdf.write_line("Platforms holding data now", 11.5, bold=True, gap=1)
        processors = report.get("processors") or {}
        if not processors:
            pdf.write_line("None.", 9, gap=2)
        for record in processors.values():
            _held_block(pdf, record, deleted=False)
        removed = report.get("deleted") or {}
        if removed:
            pdf.write_line("Accounts deleted", 11.5, bold=True, gap=1)
            for record in removed.values():
                _held_block(pdf, record, deleted=True)
        others = report.get("other_recipients") or []
        if others:
            pdf.write_line("Shared outside this tool", 11.5, bold=True)
            pdf.write_line("The school's register names these recipients. This tool cannot see what the school's "
                           "MIS sent them; ask the school office for those records.", 8.5, gap=1)  # fmt: skip
            rows = [_recipient_row(recipient) for recipient in others]
            pdf.grid(("Recipient", "Data the register lists"), rows, PAIR_WIDTHS, 8)

    return _pdf(title, f"{title} \u00b7 {school} \u00b7 PRIVATE: holds a pupil's personal data", draw)


# --- files -------------------------------------------------------------------------------------


def default_name(register: Register, fmt: str) -> str:
    """The file name a format is written under by default, dated as of the register."""
    day = register.today.isoformat()
    if fmt == "notice":
        return f"privacy-notice-section-{day}.md"
    _check_format(fmt)
    return f"processor-register-{day}.{fmt}"


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"unknown register format '{fmt}'", hint=f"use one of: {', '.join(FORMATS)}")


def write_register(register: Register, fmt: str, path: Path) -> Path:
    """Write the register (or the privacy notice's sections) as ``fmt`` to ``path``, atomically;
    the whole document is made in memory first, so a failure leaves any old file as it was."""
    _check_format(fmt)
    if fmt == "pdf":
        files.atomic_write_bytes(path, register_pdf_bytes(register))
    elif fmt == "xlsx":
        files.atomic_write_bytes(path, register_xlsx_bytes(register))
    elif fmt == "html":
        files.atomic_write_text(path, register_html(register))
    elif fmt == "md":
        files.atomic_write_text(path, register_markdown(register))
    else:
        files.atomic_write_text(path, privacy_notice(register))
    return path
