"""Printable login slips: a PDF of cut-out cards, and the same slips as an xlsx.

Two layouts. Per platform (``write_slips``): one small card per pupil for one platform, ten to
a page. Combined (``write_cards``, the default): one card per child listing every platform on
which they got a new password, a row each (the platform and its website, the school code where
the platform asks for one, the username and the password), so a child on six platforms has one
card to keep, not six.

The slips hold first passwords. Nothing here logs or prints them; the only output is the
two files, written atomically and owner-only. Slips are grouped by class (each class starts
a new page) and sorted by surname, then forename, as a class list is: the same order in both
files, so a teacher handing them out finds each child where the register has them.

Each card says where to sign in (the school's own page, else the platform's) and, where the
platform gives schools one, the school code: without them a child on some platforms cannot
find their school, however right the username and password.

The PDF embeds (a subset of) the bundled DejaVu fonts, so any Latin, Greek or Cyrillic name
prints as written. Text is fitted to each card: it shrinks, then wraps, and never overflows.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from provisioner import files
from provisioner.xlsx import Sheet, xlsx_bytes


@dataclass(frozen=True)
class Slip:
    display_name: str  # the pupil's preferred name, e.g. "Amara Okafor"
    class_name: str  # "" when unknown
    platform: str  # the platform's name for people, e.g. "Times Tables Rock Stars"
    username: str
    password: str
    sign_in_url: str  # "" when unknown
    school_code: str = ""  # the school's code on the platform; "" when it has none or the school set none
    # For the order only: a slip resumed from what was recorded may have neither (the display name is used).
    forename: str = ""
    surname: str = ""
    card: str = ""  # whose card it goes on in the combined layout (the pupil's key); "" for the name


NO_CLASS = "No class"
XLSX_HEADER = ("Class", "Name", "Platform", "Username", "Password", "Sign-in address", "School code")
PRIVACY_NOTE = "Keep these slips private. Shred any not handed out."
CUT_NOTE = "\u2702  Cut along the dashed lines."
REPLACEMENT = "\ufffd"

# A4 portrait in millimetres: a header, a 2 x 5 grid of 95 x 50 mm cards, a footer.
PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 10.0
COLUMNS, ROWS = 2, 5
SLIPS_PER_PAGE = COLUMNS * ROWS
GRID_TOP = 27.0
GRID_BOTTOM = PAGE_H - 20.0
CARD_W = (PAGE_W - 2 * MARGIN) / COLUMNS
CARD_H = (GRID_BOTTOM - GRID_TOP) / ROWS
PAD = 3.5
INNER_W = CARD_W - 2 * PAD
LABEL_W = 19.0
VALUE_W = INNER_W - LABEL_W - 1.5
PT = 25.4 / 72  # millimetres per point
LINE = 1.2  # line height, in font sizes
BASELINE = 0.946 / LINE  # DejaVu's baseline within a line: (1.2 - ascent - descent) / 2 + ascent

# Card rows, top to bottom: (height in mm, largest and smallest font size in pt).
NAME_BOX = (10.0, 18.0, 9.0)
META_BOX = (4.5, 9.0, 6.0)
URL_BOX = (8.0, 10.0, 5.0)
CREDENTIAL_BOX = (9.0, 16.0, 6.0)  # 16 pt monospace bold: about 4 mm capitals, for a young child
GAP = 1.0


@dataclass(frozen=True)
class Layout:
    """The rows of one card. A card with a school code has one row more, so every other row
    gives up a little height (the name and the credentials keep their largest sizes on one line)."""

    name: tuple[float, float, float] = NAME_BOX
    meta: tuple[float, float, float] = META_BOX
    url: tuple[float, float, float] = URL_BOX
    code: tuple[float, float, float] | None = None
    credential: tuple[float, float, float] = CREDENTIAL_BOX


PLAIN = Layout()
WITH_CODE = Layout(name=(8.5, 18.0, 9.0), meta=(4.0, 9.0, 6.0), url=(7.0, 10.0, 5.0), code=(5.5, 12.0, 6.0),
                   credential=(8.0, 16.0, 6.0))  # fmt: skip


@dataclass(frozen=True)
class Face:
    family: str
    style: str
    file: str


SANS = Face("dejavu-sans", "", "DejaVuSans.ttf")
SANS_BOLD = Face("dejavu-sans", "B", "DejaVuSans-Bold.ttf")
MONO = Face("dejavu-mono", "", "DejaVuSansMono.ttf")
MONO_BOLD = Face("dejavu-mono", "B", "DejaVuSansMono-Bold.ttf")
FACES = (SANS, SANS_BOLD, MONO, MONO_BOLD)


def font_file(face: Face) -> Traversable:
    return resources.files("provisioner").joinpath("data", "fonts", face.file)


class Metrics:
    """Advance widths and coverage of one font, read once with fontTools (fpdf2 measures far
    more slowly, through its bidirectional-text machinery)."""

    def __init__(self, face: Face):
        # Imported here, not at the top: fontTools takes a tenth of a second to load, and only
        # a command that prints slips needs it (tests/test_startup.py).
        from fontTools.ttLib import TTFont

        with resources.as_file(font_file(face)) as path:
            font = TTFont(path, lazy=True)
            units = font["head"].unitsPerEm
            hmtx = font["hmtx"].metrics
            self.advance = {cp: hmtx[glyph][0] / units for cp, glyph in font.getBestCmap().items()}
            font.close()
        # By character, for measuring a whole string in one pass (a trust's cards measure millions).
        self.by_char = Advances({chr(cp): advance for cp, advance in self.advance.items()})
        self.chars = frozenset(self.by_char)

    def width(self, text: str, size: float) -> float:
        """Width in mm at ``size`` pt (fpdf2 applies no kerning in ``text()``, nor does this)."""
        return sum(map(self.by_char.__getitem__, text)) * size * PT

    def covers(self, text: str) -> bool:
        return self.chars.issuperset(text)


class Advances(dict):
    """Advance widths by character; a character the font lacks counts half an em."""

    def __missing__(self, char: str) -> float:
        return 0.5


@cache
def metrics(face: Face) -> Metrics:
    return Metrics(face)


# --- order ---------------------------------------------------------------------------------


def class_key(name: str) -> tuple:
    """Natural order ("2B" before "10A"); pupils with no class last."""
    if not name:
        return (1, ())
    parts = re.split(r"([0-9]+)", name.casefold())
    return (0, tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), name)


# Latin letters that Unicode does not decompose into a base letter and an accent.
UNDECOMPOSED = str.maketrans({
    "Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h",
    "ı": "i", "ß": "ss", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Þ": "TH", "þ": "th",
})  # fmt: skip


def folded(text: str) -> str:
    """For sorting only: accents folded and case ignored, so "Émile" and "Łucja" sort among the
    Es and Ls as a class list has them. What prints is the name as written."""
    decomposed = unicodedata.normalize("NFKD", text).translate(UNDECOMPOSED)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def name_key(slip: Slip) -> tuple:
    """Surname, then forename, as a class list is ordered; a pupil with one name sorts by it
    among the surnames; a slip without the parts (resumed from an old record) by its display name."""
    forename, surname = slip.forename.strip(), slip.surname.strip()
    if surname or forename:
        parts = (folded(surname or forename), folded(forename) if surname else "")
    else:
        parts = (folded(slip.display_name), "")
    return (*parts, slip.display_name.casefold(), slip.display_name, slip.platform, slip.username)


def group_by_class(slips: Sequence[Slip]) -> list[tuple[str, list[Slip]]]:
    """(class heading, its slips) in print order: classes naturally, then surname and forename within a class."""
    classes: dict[str, list[Slip]] = {}
    for slip in slips:
        classes.setdefault(slip.class_name.strip(), []).append(slip)
    return [
        (name or NO_CLASS, sorted(classes[name], key=name_key))
        for name in sorted(classes, key=class_key)
    ]


# --- text fitting ---------------------------------------------------------------------------


def printable(text: str) -> str:
    """Display text: NFC (DejaVu has precomposed letters, and fpdf2 does not shape combining
    marks), control and format characters dropped, runs of whitespace made one space, and any
    character DejaVu Sans (regular and bold) cannot draw shown as U+FFFD, so a name is never
    silently shortened, nor does fpdf2 log the missing characters of a pupil's name."""
    text = unicodedata.normalize("NFC", text)
    if text.isprintable():  # no control, format or separator character but the space: the usual name
        kept = " ".join(text.split())
    else:
        kept = " ".join(
            "".join(ch for ch in word if not unicodedata.category(ch).startswith("C")) for word in text.split()
        )
    regular, bold = metrics(SANS), metrics(SANS_BOLD)
    if regular.covers(kept) and bold.covers(kept):
        return kept
    return "".join(ch if regular.covers(ch) and bold.covers(ch) else REPLACEMENT for ch in kept)


def credential_face(what: str, value: str) -> Face:
    """The face a username, password or address prints in, exactly as it must be typed.

    Monospace bold where it has every character, else sans bold; a value with a character
    neither can draw, or an invisible one, cannot be printed faithfully: ValueError, naming
    only what kind of value it was.
    """
    if not value.isprintable():  # Python's own test: a character of Unicode's Other or Separator but the space
        raise ValueError(f"a {what} has an invisible or control character and cannot be printed on a slip")
    for face in (MONO_BOLD, SANS_BOLD):
        if metrics(face).covers(value):
            return face
    raise ValueError(f"a {what} has a character the slip font cannot print")


def wrap(text: str, face: Face, size: float, width: float, *, words: bool) -> list[str]:
    """Greedy line breaks: at spaces where ``words`` (a name), else anywhere (an address)."""
    measure = metrics(face).width
    if text == text.strip() and measure(text, size) <= width:  # what the greedy loop would give, at once
        return [text]
    lines: list[str] = []
    line = ""
    tokens = re.findall(r"\S+\s*", text) if words else list(text)
    for token in tokens:
        if measure((line + token).rstrip(), size) <= width:
            line += token
            continue
        if line:
            lines.append(line.rstrip())
            line = ""
        while measure(token.rstrip(), size) > width:  # a word wider than the line: break inside it
            cut = 1
            while cut < len(token) and measure(token[: cut + 1], size) <= width:
                cut += 1
            lines.append(token[:cut])
            token = token[cut:]
        line = token
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def fit(
    text: str,
    face: Face,
    width: float,
    box: tuple[float, float, float],
    *,
    words: bool,
    shorten: bool,
    max_lines: int = 99,
    wrap_below: float | None = None,
) -> tuple[float, list[str]] | None:
    """The largest size (in half points) at which ``text`` fits the box, and its lines.

    Above ``wrap_below`` pt only one line is tried: a slightly smaller address on one line
    is easier to copy than a bigger one broken in two. At the smallest size text that still
    does not fit is cut with an ellipsis where ``shorten``; otherwise None.
    """
    height, largest, smallest = box
    wrap_below = largest if wrap_below is None else wrap_below
    size = largest
    while size >= smallest:
        lines = wrap(text, face, size, width, words=words)
        fits = len(lines) <= max_lines and len(lines) * size * PT * LINE <= height
        if fits and (len(lines) == 1 or size <= wrap_below):
            return size, lines
        size -= 0.5
    if not shorten:
        return None
    size = smallest
    room = max(1, min(max_lines, int(height / (size * PT * LINE))))
    lines = wrap(text, face, size, width, words=words)[:room]
    last = lines[-1]
    measure = metrics(face).width
    while last and measure(last + "\u2026", size) > width:
        last = last[:-1]
    lines[-1] = last.rstrip() + "\u2026"
    return size, lines


# --- drawing --------------------------------------------------------------------------------


class SlipsPdf:
    def __init__(self, school: str, fonts: dict[Face, Path]):
        # Imported here, not at the top: fpdf2 takes a third of a second to load, and only a
        # command that prints slips needs it (tests/test_startup.py).
        from fpdf import FPDF

        self.school = printable(school)
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_margins(MARGIN, MARGIN)
        pdf.set_title(f"Login slips: {self.school}")
        pdf.set_creator("provisioner")
        pdf.set_lang("en-GB")
        for face, path in fonts.items():
            pdf.add_font(face.family, face.style, path)
        self.pdf = pdf

    def font(self, face: Face, size: float, grey: int = 0) -> None:
        self.pdf.set_font(face.family, face.style, size)
        self.pdf.set_text_color(grey)

    def lines(self, x: float, top: float, height: float, size: float, lines: list[str]) -> None:
        """Lines centred vertically in a box (the font is already set)."""
        step = size * PT * LINE
        y = top + (height - step * len(lines)) / 2
        for line in lines:
            self.pdf.text(x, y + step * BASELINE, line)
            y += step

    def one_line(self, face: Face, text: str, x: float, top: float, width: float, box, grey: int = 0) -> None:
        size, lines = fit(text, face, width, box, words=True, shorten=True, max_lines=1)
        self.font(face, size, grey)
        self.lines(x, top, box[0], size, lines)

    def page(self, heading: str, platforms: str, page: int, of: int, count: int) -> None:
        pdf = self.pdf
        pdf.add_page()
        page_label = f"Page {page} of {of}"
        label_w = metrics(SANS_BOLD).width(page_label, 10)
        self.one_line(SANS_BOLD, self.school, MARGIN, MARGIN, PAGE_W - 2 * MARGIN - label_w - 4, (7, 13, 8))
        self.font(SANS_BOLD, 10)
        pdf.text(PAGE_W - MARGIN - label_w, MARGIN + 5, page_label)
        subtitle = f"{heading} \u00b7 {platforms}"
        self.one_line(SANS, subtitle, MARGIN, MARGIN + 7, PAGE_W - 2 * MARGIN, (5.5, 11, 7))
        self.font(SANS, 8, 90)
        pdf.text(MARGIN, GRID_TOP - 2, CUT_NOTE)
        pdf.text(MARGIN, PAGE_H - MARGIN, PRIVACY_NOTE)
        self.cut_lines(count)

    def cut_lines(self, count: int) -> None:
        """Dashed lines round the cards in use (each shared edge once), scissors in the margin."""
        pdf = self.pdf
        segments: set[tuple[float, float, float, float]] = set()
        for i in range(count):
            row, col = divmod(i, COLUMNS)
            x0, y0 = MARGIN + col * CARD_W, GRID_TOP + row * CARD_H
            x1, y1 = x0 + CARD_W, y0 + CARD_H
            segments |= {(x0, y0, x1, y0), (x0, y1, x1, y1), (x0, y0, x0, y1), (x1, y0, x1, y1)}
        pdf.set_draw_color(120)
        pdf.set_line_width(0.25)
        pdf.set_dash_pattern(dash=2, gap=1.5)
        for segment in sorted(segments):
            pdf.line(*segment)
        pdf.set_dash_pattern()
        self.font(SANS, 9, 120)
        for y in sorted({s[1] for s in segments if s[1] == s[3]}):
            pdf.text(MARGIN - 6.5, y + 1.2, "\u2702")

    def card(self, slip: Slip, index: int, url: tuple[Face, float, list[str]] | None) -> None:
        pdf = self.pdf
        row, col = divmod(index, COLUMNS)
        x = MARGIN + col * CARD_W + PAD
        y = GRID_TOP + row * CARD_H + PAD
        layout = layout_of(slip)

        name = printable(slip.display_name)
        size, lines = fit(name, SANS_BOLD, INNER_W, layout.name, words=True, shorten=True, wrap_below=12)
        self.font(SANS_BOLD, size)
        self.lines(x, y, layout.name[0], size, lines)
        y += layout.name[0]

        class_name, platform = printable(slip.class_name), printable(slip.platform)
        meta = f"Class {class_name} \u00b7 {platform}" if class_name else platform
        self.one_line(SANS, meta, x, y, INNER_W, layout.meta, grey=70)
        y += layout.meta[0] + GAP

        if url is not None:
            self.label("Website", x, y, layout.url[0])
            face, size, lines = url
            self.font(face, size)
            self.lines(x + LABEL_W + 1.5, y, layout.url[0], size, lines)
        y += layout.url[0] + GAP

        # Typed by the child, so each prints as it must be typed, on a grey field.
        typed = [("School code", slip.school_code, layout.code)] if layout.code else []
        typed += [("Username", slip.username, layout.credential), ("Password", slip.password, layout.credential)]
        for what, value, box in typed:
            face = credential_face(what.lower(), value)
            fitted = fit(value, face, VALUE_W - 2, box, words=False, shorten=False, wrap_below=7)
            if fitted is None:
                raise ValueError(f"a {what.lower()} is too long to print on a slip")
            size, lines = fitted
            self.label(what, x, y, box[0])
            pdf.set_fill_color(236)
            box_w, box_h = VALUE_W + 1.5, box[0]
            pdf.rect(x + LABEL_W, y, box_w, box_h, style="F", round_corners=True, corner_radius=1.2)
            self.font(face, size)
            self.lines(x + LABEL_W + 1.5, y, box[0], size, lines)
            y += box[0] + GAP

    def label(self, text: str, x: float, top: float, height: float) -> None:
        self.font(SANS, 8, 90)
        self.lines(x, top, height, 8, [text])

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def layout_of(slip: Slip) -> Layout:
    return WITH_CODE if slip.school_code else PLAIN


def fitted_url(url: str, layout: Layout = PLAIN) -> tuple[Face, float, list[str]] | None:
    """The sign-in address as it will print (the same on most slips, so fitted once each)."""
    if not url:
        return None
    face = credential_face("sign-in address", url)
    face = MONO if face == MONO_BOLD else SANS
    fitted = fit(url, face, VALUE_W, layout.url, words=False, shorten=False, wrap_below=7)
    if fitted is None:
        raise ValueError("the sign-in address is too long to print on a slip")
    return (face, *fitted)


def pages_of(group: list[Slip]) -> Iterator[list[Slip]]:
    for start in range(0, len(group), SLIPS_PER_PAGE):
        yield group[start : start + SLIPS_PER_PAGE]


def slips_pdf_bytes(school: str, groups: list[tuple[str, list[Slip]]]) -> bytes:
    """The login-slip PDF of ``group_by_class`` output: A4, 10 cards a page, each class from a new page."""
    with ExitStack() as stack:
        # fpdf2 reads the font files lazily, up to output(): they must exist until then.
        fonts = {face: stack.enter_context(resources.as_file(font_file(face))) for face in FACES}
        document = SlipsPdf(school, fonts)
        urls: dict[tuple[str, Layout], tuple[Face, float, list[str]] | None] = {}
        for name, group in groups:
            heading = f"Class: {printable(name)}" if name != NO_CLASS else NO_CLASS
            platforms = ", ".join(sorted({printable(s.platform) for s in group}, key=str.casefold))
            pages = list(pages_of(group))
            for number, page in enumerate(pages, start=1):
                document.page(heading, platforms, number, len(pages), len(page))
                for index, slip in enumerate(page):
                    url = (slip.sign_in_url or "", layout_of(slip))
                    if url not in urls:
                        urls[url] = fitted_url(*url)
                    document.card(slip, index, urls[url])
        return document.output()


def slips_xlsx_bytes(groups: list[tuple[str, list[Slip]]], *, streamed: bool = False) -> bytes:
    """The same slips, in the same order, as one "Login slips" sheet (``streamed`` for a trust's)."""
    rows = (
        (s.class_name.strip(), s.display_name, s.platform, s.username, s.password, s.sign_in_url or "",
         s.school_code)
        for _, group in groups
        for s in group
    )
    return xlsx_bytes([Sheet("Login slips", XLSX_HEADER, rows)], streamed=streamed)


# --- combined cards: one per child, a row per platform ----------------------------------------

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


@dataclass(frozen=True)
class Card:
    """One child's card: their name and class, and a slip (a row) for each platform."""

    display_name: str
    class_name: str
    rows: tuple[Slip, ...]

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


class CardsPdf(SlipsPdf):
    """The combined layout: full-width cards stacked down the page, a row per platform.

    A trust's apply prints tens of thousands of rows, and fpdf2 spends most of a row in its own
    bookkeeping (a font switch, a colour, a rounded box of four arcs, each a checked call), not
    in the few bytes it writes. So the parts of a row that are the same on every card (the
    platform's name and address, the small labels, the grey fields) are drawn once, as PDF
    drawing operators, and stamped at each row's place; only the child's own text (name, class,
    username, password, school code) is drawn per card, as operators too. Each card is one
    self-contained graphics state (``q`` ... ``Q``), so fpdf2's own drawing before and after it
    (the page header, the cut lines) is unchanged. The page looks exactly as fpdf2's calls drew it.
    """

    def __init__(self, school: str, fonts: dict[Face, Path], with_codes: bool):
        super().__init__(school, fonts)
        self.pdf.set_title(f"Login cards: {self.school}")
        self.with_codes = with_codes
        self.platforms: dict[tuple[str, str], tuple] = {}
        self.stamps: dict[tuple[str, str, tuple[bool, ...]], str] = {}
        inner = FULL_W - 2 * PAD
        taken = PLATFORM_W + PASSWORD_W + (CODE_W + COL_GAP if with_codes else 0) + 2 * COL_GAP
        self.username_w = inner - taken
        self.k = self.pdf.k
        self.page_top = self.pdf.h * self.pdf.k  # a page's top edge, in PDF points from the bottom
        self.faces = {face: self.pdf.fonts[face.family + face.style] for face in FACES}

    def stack(self, heading: str, platforms: str, page: int, of: int, cards: list[Card]) -> None:
        from fpdf.enums import PDFResourceType

        self.page(heading, platforms, page, of, 0)
        for font in self.faces.values():  # the cards' operators name the fonts: the page must list them
            self.pdf._resource_catalog.add(PDFResourceType.FONT, font.i, self.pdf.page)
        y = CARDS_TOP
        edges = []
        for card in cards:
            self.card_of(card, y)
            edges.append((y, y + card.height))
            y += card.height
        self.card_lines(edges)

    def card_lines(self, edges: list[tuple[float, float]]) -> None:
        """Dashed lines round each card (a shared edge once), scissors in the margin."""
        pdf = self.pdf
        x0, x1 = MARGIN, PAGE_W - MARGIN
        across = sorted({y for edge in edges for y in edge})
        pdf.set_draw_color(120)
        pdf.set_line_width(0.25)
        pdf.set_dash_pattern(dash=2, gap=1.5)
        for y in across:
            pdf.line(x0, y, x1, y)
        for top, bottom in edges:
            pdf.line(x0, top, x0, bottom)
            pdf.line(x1, top, x1, bottom)
        pdf.set_dash_pattern()
        self.font(SANS, 9, 120)
        for y in across:
            pdf.text(MARGIN - 6.5, y + 1.2, "\u2702")

    # Operators. Positions are in millimetres from an origin's top left, as fpdf2's are; ``origin``
    # is that point in PDF points (x, and y from the page's foot).

    def text_op(self, face: Face, size: float, grey: int, x: float, baseline: float, text: str,
                origin: tuple[float, float]) -> str:  # fmt: skip
        """``text`` on a baseline, as ``FPDF.text`` writes it (the font's subset records its letters)."""
        font = self.faces[face]
        return (f"BT /F{font.i} {size:.2f} Tf {grey / 255:.3f} g {origin[0] + x * self.k:.2f} "
                f"{origin[1] - baseline * self.k:.2f} Td {font.encode_text(text)} ET")  # fmt: skip

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

    def card_of(self, card: Card, top: float) -> None:
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
        self.pdf._out("\n".join(ops))

    def columns(self, slip: Slip) -> list[tuple[str, str, float, tuple[float, float, float]]]:
        """The fields a row prints, left to right: (label, value, width, box); a field without a value is left blank."""
        columns = []
        if self.with_codes:
            columns.append(("School code", slip.school_code, CODE_W, CODE_BOX))
        columns += [("Username", slip.username, self.username_w, TYPED_BOX),
                    ("Password", slip.password, PASSWORD_W, TYPED_BOX)]  # fmt: skip
        return columns

    def row(self, slip: Slip, x: float, top: float) -> list[str]:
        """A row's operators: its fixed parts stamped at its place, then the child's values."""
        columns = self.columns(slip)
        key = (slip.platform, slip.sign_in_url, tuple(bool(value) for _, value, _, _ in columns))
        if key not in self.stamps:
            self.stamps[key] = self.stamp(slip, columns)
        here = (x * self.k, self.page_top - top * self.k)
        ops = [f"q 1 0 0 1 {here[0]:.2f} {here[1]:.2f} cm", self.stamps[key], "Q"]
        page = (0.0, self.page_top)
        x += PLATFORM_W + COL_GAP
        for what, value, width, box in columns:
            if value:
                face, size, lines = self.typed(what, value, width, box)
                ops += self.lines_ops(face, size, 0, x + 1.5, top + ROW_LABEL_H, box[0], lines, page)
            x += width + COL_GAP
        return ops

    def stamp(self, slip: Slip, columns) -> str:
        """The parts of a row that every card shares, drawn at the origin: the platform's name
        and address, and each field's label and grey box."""
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
        return "\n".join(ops)

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
        """A value the child types, fitted to its grey field as it must be typed."""
        face = credential_face(what.lower(), value)
        fitted = fit(value, face, width - 3, box, words=False, shorten=False, wrap_below=8)
        if fitted is None:
            raise ValueError(f"a {what.lower()} is too long to print on a slip")
        return (face, *fitted)


def cards_pdf_bytes(school: str, groups: list[tuple[str, list[Card]]], with_codes: bool | None = None) -> bytes:
    """The login-card PDF of ``cards_of`` output: A4, as many cards as fit a page, each class from
    a new page. ``with_codes``: whether the rows have a school-code column (by default, whether any
    row has a code; a part of a batch is given the batch's answer, so every part is laid out alike)."""
    if with_codes is None:
        with_codes = any(row.school_code for _, cards in groups for card in cards for row in card.rows)
    with ExitStack() as stack:
        fonts = {face: stack.enter_context(resources.as_file(font_file(face))) for face in FACES}
        document = CardsPdf(school, fonts, with_codes)
        for name, cards in groups:
            heading = f"Class: {printable(name)}" if name != NO_CLASS else NO_CLASS
            names = {r.platform for c in cards for r in c.rows}
            platforms = ", ".join(sorted({printable(p) for p in names}, key=str.casefold))
            pages = list(card_pages(cards))
            for number, page in enumerate(pages, start=1):
                document.stack(heading, platforms, number, len(pages), page)
        return document.output()


# --- a trust's cards: split into files, drawn on both cores -----------------------------------

# A batch of more children than this (a trust's, not a school's) has its cards split into files of
# whole classes, up to PART_CHILDREN children each (a bigger class alone): each file opens and prints
# quickly. Not one file per class: each PDF embeds its own subset of the four fonts, which costs
# about 0.2 s a file whatever its size, so 1,700 classes would take minutes.
TRUST_CHILDREN = 600
PART_CHILDREN = 600
WORKERS = 2  # processes drawing the parts; the xlsx is written meanwhile
POOL_PARTS = 4  # fewer parts are drawn here: they take less time than starting the workers


def parts_of(groups: list[tuple[str, list[Card]]]) -> list[list[tuple[str, list[Card]]]]:
    """Whole classes, in print order, gathered into parts of at most PART_CHILDREN children."""
    parts: list[list[tuple[str, list[Card]]]] = []
    children = 0
    for group in groups:
        if parts and children + len(group[1]) <= PART_CHILDREN:
            parts[-1].append(group)
            children += len(group[1])
        else:
            parts.append([group])
            children = len(group[1])
    return parts


def part_file_name(number: int, part: list[tuple[str, list[Card]]], digits: int = 2) -> str:
    """"03 Class 4B to 5C.pdf": numbered in print order, named by its first and last class (only
    letters, digits, spaces, dots, hyphens and underscores, so any file system takes it)."""
    def shown(name: str) -> str:
        return re.sub(r"[^\w .-]", "-", unicodedata.normalize("NFC", name), flags=re.ASCII).strip(" .") or "-"

    first, last = part[0][0], part[-1][0]
    classes = shown(first) if first == last else f"{shown(first)} to {shown(last)}"
    return f"{number:0{digits}d} {'' if first == NO_CLASS else 'Class '}{classes}.pdf"


def parts_pdf_bytes(school: str, parts: list[list[tuple[str, list[Card]]]], with_codes: bool) -> list[bytes]:
    """Each part's PDF, drawn by WORKERS processes when there are parts enough to pay for starting
    them. The cards reach them through the pool's pipe, in memory: no password is written anywhere
    but on the cards."""
    if len(parts) < POOL_PARTS or WORKERS < 2 or (os.cpu_count() or 1) < 2:
        return [cards_pdf_bytes(school, part, with_codes) for part in parts]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Each worker a fresh interpreter, not a fork: a fork would inherit the workspace lock and the
    # state's open file, and an apply killed mid-draw would leave the workspace locked until the
    # workers finished. Starting one takes about half a second, hence POOL_PARTS.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=context) as pool:
        drawn = [pool.submit(cards_pdf_bytes, school, part, with_codes) for part in parts]
        return [future.result() for future in drawn]


def write_cards(pdf_path: Path, xlsx_path: Path, school: str, slips: Sequence[Slip]) -> list[Path]:
    """Write the combined login cards, one per child, as a printable PDF and as an xlsx (a row
    per child and platform, in the cards' order), both atomic and owner-only; the paths written.

    A trust's batch (more than TRUST_CHILDREN children) gets a folder instead of the PDF, named
    as it without ``.pdf``, holding the cards in files of whole classes (``parts_of``), drawn on
    both cores; its xlsx is written streamed. The xlsx is written last either way, so a file
    newer than it has cards still to draw. Raises ValueError as ``write_slips`` does."""
    if not slips:
        raise ValueError("there are no login slips to write")
    groups = cards_of(slips)
    rows = [(name, [row for card in cards for row in card.rows]) for name, cards in groups]
    if sum(len(cards) for _, cards in groups) <= TRUST_CHILDREN:
        pdf = cards_pdf_bytes(school, groups)
        workbook = slips_xlsx_bytes(rows)
        files.atomic_write_bytes(pdf_path, pdf)
        files.atomic_write_bytes(xlsx_path, workbook)
        return [pdf_path, xlsx_path]
    with_codes = any(row.school_code for _, some in rows for row in some)
    parts = parts_of(groups)
    documents = parts_pdf_bytes(school, parts, with_codes)
    workbook = slips_xlsx_bytes(rows, streamed=True)
    folder = files.make_private_dir(pdf_path.with_suffix(""))
    digits = max(2, len(str(len(parts))))
    written = [folder / part_file_name(number, part, digits) for number, part in enumerate(parts, start=1)]
    for path, pdf in zip(written, documents, strict=True):
        files.atomic_write_bytes(path, pdf)
    for stale in set(folder.glob("*.pdf")) - set(written):  # an earlier drawing of this batch's cards
        stale.unlink()
    files.atomic_write_bytes(xlsx_path, workbook)
    return [folder, xlsx_path]


def write_slips(pdf_path: Path, xlsx_path: Path, school: str, slips: Sequence[Slip]) -> None:
    """Write the login slips as a printable PDF and as an xlsx, both atomic and owner-only.

    Slips are grouped by class (natural order, pupils with no class last) and sorted by surname,
    then forename. Both files are made in memory before either is written. Raises ValueError
    when there are no slips, or a username, password, school code or sign-in address cannot be
    printed as it must be typed.
    """
    if not slips:
        raise ValueError("there are no login slips to write")
    groups = group_by_class(slips)
    pdf = slips_pdf_bytes(school, groups)
    workbook = slips_xlsx_bytes(groups)
    files.atomic_write_bytes(pdf_path, pdf)
    files.atomic_write_bytes(xlsx_path, workbook)
