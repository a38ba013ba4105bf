"""The processor register as one self-contained, printable HTML page, drawn from the shared
content (content.py): the summary table, then a section per processor, each from a new page
when printed.
"""

from __future__ import annotations

import html
import re

from provisioner.register import Register
from provisioner.reports.content import KEY, SUMMARY_HEADER, Block, Cell, pages, summary_rows, title_lines

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
    school, title, check = title_lines(register)
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
    out += ["<tr>" + "".join(_td(c) for c in row) + "</tr>" for row in summary_rows(register)]
    out += ["</table>", '<div class="key"><strong>Key</strong>', *(f"<p>{_e(line)}</p>" for line in KEY), "</div>",
            "</div>"]  # fmt: skip
    for page in pages(register):
        out += ['<section class="processor">', f"<h2>{_e(page.title)}</h2>", f"<p>{_e(page.subtitle)}</p>"]
        for block in page.blocks:
            out += _html_block(block)
        out.append("</section>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
