"""A PDF written here, not by fpdf2, for the login cards: A4 pages of drawing operators, and the
bundled DejaVu faces embedded once per batch of files.

A trust's cards are tens of files of hundreds of pages each. fpdf2 parsed the four fonts and
subset them again for every file (about 0.2 s a file, whatever its size), and kept its own
record of every text it drew; the cards already draw with PDF operators (cards.py), so the file
around them is written here instead. Text is shown by glyph id (Identity-H: a glyph's number in
the font is its code), so a card's text is encoded in one ``str.translate`` with no record kept;
each font is embedded as the subset of the characters the batch prints, its glyphs keeping
their numbers (fontTools' ``retain_gids``), and that subset is made once a process and copied
into every file of the batch. Each font carries a ToUnicode map, so text can be searched and
copied as before.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache, lru_cache
from importlib import resources

from provisioner.slips import FACES, Face, PAGE_H, PAGE_W, PT, font_file

PAGE_SIZE = (round(PAGE_W / PT, 2), round(PAGE_H / PT, 2))  # A4 in points, as fpdf2 gave it
RESOURCES = 4  # objects 1 to 4: the catalog, the page tree, the document's information, the resources
FIRST_FONT_OBJECT = 5
OBJECTS_A_FACE = 5  # the font, its glyphs (CID font), its descriptor, its ToUnicode map, its file


class GlyphCodes(dict):
    """A face's translation table for ``str.translate``: a character to its glyph id as four hex
    digits; a character the face lacks shows the face's missing glyph (0)."""

    def __missing__(self, code: int) -> str:
        return "0000"


@dataclass(frozen=True)
class FaceGlyphs:
    """What a face gives every document: its glyph codes (``text.translate(codes)`` is the hex
    of a PDF string showing ``text``), and its advance widths by glyph."""

    codes: GlyphCodes
    widths: dict[int, int]  # glyph id to advance width, in thousandths of an em
    glyph_of: dict[str, int]  # character to glyph id


@cache
def face_glyphs(face: Face) -> FaceGlyphs:
    """Read once a process from the bundled font (fontTools, imported here: only printing needs it)."""
    from fontTools.ttLib import TTFont

    with resources.as_file(font_file(face)) as path:
        font = TTFont(path, lazy=True)
        scale = 1000 / font["head"].unitsPerEm
        metrics = font["hmtx"].metrics
        glyph_of = {chr(cp): font.getGlyphID(name) for cp, name in font.getBestCmap().items()}
        widths = {font.getGlyphID(name): round(metrics[name][0] * scale) for name in set(font.getBestCmap().values())}
        font.close()
    return FaceGlyphs(GlyphCodes({ord(ch): f"{gid:04X}" for ch, gid in glyph_of.items()}), widths, glyph_of)


@lru_cache(maxsize=4)  # a batch's; a file that draws beyond them has its own
def embedded_fonts(chars: frozenset[str], faces: tuple[Face, ...] = FACES) -> tuple[bytes, list[int]]:
    """The font objects of ``faces`` (numbered from FIRST_FONT_OBJECT), each face a subset
    holding ``chars``, and each object's offset within the bytes. Made once a process for a
    batch's characters: every file of the batch copies them."""
    body = bytearray()
    offsets: list[int] = []
    for index, face in enumerate(faces):
        for number, data in enumerate(_face_objects(face, chars, FIRST_FONT_OBJECT + index * OBJECTS_A_FACE)):
            offsets.append(len(body))
            body += f"{FIRST_FONT_OBJECT + index * OBJECTS_A_FACE + number} 0 obj\n".encode() + data + b"\nendobj\n"
    return bytes(body), offsets


def _face_objects(face: Face, chars: frozenset[str], first: int) -> list[bytes]:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    glyphs = face_glyphs(face)
    used = sorted({glyphs.glyph_of[ch] for ch in chars if ch in glyphs.glyph_of})
    with resources.as_file(font_file(face)) as path:
        font = TTFont(path, recalcTimestamp=False, lazy=True)
        head, hhea, os2, post = font["head"], font["hhea"], font["OS/2"], font["post"]
        scale = 1000 / head.unitsPerEm
        name = font["name"].getDebugName(6) or face.file.removesuffix(".ttf")
        missing_width = round(font["hmtx"].metrics[".notdef"][0] * scale)
        flags = 4 | (1 if post.isFixedPitch else 0) | (262144 if os2.usWeightClass >= 600 else 0)
        descriptor = (f"/Ascent {round(hhea.ascent * scale)} /Descent {round(hhea.descent * scale)} "
                      f"/CapHeight {round(getattr(os2, 'sCapHeight', hhea.ascent) * scale)} /Flags {flags} "
                      f"/FontBBox [{head.xMin * scale:.0f} {head.yMin * scale:.0f} {head.xMax * scale:.0f} "
                      f"{head.yMax * scale:.0f}] /ItalicAngle {int(post.italicAngle)} "
                      f"/StemV {round(50 + int(pow(os2.usWeightClass / 65, 2)))} /MissingWidth {missing_width}")  # fmt: skip
        options = subset.Options(notdef_outline=True, recommended_glyphs=True, retain_gids=True)
        options.drop_tables += ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(gids=used)
        subsetter.subset(font)
        buffer = io.BytesIO()
        font.save(buffer)
        font.close()
    program = buffer.getvalue()
    # A subset's name starts with a tag of six capital letters naming the subset.
    tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(repr((name, used)).encode()).digest()[:6])
    base = f"/{tag}+{name}"
    widths = " ".join(f"{gid} [{glyphs.widths.get(gid, missing_width)}]" for gid in used)
    shown: dict[int, str] = {}  # a glyph to the character it shows (the first, where two share one)
    for ch in sorted(chars):
        if ch in glyphs.glyph_of:
            shown.setdefault(glyphs.glyph_of[ch], ch)
    to_unicode = "".join(f"<{gid:04X}> <{ch.encode('utf-16-be').hex().upper()}>\n" for gid, ch in sorted(shown.items()))
    cmap = ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\n"
            f"endcodespacerange\n{_bfchar_blocks(to_unicode)}endcmap\n"
            "CMapName currentdict /CMap defineresource pop\nend\nend")  # fmt: skip
    return [
        f"<< /Type /Font /Subtype /Type0 /BaseFont {base} /Encoding /Identity-H /DescendantFonts [{first + 1} 0 R] "
        f"/ToUnicode {first + 3} 0 R >>".encode(),
        f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont {base} "
        f"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor {first + 2} 0 R "
        f"/DW {missing_width} /W [{widths}] /CIDToGIDMap /Identity >>".encode(),
        f"<< /Type /FontDescriptor /FontName {base} {descriptor} /FontFile2 {first + 4} 0 R >>".encode(),
        _stream(cmap.encode("ascii")),
        _stream(program, f"/Length1 {len(program)}"),
    ]


def _bfchar_blocks(lines: str) -> str:
    """bfchar entries in blocks of at most 100, as a CMap allows."""
    entries = lines.splitlines(keepends=True)
    return "".join(f"{len(block)} beginbfchar\n{''.join(block)}endbfchar\n"
                   for block in (entries[i:i + 100] for i in range(0, len(entries), 100)))  # fmt: skip


def _stream(data: bytes, extra: str = "") -> bytes:
    packed = zlib.compress(data, 3)  # about half the time of the default level, a tenth larger
    return f"<< /Filter /FlateDecode /Length {len(packed)}{' ' + extra if extra else ''} >>\nstream\n".encode() + \
        packed + b"\nendstream"  # fmt: skip


def _text_string(text: str) -> str:
    """A PDF text string (document information) as UTF-16 with its byte order mark, in hex."""
    return f"<FEFF{text.encode('utf-16-be').hex().upper()}>"


def text_op(font: str, size: float, grey: int, x: float, y: float, glyphs: str) -> str:
    """Text shown at (``x``, ``y``) in points from the page's foot, in a font named as ``PdfPages``
    names them (/F1...), ``glyphs`` the hex of its glyph codes (``face_glyphs(face).codes``)."""
    return f"BT {font} {size:.2f} Tf {grey / 255:.3f} g {x:.2f} {y:.2f} Td <{glyphs}> Tj ET"


class PdfPages:
    """A document of A4 pages, each given as its drawing operators, and of forms (drawings made
    once and placed on any page by name, ``/S1 Do``); the fonts are named /F1, /F2... in the order
    of ``faces``: ``slips.FACES``, or fewer where the document draws with fewer (a checklist's two
    sans faces: the mono faces are then neither subset nor embedded)."""

    def __init__(self, title: str, lang: str = "en-GB", faces: tuple[Face, ...] = FACES):
        self.title = title
        self.lang = lang
        self.faces = faces
        self.pages: list[bytes] = []
        self.forms: list[bytes] = []

    def add_page(self, operators: str) -> None:
        self.pages.append(_stream(operators.encode("latin-1")))

    def add_form(self, operators: str, box: tuple[float, float, float, float]) -> str:
        """A drawing to place on pages, clipped to ``box`` (left, bottom, right, top, in points from
        where it is placed); its name for ``Do``."""
        self.forms.append(_stream(operators.encode("latin-1"), "/Type /XObject /Subtype /Form "
                                  f"/BBox [{' '.join(f'{edge:.2f}' for edge in box)}] /Resources {RESOURCES} 0 R"))  # fmt: skip
        return f"/S{len(self.forms)}"

    def output(self, chars: frozenset[str]) -> bytes:
        """The file, embedding each face as the subset holding ``chars``."""
        fonts, font_offsets = embedded_fonts(chars, self.faces)
        first_form = FIRST_FONT_OBJECT + len(self.faces) * OBJECTS_A_FACE
        first_page = first_form + len(self.forms)
        kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(len(self.pages)))
        faces = " ".join(f"/F{i + 1} {FIRST_FONT_OBJECT + i * OBJECTS_A_FACE} 0 R" for i in range(len(self.faces)))
        forms = " ".join(f"/S{i + 1} {first_form + i} 0 R" for i in range(len(self.forms)))
        now = datetime.now(timezone.utc).strftime("D:%Y%m%d%H%M%SZ")
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets: list[int] = []

        def put(number: int, data: bytes) -> None:
            offsets.append(len(out))
            out.extend(f"{number} 0 obj\n".encode() + data + b"\nendobj\n")

        put(1, f"<< /Type /Catalog /Pages 2 0 R /Lang {_text_string(self.lang)} /PageLayout /OneColumn "
               f"/OpenAction [{first_page} 0 R /FitH null] >>".encode())  # fmt: skip
        put(2, f"<< /Type /Pages /Kids [{kids}] /Count {len(self.pages)} "
               f"/MediaBox [0 0 {PAGE_SIZE[0]:.2f} {PAGE_SIZE[1]:.2f}] >>".encode())  # fmt: skip
        put(3, f"<< /Title {_text_string(self.title)} /Creator (provisioner) /CreationDate ({now}) >>".encode())
        put(RESOURCES, f"<< /Font << {faces} >> /XObject << {forms} >> /ProcSet [/PDF /Text] >>".encode())
        base = len(out)
        offsets += [base + offset for offset in font_offsets]
        out += fonts
        for i, form in enumerate(self.forms):
            put(first_form + i, form)
        for i, content in enumerate(self.pages):
            put(first_page + 2 * i, f"<< /Type /Page /Parent 2 0 R /Resources {RESOURCES} 0 R "
                                    f"/Contents {first_page + 2 * i + 1} 0 R >>".encode())  # fmt: skip
            put(first_page + 2 * i + 1, content)
        xref = len(out)
        out += f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode()
        out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
        out += f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R /Info 3 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
        return bytes(out)
