"""The processor register in Markdown, drawn from the shared content (content.py): the summary
table, then a section per processor.
"""

from __future__ import annotations

from collections.abc import Sequence

from provisioner.register import Register
from provisioner.reports.content import KEY, SUMMARY_HEADER, Cell, pages, summary_rows, title_lines


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
    school, title, check = title_lines(register)
    out = [f"# {_md(school)}: {_md(title)}", "", _md(check), "", "## Summary", ""]
    out += _md_table(SUMMARY_HEADER, summary_rows(register))
    out += ["", "Key:", "", *(f"- {_md(line)}" for line in KEY), ""]
    for page in pages(register):
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
