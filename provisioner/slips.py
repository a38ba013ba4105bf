"""Printable login slips: a PDF of cut-out cards, and the same slips as an xlsx.

Two layouts. Per platform (``write_slips``, here): one small card per pupil for one platform, ten
to a page. Combined (``cards.write_cards``, the default): one card per child listing every
platform on which they got a new password; it draws with this module's fonts, fitting and order.

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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, eq=False)
class Face:
    """One of the four faces below (compared and hashed by identity: a trust's cards look a face
    up millions of times, and a dataclass's own hash is a Python call each time)."""

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
    if text.isascii():  # most names: nothing to decompose, fold or drop (a trust's cards sort 50,000)
        return text.casefold()
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
    """Greedy line breaks: at spaces where ``words`` (a name), else anywhere (an address).

    Linear in the text's length: each line's width is kept as it grows and each character is
    measured once, so a very long cell costs its length, not its length squared."""
    advance = metrics(face).by_char
    measure = metrics(face).width
    if text == text.strip() and measure(text, size) <= width:  # what the greedy loop would give, at once
        return [text]
    room = width / (size * PT)  # the line's width in ems, as the advances are given
    lines: list[str] = []
    line, full, stripped = "", 0.0, 0.0  # the line, its width with its trailing spaces and without
    tokens = re.findall(r"\S+\s*", text) if words else list(text)
    for token in tokens:
        word = token.rstrip()
        word_width = sum(map(advance.__getitem__, word))
        spaces = sum(map(advance.__getitem__, token[len(word):]))
        if (full + word_width if word else stripped) <= room:
            line += token
            if word:
                stripped = full + word_width
            full += word_width + spaces
            continue
        if line:
            lines.append(line.rstrip())
        while word_width > room:  # a word wider than the line: break inside it
            cut, taken = 1, advance[token[0]]
            while cut < len(token) and taken + advance[token[cut]] <= room:
                taken += advance[token[cut]]
                cut += 1
            lines.append(token[:cut])
            token, word = token[cut:], word[cut:]
            word_width -= taken
        line, stripped, full = token, word_width, word_width + spaces
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


class SlipRows:
    """The slips' rows of the xlsx, made afresh each time they are read: a streamed sheet reads
    its rows twice (each column's width, then the rows), and a trust's 300,000 rows made once
    and kept would be held all at once."""

    __slots__ = ("groups",)

    def __init__(self, groups: list[tuple[str, list[Slip]]]):
        self.groups = groups

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        return ((s.class_name.strip(), s.display_name, s.platform, s.username, s.password, s.sign_in_url or "",
                 s.school_code) for _, group in self.groups for s in group)  # fmt: skip


def slips_xlsx_bytes(groups: list[tuple[str, list[Slip]]], *, streamed: bool = False) -> bytes:
    """The same slips, in the same order, as one "Login slips" sheet (``streamed`` for a trust's)."""
    return xlsx_bytes([Sheet("Login slips", XLSX_HEADER, SlipRows(groups))], streamed=streamed)


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
