"""One login card per child (the default): every platform on which the child got a new password
in an apply, a row each (the platform and its website, the school code where the platform asks
for one, the username as the child types it, and the password), so a child on six platforms has
one card to keep, not six.

How an apply's batch of cards is written (a school's one PDF, a trust's files of whole classes
drawn in worker processes, and the xlsx) is card_batches.py's. Each card's fixed parts are
drawn once (a form) and stamped; only the child's own text is set per card, and the file is
written directly (pdfpages.py), every file of a batch embedding the same font subsets, made once
a process. The fonts, the fitting of text and the order of
classes and names are the per-platform slips' (slips.py), so the two layouts print alike.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from typing import NamedTuple

from provisioner.pdfpages import PdfPages, face_glyphs, text_op
from provisioner.slips import (
    BASELINE, CUT_NOTE, FACES, Face, GRID_BOTTOM, GRID_TOP, LINE, MARGIN, MONO, MONO_BOLD, NO_CLASS, PAD, PAGE_H, PAGE_W, PRIVACY_NOTE, PT, REPLACEMENT, SANS, SANS_BOLD, Slip, class_key, credential_face, fit, metrics, name_key, printable,
)  # fmt: skip

FULL_W = PAGE_W - 2 * MARGIN
CARD_NAME_H = 9.5
CARD_CLASS_W = 40.0
# A row per platform: a small label over each grey field, then a gap to the next row.
ROW_LABEL_H, ROW_BOX_H, ROW_GAP = 3.2, 8.0, 1.5
ROW_H = ROW_LABEL_H + ROW_BOX_H + ROW_GAP
PLATFORM_W = 58.0
CODE_W = 27.0
PASSWORD_W = 42.0
COL_GAP = 2.0
PLATFORM_NAME_BOX = (4.2, 10.5, 6.0)
PLATFORM_URL_BOX = (ROW_H - PLATFORM_NAME_BOX[0] - ROW_GAP, 8.5, 5.0)
CODE_BOX = (ROW_BOX_H, 13.0, 6.0)
TYPED_BOX = (ROW_BOX_H, 15.0, 6.0)  # 15 pt monospace bold for what the child types
CARDS_TOP = GRID_TOP
CARDS_BOTTOM = GRID_BOTTOM


class CardRow(NamedTuple):
    """What a card's row prints of a slip: a worker drawing a trust's cards is sent these, as
    plain tuples (``packed``), not the slips, whose pickling and unpickling took half as long as
    drawing them."""

    platform: str
    sign_in_url: str
    school_code: str
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class Card:
    """One child's card: their name and class, and a slip (a row) for each platform (in a worker,
    a ``CardRow`` each)."""

    display_name: str
    class_name: str
    rows: tuple[Slip, ...] | tuple[CardRow, ...]

    @property
    def height(self) -> float:
        return 2 * PAD + CARD_NAME_H + len(self.rows) * ROW_H

    @property
    def order(self) -> tuple:
        return name_key(self.rows[0])


def cards_of(slips: Sequence[Slip]) -> list[tuple[str, list[Card]]]:
    """(class heading, its cards) in print order: one card per child (``Slip.card``, else the
    name and class), classes naturally, surname then forename within a class, and each card's
    rows in platform order."""
    by_child: dict[tuple[str, str], list[Slip]] = {}
    for slip in slips:
        by_child.setdefault((slip.card or slip.display_name, slip.class_name.strip()), []).append(slip)
    cards = []
    for rows in by_child.values():
        rows.sort(key=lambda s: (s.platform.casefold(), s.platform, s.username))
        first = rows[0]
        cards.append(Card(first.display_name, first.class_name.strip(), tuple(rows)))
    classes: dict[str, list[Card]] = {}
    for card in cards:
        classes.setdefault(card.class_name, []).append(card)
    return [(name or NO_CLASS, sorted(classes[name], key=lambda c: c.order)) for name in sorted(classes, key=class_key)]


def card_pages(cards: list[Card]) -> Iterator[list[Card]]:
    """Cards stacked down the page as many as fit, in order."""
    page: list[Card] = []
    used = 0.0
    for card in cards:
        if page and used + card.height > CARDS_BOTTOM - CARDS_TOP:
            yield page
            page, used = [], 0.0
        page.append(card)
        used += card.height
    if page:
        yield page


class CardsPdf:
    """The combined layout: full-width cards stacked down the page, a row per platform.

    A trust's apply prints tens of thousands of rows, so a page is written as PDF drawing
    operators (``pdfpages.PdfPages``), as fpdf2's calls drew it: the parts of a row that are the
    same on every card (the platform's name and address, the small labels, the grey fields) are
    drawn once and stamped at each row's place; only the child's own text (name, class, username,
    password, school code) is set per card. Each card is one self-contained graphics state
    (``q`` ... ``Q``). The page header, the notes and the cut lines are the per-platform slips'.
    """

    def __init__(self, school: str, with_codes: bool):
        self.school = printable(school)
        self.document = PdfPages(f"Login cards: {self.school}")
        self.with_codes = with_codes
        self.platforms: dict[tuple[str, str], tuple] = {}
        self.stamps: dict[tuple[str, str, tuple[bool, ...]], str] = {}  # a row's fixed parts: the form's name
        self.places: dict[tuple[float, float], tuple[str, list[str]]] = {}  # see ``row``
        inner = FULL_W - 2 * PAD
        taken = PLATFORM_W + PASSWORD_W + (CODE_W + COL_GAP if with_codes else 0) + 2 * COL_GAP
        self.username_w = inner - taken
        # The fields a row prints, left to right: (label, width, box).
        self.fields = [("Username", self.username_w, TYPED_BOX), ("Password", PASSWORD_W, TYPED_BOX)]
        if with_codes:
            self.fields.insert(0, ("School code", CODE_W, CODE_BOX))
        self.k = 72 / 25.4  # PDF points a millimetre
        self.page_top = PAGE_H * self.k  # a page's top edge, in PDF points from the bottom
        self.fonts = {face: f"/F{number}" for number, face in enumerate(FACES, start=1)}
        self.used: set[str] = set()  # every character drawn
        self.codes = {face: face_glyphs(face).codes for face in FACES}
        self.school_lines: dict[str, list[str]] = {}  # by page label: the school's name and the label
        self.subtitles: dict[str, list[str]] = {}  # the class's
        self.notes: list[str] = []
        # For the usual typed value (``row``): per field, its label, width and box; where its text
        # starts; the operator up to its baseline; the baseline below the row's top; and whether
        # a line at the box's largest size fits its height.
        self.mono, self.mono_advance = metrics(MONO_BOLD).chars, metrics(MONO_BOLD).by_char
        self.typed_fields = []
        left = MARGIN + PAD + PLATFORM_W + COL_GAP  # a row starts at the card's inner edge (``card_of``)
        for what, width, box in self.fields:
            step = box[1] * PT * LINE
            prefix = f"BT {self.fonts[MONO_BOLD]} {box[1]:.2f} Tf {0 / 255:.3f} g {(left + 1.5) * self.k:.2f} "
            below_top = ROW_LABEL_H + (box[0] - step) / 2 + step * BASELINE
            self.typed_fields.append((what, width, box, left + 1.5, prefix, below_top, step <= box[0]))
            left += width + COL_GAP

    def stack(self, heading: str, platforms: str, page: int, of: int, cards: list[Card]) -> None:
        ops = self.header(heading, platforms, page, of)
        y = CARDS_TOP
        edges = []
        for card in cards:
            ops += self.card_of(card, y)
            edges.append((y, y + card.height))
            y += card.height
        ops += self.card_lines(edges)
        self.document.add_page("\n".join(ops))

    def header(self, heading: str, platforms: str, page: int, of: int) -> list[str]:
        """The school, the page's number, the class and its platforms, and the two notes
        (``SlipsPdf.page``); each part fitted once, for the many pages that share it."""
        label = f"Page {page} of {of}"
        if label not in self.school_lines:
            label_w = metrics(SANS_BOLD).width(label, 10)
            self.school_lines[label] = [
                *self.one_line(SANS_BOLD, self.school, MARGIN, MARGIN, PAGE_W - 2 * MARGIN - label_w - 4, (7, 13, 8)),
                self.text_op(SANS_BOLD, 10, 0, PAGE_W - MARGIN - label_w, MARGIN + 5, label, (0.0, self.page_top)),
            ]
        subtitle = f"{heading} \u00b7 {platforms}"
        if subtitle not in self.subtitles:
            self.subtitles = {subtitle: self.one_line(SANS, subtitle, MARGIN, MARGIN + 7, PAGE_W - 2 * MARGIN,
                                                      (5.5, 11, 7))}  # fmt: skip
        if not self.notes:
            self.notes = [self.text_op(SANS, 8, 90, MARGIN, GRID_TOP - 2, CUT_NOTE, (0.0, self.page_top)),
                          self.text_op(SANS, 8, 90, MARGIN, PAGE_H - MARGIN, PRIVACY_NOTE, (0.0, self.page_top))]  # fmt: skip
        return ["2 J", "0.57 w", *self.school_lines[label], *self.subtitles[subtitle], *self.notes]

    def one_line(self, face: Face, text: str, x: float, top: float, width: float, box) -> list[str]:
        size, lines = fit(text, face, width, box, words=True, shorten=True, max_lines=1)
        return self.lines_ops(face, size, 0, x, top, box[0], lines, (0.0, self.page_top))

    def card_lines(self, edges: list[tuple[float, float]]) -> list[str]:
        """Dashed lines round each card (a shared edge once), scissors in the margin."""
        k, top = self.k, self.page_top
        x0, x1 = MARGIN * k, (PAGE_W - MARGIN) * k
        across = sorted({y for edge in edges for y in edge})
        ops = ["0.4706 G", "0.71 w", "[5.669 4.252] 0.000 d"]
        ops += [f"{x0:.2f} {top - y * k:.2f} m {x1:.2f} {top - y * k:.2f} l S" for y in across]
        for upper, lower in edges:
            ops.append(f"{x0:.2f} {top - upper * k:.2f} m {x0:.2f} {top - lower * k:.2f} l S")
            ops.append(f"{x1:.2f} {top - upper * k:.2f} m {x1:.2f} {top - lower * k:.2f} l S")
        ops.append("[] 0 d")
        ops += [self.text_op(SANS, 9, 120, MARGIN - 6.5, y + 1.2, "\u2702", (0.0, top)) for y in across]
        return ops

    def output(self, chars: frozenset[str]) -> bytes:
        """The file, its fonts holding ``chars`` (and any other character drawn: it still prints,
        at the cost of fonts made for this file alone)."""
        return self.document.output(chars if self.used <= chars else chars | self.used)

    # Operators. Positions are in millimetres from an origin's top left, as fpdf2's are; ``origin``
    # is that point in PDF points (x, and y from the page's foot).

    def text_op(self, face: Face, size: float, grey: int, x: float, baseline: float, text: str,
                origin: tuple[float, float]) -> str:  # fmt: skip
        """``text`` on a baseline, as ``FPDF.text`` writes it."""
        self.used.update(text)
        return text_op(self.fonts[face], size, grey, origin[0] + x * self.k, origin[1] - baseline * self.k,
                       text.translate(self.codes[face]))  # fmt: skip

    def lines_ops(self, face: Face, size: float, grey: int, x: float, top: float, height: float, lines: list[str],
                  origin: tuple[float, float]) -> list[str]:  # fmt: skip
        """Lines centred vertically in a box, as ``SlipsPdf.lines`` draws them."""
        step = size * PT * LINE
        y = top + (height - step * len(lines)) / 2
        ops = []
        for line in lines:
            ops.append(self.text_op(face, size, grey, x, y + step * BASELINE, line, origin))
            y += step
        return ops

    def field_op(self, x: float, top: float, width: float, height: float, origin: tuple[float, float]) -> str:
        """A grey field with corners rounded 1.2 mm, filled (``FPDF.rect(..., round_corners=True)``)."""
        k, r = self.k, 1.2 * self.k
        left, right = origin[0] + x * k, origin[0] + (x + width) * k
        upper, lower = origin[1] - top * k, origin[1] - (top + height) * k
        c = r * 0.5523  # a quarter circle as one Bézier curve
        return (f"{236 / 255:.3f} g {left + r:.2f} {upper:.2f} m {right - r:.2f} {upper:.2f} l "
                f"{right - r + c:.2f} {upper:.2f} {right:.2f} {upper - r + c:.2f} {right:.2f} {upper - r:.2f} c "
                f"{right:.2f} {lower + r:.2f} l "
                f"{right:.2f} {lower + r - c:.2f} {right - r + c:.2f} {lower:.2f} {right - r:.2f} {lower:.2f} c "
                f"{left + r:.2f} {lower:.2f} l "
                f"{left + r - c:.2f} {lower:.2f} {left:.2f} {lower + r - c:.2f} {left:.2f} {lower + r:.2f} c "
                f"{left:.2f} {upper - r:.2f} l "
                f"{left:.2f} {upper - r + c:.2f} {left + r - c:.2f} {upper:.2f} {left + r:.2f} {upper:.2f} c f")

    def card_of(self, card: Card, top: float) -> list[str]:
        x, y = MARGIN + PAD, top + PAD
        page = (0.0, self.page_top)
        inner = FULL_W - 2 * PAD
        name_w = inner - CARD_CLASS_W - COL_GAP
        name = printable(card.display_name)
        size, lines = fit(name, SANS_BOLD, name_w, (CARD_NAME_H, 18.0, 9.0), words=True, shorten=True,
                          wrap_below=12)  # fmt: skip
        ops = ["q", *self.lines_ops(SANS_BOLD, size, 0, x, y, CARD_NAME_H, lines, page)]
        if card.class_name:
            label = f"Class {printable(card.class_name)}"
            size, lines = fit(label, SANS_BOLD, CARD_CLASS_W, (CARD_NAME_H, 12.0, 7.0), words=True, shorten=True,
                              max_lines=1)  # fmt: skip
            baseline = y + (CARD_NAME_H - size * PT * LINE) / 2 + size * PT * LINE * BASELINE
            ops.append(self.text_op(SANS_BOLD, size, 70, x + inner - metrics(SANS_BOLD).width(lines[0], size),
                                    baseline, lines[0], page))  # fmt: skip
        y += CARD_NAME_H
        for row in card.rows:
            ops += self.row(row, x, y)
            y += ROW_H
        ops.append("Q")
        return ops

    def columns(self, slip: Slip) -> list[tuple[str, str, float, tuple[float, float, float]]]:
        """The fields a row prints, left to right: (label, value, width, box); a field without a value is left blank."""
        return [(what, value, width, box) for (what, width, box), value in zip(self.fields, self.values(slip))]

    def values(self, slip: Slip) -> tuple[str, ...]:
        return (slip.school_code, slip.username, slip.password) if self.with_codes else (slip.username, slip.password)

    def row(self, slip: Slip, x: float, top: float) -> list[str]:
        """A row's operators: its fixed parts stamped at its place, then the child's values.

        A value is drawn as ``typed`` and ``lines_ops`` would draw it; the usual one (a line at
        the largest size, in monospace) in a few string operations, its field's parts made once."""
        values = self.values(slip)
        key = (slip.platform, slip.sign_in_url, tuple(map(bool, values)))
        if key not in self.stamps:
            self.stamps[key] = self.stamp(slip, self.columns(slip))
        place = self.places.get((x, top))
        if place is None:  # a row's position, and its fields' baselines, as operators: the same on many pages
            place = self.places[x, top] = (
                f"q 1 0 0 1 {x * self.k:.2f} {self.page_top - top * self.k:.2f} cm ",
                [f"{prefix}{self.page_top - (top + below_top) * self.k:.2f} Td <"
                 for _, _, _, _, prefix, below_top, _ in self.typed_fields],
            )  # fmt: skip
        ops = [f"{place[0]}{self.stamps[key]} Do Q"]
        mono, codes, used = self.mono, self.codes[MONO_BOLD], self.used
        for field, value, start in zip(self.typed_fields, values, place[1]):
            if not value:
                continue
            what, width, box, left, prefix, below_top, one_line = field
            if one_line and value.isprintable() and mono.issuperset(value) and value == value.strip() \
                    and sum(map(self.mono_advance.__getitem__, value)) * box[1] * PT <= width - 3:  # fmt: skip
                used.update(value)
                ops.append(f"{start}{value.translate(codes)}> Tj ET")
            else:
                face, size, lines = self.typed(what, value, width, box)
                ops += self.lines_ops(face, size, 0, left, top + ROW_LABEL_H, box[0], lines, (0.0, self.page_top))
        return ops

    def stamp(self, slip: Slip, columns) -> str:
        """The parts of a row that every card shares, drawn once at the origin as a form (its name
        returned): the platform's name and address, and each field's label and grey box."""
        origin = (0.0, 0.0)
        (size, lines), url = self.platform_of(slip.platform, slip.sign_in_url)
        ops = self.lines_ops(SANS_BOLD, size, 0, 0, 0, PLATFORM_NAME_BOX[0], lines, origin)
        if url is not None:
            face, size, lines = url
            ops += self.lines_ops(face, size, 0, 0, PLATFORM_NAME_BOX[0], PLATFORM_URL_BOX[0], lines, origin)
        x = PLATFORM_W + COL_GAP
        for what, value, width, box in columns:
            if value:
                ops += self.lines_ops(SANS, 7.5, 90, x, 0, ROW_LABEL_H, [what], origin)
                ops.append(self.field_op(x, ROW_LABEL_H, width, box[0], origin))
            x += width + COL_GAP
        return self.document.add_form("\n".join(ops), (-5.0, -ROW_H * self.k - 5, FULL_W * self.k + 5, 5.0))

    def platform_of(self, platform: str, url: str) -> tuple[tuple[float, list[str]], tuple[Face, float, list[str]] | None]:
        """A platform's name and sign-in address as they print (the same on every card, so fitted once)."""
        if (platform, url) not in self.platforms:
            name = fit(printable(platform), SANS_BOLD, PLATFORM_W, PLATFORM_NAME_BOX, words=True, shorten=True,
                       max_lines=1)  # fmt: skip
            fitted = None
            if url:
                face = MONO if credential_face("sign-in address", url) == MONO_BOLD else SANS
                address = fit(url, face, PLATFORM_W, PLATFORM_URL_BOX, words=False, shorten=False, wrap_below=7)
                if address is None:
                    raise ValueError("the sign-in address is too long to print on a slip")
                fitted = (face, *address)
            self.platforms[(platform, url)] = (name, fitted)
        return self.platforms[(platform, url)]

    def typed(self, what: str, value: str, width: float, box) -> tuple[Face, float, list[str]]:
        """A value the child types, fitted to its grey field as it must be typed. Most values fit
        on one line at the largest size, which is all ``fit`` would try first."""
        face = credential_face(what.lower(), value)
        largest = box[1]
        if (value == value.strip() and largest * PT * LINE <= box[0]
                and metrics(face).width(value, largest) <= width - 3):  # fmt: skip
            return face, largest, [value]
        fitted = fit(value, face, width - 3, box, words=False, shorten=False, wrap_below=8)
        if fitted is None:
            raise ValueError(f"a {what.lower()} is too long to print on a slip")
        return (face, *fitted)


def printed_chars(school: str, groups: list[tuple[str, list[Card]]]) -> frozenset[str]:
    """Every character the cards of ``groups`` can print (the fonts embed these): the school's,
    the children's and the platforms' text as printed (NFC), and the cards' own words and marks."""
    values = attrgetter("display_name", "class_name", "platform", "sign_in_url", "school_code", "username", "password")
    chars = set(unicodedata.normalize("NFC", school))
    for _, cards in groups:  # a class at a time: a trust's text joined whole would be tens of megabytes
        # Each distinct value once: a class's rows repeat its name, the platforms' names and addresses.
        distinct = set(chain.from_iterable(map(values, (row for card in cards for row in card.rows))))
        chars.update(unicodedata.normalize("NFC", "\n".join(distinct)))  # each value as printed ("\n" keeps them apart)
    chars.discard("\n")
    own = f"{CUT_NOTE}{PRIVACY_NOTE}Page of 0123456789 Class: {NO_CLASS} \u00b7, School code Username Password " \
          f"\u2026{REPLACEMENT}"  # fmt: skip
    return frozenset(chars) | frozenset(own)


def cards_pdf_bytes(school: str, groups: list[tuple[str, list[Card]]], with_codes: bool | None = None,
                    chars: frozenset[str] | None = None) -> bytes:  # fmt: skip
    """The login-card PDF of ``cards_of`` output: A4, as many cards as fit a page, each class from
    a new page. ``with_codes``: whether the rows have a school-code column (by default, whether any
    row has a code; a part of a batch is given the batch's answer, so every part is laid out alike).
    ``chars``: the characters its fonts hold (by default ``printed_chars``; a part of a batch is
    given the batch's, so every part embeds the same fonts, made once)."""
    if with_codes is None:
        with_codes = any(row.school_code for _, cards in groups for card in cards for row in card.rows)
    document = CardsPdf(school, with_codes)
    for name, cards in groups:
        heading = f"Class: {printable(name)}" if name != NO_CLASS else NO_CLASS
        names = {r.platform for c in cards for r in c.rows}
        platforms = ", ".join(sorted({printable(p) for p in names}, key=str.casefold))
        pages = list(card_pages(cards))
        for number, page in enumerate(pages, start=1):
            document.stack(heading, platforms, number, len(pages), page)
    return document.output(printed_chars(school, groups) if chars is None else chars)
