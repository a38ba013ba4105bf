"""Printable checklists (PDF and xlsx) for work the admin does by hand on a platform, such as
deleting leavers' accounts where the platform takes no bulk removal file.

The title wraps rather than running off the page (a platform's long name and the batch make it
long), and so does every cell: a name is never cut short on a list the admin acts on. The
column headings repeat on each page, and each page's foot names the list and its page.

A trust's leaver cleanup lists thousands of accounts on each of six platforms, so a checklist is
written as PDF operators (``pdfpages.PdfPages``, as the login cards are), each row measured once
with the slips' font metrics and wrapped at word breaks (a word wider than its cell breaks
inside it); its fonts are the subset of a common set of characters made once a process, so the
lists of one cleanup share it (a list printing a character beyond the set gets its own). Its xlsx
is written streamed (``provisioner/xlsx.py``), as the cards' is: openpyxl's work per cell took
most of a trust's cleanup.

A trust's cleanup draws its lists on the other core (``ChecklistWorker``): each list is drawn
there while this process records it in the state, and the worker, started with the cleanup, has
made the fonts' subset by the time the plan is made. Whether a list is drawn here or there, this
process writes its files, and before its record commits (``Pending.written``): the same crash
safety, the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path

from provisioner import files
from provisioner.pdfpages import PdfPages, face_glyphs, text_op
from provisioner.slips import PAGE_H, PT, SANS, SANS_BOLD, Face, metrics, printable, wrap
from provisioner.xlsx import Sheet, xlsx_bytes

MARGIN = 10.0
TOP = 12.0  # the first line's top, in millimetres from the page's top
BOTTOM = PAGE_H - 15  # the last row's lowest edge, above the footer
DONE_WIDTH = 12.0  # the tick box's column, in millimetres
TITLE_SIZE = 13
TITLE_LINE = 6.5
TEXT_SIZE = 9
LINE = 5.0  # millimetres per line of 9-point text
PAD = 1.0  # millimetres inside each cell's frame
FOOTER_SIZE = 7
# The characters nearly every list prints (English, Welsh and most European names, the usual
# punctuation): the fonts' subset of these is made once a process and shared by every list.
COMMON = frozenset(
    [chr(c) for c in range(0x20, 0x7F)] + [chr(c) for c in range(0xA0, 0x180)] + list("\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u00b7")
)
K = 72 / 25.4  # PDF points a millimetre
FACES_USED = (SANS, SANS_BOLD)  # the only faces a checklist draws with, and so embeds


class _Checklist:
    """One checklist's pages as operators: the title and instructions on the first page, the
    table's heading row at the top of each page's table, rows never split across pages."""

    def __init__(self, title: str, widths: Sequence[float]):
        self.title, self.widths = printable(title), widths
        self.fonts = {face: f"/F{number}" for number, face in enumerate(FACES_USED, start=1)}
        self.codes = {face: face_glyphs(face).codes for face in (SANS, SANS_BOLD)}
        self.used: set[str] = set()
        self.pages: list[list[str]] = []

    def text(self, face: Face, size: float, grey: int, x: float, baseline: float, text: str) -> str:
        self.used.update(text)
        return text_op(self.fonts[face], size, grey, x * K, (PAGE_H - baseline) * K, text.translate(self.codes[face]))

    def lines(self, face: Face, size: float, height: float, x: float, top: float, lines: list[str]) -> list[str]:
        """Lines of ``height`` mm from ``top``, each baseline placed as fpdf2's cells place it."""
        ops = []
        for line in lines:
            ops.append(self.text(face, size, 0, x, top + height / 2 + size * PT * 0.35, line))
            top += height
        return ops

    def cells(self, face: Face, row: Sequence[str]) -> list[list[str]]:
        return [wrap(text, face, TEXT_SIZE, width - 2 * PAD, words=True) if text else []
                for text, width in zip(row, self.widths)]  # fmt: skip

    def row(self, face: Face, cells: list[list[str]], top: float, height: float, fill: bool) -> str:
        """One row at ``top``: frames (grey-filled for the heading), then each cell's lines."""
        ops = ["q 0.57 w 0 G", f"{225 / 255:.3f} g" if fill else "0 g"]
        upper, x = (PAGE_H - top) * K, MARGIN
        for width in self.widths:
            ops.append(f"{x * K:.2f} {upper - height * K:.2f} {width * K:.2f} {height * K:.2f} re {'B' if fill else 'S'}")
            x += width
        x = MARGIN
        for lines, width in zip(cells, self.widths):
            ops += self.lines(face, TEXT_SIZE, LINE, x + PAD, top + PAD, lines)
            x += width
        ops.append("Q")
        return "\n".join(ops)

    def footer(self, page: int, of: int) -> str:
        """The list's title (cut to fit) and "Page 2 of 3", in grey at the page's foot."""
        measure = metrics(SANS).width
        width = 210 - 2 * MARGIN - 30
        title = self.title
        while title and measure(title, FOOTER_SIZE) > width - 2:
            title = title[:-2] + "\u2026"
        label = f"Page {page} of {of}"
        baseline = PAGE_H - 11 + 2.5 + FOOTER_SIZE * PT * 0.35
        return "\n".join([self.text(SANS, FOOTER_SIZE, 80, MARGIN + PAD, baseline, title),
                          self.text(SANS, FOOTER_SIZE, 80, 210 - MARGIN - PAD - measure(label, FOOTER_SIZE), baseline,
                                    label)])  # fmt: skip

    def draw(self, lines: Sequence[str], header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        width = 210 - 2 * MARGIN
        page = self.lines(SANS_BOLD, TITLE_SIZE, TITLE_LINE, MARGIN + PAD, TOP,
                          wrap(self.title, SANS_BOLD, TITLE_SIZE, width - 2 * PAD, words=True))  # fmt: skip
        y = TOP + TITLE_LINE * len(page) + 1
        for line in lines:
            wrapped = wrap(printable(line), SANS, TEXT_SIZE, width - 2 * PAD, words=True)
            page += self.lines(SANS, TEXT_SIZE, LINE, MARGIN + PAD, y, wrapped)
            y += LINE * len(wrapped)
        y += 2
        heading = self.cells(SANS_BOLD, [printable(text) for text in header])
        heading_h = max(1, *map(len, heading)) * LINE + 2 * PAD
        page.append(self.row(SANS_BOLD, heading, y, heading_h, fill=True))
        y += heading_h
        for values in rows:
            cells = self.cells(SANS, [printable(str(text)) for text in values])
            height = max(1, *map(len, cells)) * LINE + 2 * PAD
            if y + height > BOTTOM:
                self.pages.append(page)
                page = [self.row(SANS_BOLD, heading, TOP, heading_h, fill=True)]
                y = TOP + heading_h
            page.append(self.row(SANS, cells, y, height, fill=False))
            y += height
        self.pages.append(page)

    def output(self) -> bytes:
        document = PdfPages(self.title, faces=FACES_USED)
        for number, page in enumerate(self.pages, start=1):
            document.add_page("\n".join([*page, self.footer(number, len(self.pages))]))
        return document.output(COMMON if self.used <= COMMON else COMMON | self.used)


def checklist_pdf_bytes(title: str, lines: Sequence[str], header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """An A4 table with a tick box per row, under a title and a few lines of instructions."""
    width = 210 - 2 * MARGIN - DONE_WIDTH
    checklist = _Checklist(title, (DONE_WIDTH, *([width / len(header)] * len(header))))
    checklist.draw(lines, ["Done", *header], [["", *row] for row in rows])
    return checklist.output()


def checklist_bytes(title: str, lines: Sequence[str], header: Sequence[str],
                    rows: Sequence[Sequence[str]]) -> tuple[bytes, bytes]:  # fmt: skip
    """The checklist's PDF and xlsx, made in memory."""
    pdf = checklist_pdf_bytes(title, lines, header, rows)
    workbook = xlsx_bytes([Sheet("Checklist", ["Done", *header], [["", *row] for row in rows], orientation="portrait",
                                 footer=title)], streamed=True)  # fmt: skip
    return pdf, workbook


# A cleanup of a roster this large draws its lists in a worker. Starting one takes the other
# core about a second (more on a busy machine), the fonts' subset included: a trust's plan takes
# longer, so the worker is ready when the first list is; a school's is made sooner, and its
# lists waited for the worker (the deletions' day of 10,000 pupils on a busy machine: 2.7 to 4.2 s
# drawn here, 4.0 to 4.9 s by the worker).
WORKER_PUPILS = 20_000


class Pending:
    """A checklist being drawn, here or in a worker: ``written()`` writes its PDF then its xlsx
    (atomic, owner-only) once drawn, and returns when both are on disk. The files are always
    written by this process, so a cleanup killed while writing them is killed where it always was."""

    def __init__(self, pdf_path: Path, xlsx_path: Path, drawn: Future | Callable[[], tuple[bytes, bytes]]):
        self.paths, self._drawn = (pdf_path, xlsx_path), drawn

    def written(self) -> None:
        pdf, workbook = self._drawn.result() if isinstance(self._drawn, Future) else self._drawn()
        files.atomic_write_bytes(self.paths[0], pdf)
        files.atomic_write_bytes(self.paths[1], workbook)


class ChecklistWorker:
    """One process on the other core drawing checklists while this one records them. Started at
    the beginning of a trust's cleanup where deletions are due, so that its start-up and the
    fonts' subset are done by the time the first list is wanted; each list's rows reach it, and
    its files' bytes come back, through the pool's pipe, in memory. ``None`` where the roster
    is a school's (``for_roster``): its lists are drawn here."""

    def __init__(self, start_now: bool) -> None:
        from provisioner.workers import spawned_pool

        self._pool = spawned_pool(1, _make_fonts)  # a fresh interpreter, ended with the cleanup (see workers.py)
        if start_now:
            # A pool starts its process with the first piece of work it is given: given none
            # until the first list, the worker starts only then, and that list waits for its
            # start-up and the fonts (0.7 s of the deletions' day of 50,000 pupils, busy machine).
            self._pool.submit(int)

    @classmethod
    def for_roster(cls, pupils: int, lists_due: bool) -> ChecklistWorker | None:
        """``lists_due``: the state says this cleanup will draw lists (deletions are due), so the
        worker starts now; otherwise it starts with the first list, if any: most cleanups draw
        none, and leave the other core be."""
        return cls(lists_due) if pupils >= WORKER_PUPILS and (os.cpu_count() or 1) > 1 else None

    def draw(self, title: str, lines: Sequence[str], header: Sequence[str], rows: Sequence[Sequence[str]]) -> Future:
        return self._pool.submit(checklist_bytes, title, list(lines), list(header), list(rows))

    def close(self) -> None:
        """Let the worker go; a cleanup that wrote no list does not wait for its fonts."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def start_checklist(worker: ChecklistWorker | None, pdf_path: Path, xlsx_path: Path, title: str,
                    lines: Sequence[str], header: Sequence[str], rows: Sequence[Sequence[str]]) -> Pending:  # fmt: skip
    """Begin a checklist: drawn by ``worker`` if there is one, from now; otherwise here, when
    ``written()`` is called. Either way the caller records the list, then calls ``written()``,
    and commits the record only once the files are written."""
    if worker is not None:
        return Pending(pdf_path, xlsx_path, worker.draw(title, lines, header, rows))
    return Pending(pdf_path, xlsx_path, lambda: checklist_bytes(title, lines, header, rows))


def _make_fonts() -> None:
    """In the worker, first: the fonts' subset of the common characters every list shares."""
    from provisioner.pdfpages import embedded_fonts

    embedded_fonts(COMMON, FACES_USED)
