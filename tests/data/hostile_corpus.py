"""The hostile-input corpus: roster files made to mislead or to break the reader, each written
by this script (never hand-edited bytes) with what reading it must say.

Run it to look at the files: ``python tests/data/hostile_corpus.py FOLDER``. The test
(tests/test_hostile_corpus.py) writes them into a temporary folder and checks each through
``provisioner roster check --json``: the exit code, a phrase of the message and, for a row's
problem, the row, never a traceback. Every name is made up.

Each case is ``Case(file name, how to write it, exit code, phrase, row)``: exit 0 with the
phrase among the warnings (or None: read cleanly), exit 3 with the phrase among the errors or
as the refusal. The files are small but a few: a CSV one byte over the size limit, refused before
it is read; a workbook that unzips to over the limit (a zip bomb), refused as it unzips; a CSV
just under the size limit in two million rows of short cells, refused as its rows are read; and
sixty thousand rows of errors, more than are listed.

``python tests/data/hostile_corpus.py --report`` writes the files into a temporary folder and
prints each with its exit code and the first line of its message, as a Markdown table.
"""

from __future__ import annotations

import io
import os
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HEADER = ["Adno", "UPN", "Legal Forename", "Legal Surname", "Preferred Forename", "Year", "Reg Group", "Date of Birth"]
UPNS = ["B801200005001", "C823201718001", "R823201718002", "F823201718003", "V823201718004"]


def pupil(n: int = 0, forename: str = "Maisie", surname: str = "Thornbury", year: str = "Year 3", reg: str = "3A",
          dob: str = "14/03/2018") -> list[str]:  # fmt: skip
    return [f"{1001 + n:06}", UPNS[n % len(UPNS)], forename, surname, "", year, reg, dob]


GOOD = [pupil(0), pupil(1, "Arlo", "Okafor", reg="3B", dob="02/11/2017")]


def csv_text(rows: list[list[str]], delimiter: str = ",", header: list[str] | None = None) -> str:
    def field(value: str) -> str:
        if any(ch in value for ch in (delimiter, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(delimiter.join(field(v) for v in row) + "\r\n" for row in [header or HEADER, *rows])


def text(rows: list[list[str]], encoding: str = "utf-8", prefix: bytes = b"", **options) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(prefix + csv_text(rows, **options).encode(encoding))


def raw(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


def xlsx(sheets: list[tuple[str, list[list], bool]], merge: str | None = None) -> Callable[[Path], None]:
    """A workbook of (title, rows, hidden) sheets, through openpyxl as Excel would write it."""

    def write(path: Path) -> None:
        from openpyxl import Workbook

        book = Workbook()
        book.remove(book.active)
        for title, rows, hidden in sheets:
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(row)
            if hidden:
                sheet.sheet_state = "hidden"
            if merge and not hidden:
                sheet.merge_cells(merge)
        book.active = next(i for i, (_, _, hidden) in enumerate(sheets) if not hidden)
        book.save(path)

    return write


def workbook_bytes(rows: list[list]) -> bytes:
    buffer = io.BytesIO()
    xlsx([("Pupils", [HEADER, *rows], False)])(buffer)
    return buffer.getvalue()


def password_protected(rows: list[list]) -> Callable[[Path], None]:
    """A workbook saved with a password, as Excel's 'Encrypt with Password' writes it: not a zip
    but an OLE compound file holding the streams EncryptionInfo and EncryptedPackage (agile
    encryption, Excel 2010's and later, by msoffcrypto-tool)."""

    def write(path: Path) -> None:
        from msoffcrypto.format.ooxml import OOXMLFile

        with path.open("wb") as encrypted:
            OOXMLFile(io.BytesIO(workbook_bytes(rows))).encrypt("Synthetic-Pa55word", encrypted)

    return write


def zip_bomb(unzipped: int) -> Callable[[Path], None]:
    """A real workbook whose sheet is padded with ``unzipped`` spaces: deflated, almost nothing."""

    def write(path: Path) -> None:
        with zipfile.ZipFile(io.BytesIO(workbook_bytes(GOOD))) as source, \
                zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:  # fmt: skip
            for item in source.infolist():
                data = source.read(item)
                if item.filename == "xl/worksheets/sheet1.xml":
                    with bomb.open(item.filename, "w", force_zip64=True) as part:
                        head, _, tail = data.partition(b"<sheetData>")
                        part.write(head + b"<sheetData>")
                        chunk = b" " * (1024 * 1024)
                        for _ in range(unzipped // len(chunk) + 1):
                            part.write(chunk)
                        part.write(tail)
                    continue
                bomb.writestr(item.filename, data)

    return write


def far_cell(reference: str, first: bool = False) -> Callable[[Path], None]:
    """A real workbook of two pupils and one more cell far down or right (``reference``): a few
    kilobytes that, read from A1 with every empty cell, are billions of cells. ``first``: its row
    written before the others, out of order, so the sheet's last row is not its highest."""

    def write(path: Path) -> None:
        row = int(reference.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        with zipfile.ZipFile(io.BytesIO(workbook_bytes(GOOD))) as source, \
                zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as far:  # fmt: skip
            for item in source.infolist():
                data = source.read(item)
                if item.filename == "xl/worksheets/sheet1.xml":
                    cell = f'<row r="{row}"><c r="{reference}" t="inlineStr"><is><t>x</t></is></c></row>'
                    if first:
                        data = data.replace(b"<sheetData>", b"<sheetData>" + cell.encode(), 1)
                    else:
                        data = data.replace(b"</sheetData>", cell.encode() + b"</sheetData>", 1)
                far.writestr(item.filename, data)

    return write


def large_csv(size: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with path.open("wb") as handle:
            handle.write(csv_text(GOOD).encode())
            filler = (",".join([""] * len(HEADER)) + "\r\n").encode() * 100_000
            while handle.tell() <= size:
                handle.write(filler)

    return write


def short_cells(size: int) -> Callable[[Path], None]:
    """Rows of eight two-letter cells to just under ``size`` bytes: two million rows, far more than
    any roster has (read whole, such a file once took 13 GB)."""

    def write(path: Path) -> None:
        with path.open("wb") as handle:
            handle.write(csv_text([]).encode())
            rows = b"ab,cd,ef,gh,ij,kl,mn,op\r\n" * 100_000
            while handle.tell() + len(rows) < size:
                handle.write(rows)

    return write


def rows_of_errors(count: int) -> Callable[[Path], None]:
    """``count`` rows, each with an error in every column, each error in words of its own: more
    errors than are listed (provisioner.roster.rows.MAX_LISTED_PROBLEMS)."""

    def write(path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write(csv_text([]))
            for n in range(count):
                handle.write(f"{n},X{n},1{n},2{n},3{n},Year {n},C\x07{n},{n}/{n}/{n}\r\n")

    return write


def million_empty_rows(path: Path) -> None:
    with path.open("wb") as handle:
        handle.write(csv_text(GOOD).encode())
        handle.write((",,,,,,,\r\n" * 1_000_000).encode())


def folder(path: Path) -> None:
    path.mkdir()


def dangling_link(path: Path) -> None:
    path.symlink_to(path.with_name("nowhere.csv"))


def link_to_roster(path: Path) -> None:
    target = path.with_name("linked-target.csv").absolute()
    target.write_text(csv_text(GOOD), encoding="utf-8")
    path.symlink_to(target)


def unreadable(path: Path) -> None:
    path.write_text(csv_text(GOOD), encoding="utf-8")
    path.chmod(0)


@dataclass(frozen=True)
class Case:
    name: str
    write: Callable[[Path], None]
    exit_code: int
    phrase: str | None  # in a warning (exit 0) or an error or the refusal (exit 3); None: read cleanly
    row: int | None = None  # the row the problem names, where it is a row's


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file: an old .xls, or an encrypted workbook
TOO_BIG = 50 * 1024 * 1024  # provisioner.roster.decode.MAX_ROSTER_BYTES
BOMB = 300 * 1024 * 1024  # MAX_UNZIPPED_BYTES

CASES: list[Case] = [
    # Encodings and byte-order marks
    Case("utf8.csv", text(GOOD), 0, None),
    Case("utf8-bom.csv", text(GOOD, prefix=b"\xef\xbb\xbf"), 0, None),
    Case("utf16-le-bom.csv", text(GOOD, "utf-16"), 0, None),
    Case("utf16-be-bom.csv", text(GOOD, "utf-16-be", prefix=b"\xfe\xff"), 0, None),
    Case("utf16-no-bom.csv", text(GOOD, "utf-16-le"), 3, "NUL bytes"),
    Case("windows-1252.csv", text([pupil(0, "Zoë", "Brontë")], "cp1252"), 0, "read as Windows-1252"),
    Case("mixed-encodings.csv", raw(csv_text([pupil(0, "Zoë")]).encode() + csv_text([pupil(1, "Renée")])
                                    .split("\r\n", 1)[1].encode("cp1252")), 0, "read as Windows-1252"),  # fmt: skip
    Case("nul-in-a-name.csv", raw(csv_text([pupil(0, "Mai\x00sie")]).encode()), 3, "NUL bytes"),
    Case("only-a-bom.csv", raw(b"\xef\xbb\xbf"), 3, "the roster has no pupils"),
    Case("empty.csv", raw(b""), 3, "is empty"),
    # Delimiters, quoting and line ends
    Case("semicolons.csv", text(GOOD, delimiter=";"), 0, None),
    Case("tabs.tsv", text(GOOD, delimiter="\t"), 0, None),
    Case("pipes.txt", text(GOOD, delimiter="|"), 0, None),
    Case("stray-delimiters.csv", raw((csv_text(GOOD) + "001003,R823201718002,Bea,Low,,Year 3,3A,14/03/2018,,,x,\r\n")
                                     .encode()), 0, None),  # fmt: skip
    Case("short-row.csv", raw((csv_text(GOOD) + "001003,R823201718002,Bea\r\n").encode()), 3, "is blank", 4),
    Case("newline-in-a-name.csv", text([*GOOD, pupil(2, "Bea\nTrice")]), 0, None),  # read as "Bea Trice"
    Case("mixed-line-ends.csv", raw(csv_text(GOOD).replace("\r\n", "\n", 2).encode()), 0, None),
    Case("unclosed-quote.csv", raw((csv_text(GOOD) + '001003,R823201718002,"Bea,Low,,Year 3,3A,14/03/2018\r\n')
                                   .encode()), 3, None, 4),  # fmt: skip
    # Headers
    Case("duplicate-headers.csv", text(GOOD, header=[*HEADER[:7], "Legal Surname"]), 3, None),
    Case("header-in-row-6.csv", raw(("School roster\r\nExported 2026\r\n\r\nAll pupils\r\n\r\n" + csv_text(GOOD))
                                    .encode()), 0, None),  # fmt: skip
    Case("header-in-row-40.csv", raw(("\r\n" * 39 + csv_text(GOOD)).encode()), 3, "no header row found"),
    Case("merged-header.xlsx", xlsx([("Pupils", [["Pupil roster"], HEADER, *GOOD], False)], merge="A1:H1"), 0, None),
    Case("no-class-column.csv", text([row[:6] for row in GOOD], header=HEADER[:6]), 3, "required columns missing"),
    # Sheets
    Case("hidden-first-sheet.xlsx", xlsx([("Old", [HEADER, GOOD[0]], True), ("Pupils", [HEADER, *GOOD], False)]),
         3, "is hidden in Excel"),  # fmt: skip
    Case("two-roster-sheets.xlsx", xlsx([("KS1", [HEADER, GOOD[0]], False), ("KS2", [HEADER, GOOD[1]], False)]),
         0, "also has a roster's header row"),  # fmt: skip
    Case("notes-sheet-first.xlsx", xlsx([("Notes", [["Read me"]], False), ("Pupils", [HEADER, *GOOD], False)]),
         0, None),  # fmt: skip
    # Formulas
    Case("formula-in-a-name.xlsx", xlsx([("Pupils", [HEADER, GOOD[0], pupil(1, '=HYPERLINK("http://x.example","Arlo")')],
                                          False)]), 3, "formula", 3),  # fmt: skip
    Case("formula-text-in-a-csv.csv", text([GOOD[0], pupil(1, "=1+2")]), 3, "formula", 3),
    Case("formula-in-a-date.csv", text([GOOD[0], pupil(1, dob="=DATE(2017,11,2)")]), 3, "formula", 3),
    # Dates
    Case("excel-serial-dates.csv", text([pupil(0, dob="43173")]), 0, "serial", 2),
    Case("month-first-dates.csv", text([pupil(0, dob="03/14/2018")]), 3, None, 2),
    Case("two-digit-years.csv", text([pupil(0, dob="14/03/18")]), 3, None, 2),
    Case("dates-in-words.csv", text([pupil(0, dob="14 March 2018"), pupil(1, dob="2 Nov 2017")]), 0, None),
    Case("iso-dates.csv", text([pupil(0, dob="2018-03-14")]), 0, None),
    Case("no-such-date.csv", text([pupil(0, dob="31/02/2018")]), 3, None, 2),
    # Names
    Case("enormous-cell.csv", text([GOOD[0], pupil(1, surname="A" * 1_000_000)]), 3, "at line 3"),
    Case("long-name.csv", text([GOOD[0], pupil(1, surname="A" * 20_000)]), 3, "too long to be one name", 3),
    Case("seven-names.csv", text([pupil(0, "Ann Bea Cat Dot Eve Fay Gil")]), 3, None, 2),
    Case("right-to-left-override.csv", text([pupil(0, "Mai\u202esie")]), 3, "invisible", 2),
    Case("right-to-left-mark.csv", text([pupil(0, "Maisie\u200f")]), 3, "invisible formatting character", 2),
    Case("zero-width-only.csv", text([GOOD[0], pupil(1, "\u200b\u2060")]), 3, None, 3),
    Case("soft-hyphen-only.csv", text([GOOD[0], pupil(1, surname="\u00ad")]), 3, None, 3),
    Case("combining-characters.csv", text([pupil(0, "Zoe\u0308", "Bronte\u0308")]), 0, None),
    Case("emoji-in-a-name.csv", text([GOOD[0], pupil(1, "Arlo\U0001f600")]), 0, None),  # a name as written
    Case("escape-sequence-in-a-class.csv", text([pupil(0, reg="3\x1b[2JA")]), 3, "retype the class", 2),
    # Values
    Case("duplicate-ids.csv", text([GOOD[0], pupil(0, "Arlo", "Okafor")]), 3, None, 3),
    Case("year-in-words.csv", text([pupil(0, year="Year Three")]), 0, None),
    Case("impossible-year.csv", text([pupil(0, year="Year 33")]), 3, "impossible year group", 2),
    Case("header-only.csv", text([]), 3, "no pupil rows"),
    Case("a-million-empty-rows.csv", million_empty_rows, 0, None),
    # Not rosters
    Case("workbook-named-csv.csv", raw(workbook_bytes(GOOD)), 3, "is a spreadsheet workbook"),
    Case("text-named-xlsx.xlsx", text(GOOD), 3, "cannot be read as a .xlsx"),
    Case("truncated.xlsx", lambda path: path.write_bytes(workbook_bytes(GOOD)[:1500]), 3, "cannot be read as a .xlsx"),
    Case("damaged-xls.xls", raw(OLE + b"\x00" * 600), 3, "cannot be read as a .xls"),
    Case("old-xls-named-xlsx.xlsx", raw(OLE + b"\x00" * 600), 3, "old Excel 97-2003 workbook (.xls)"),
    # Passwords: an encrypted workbook is an OLE compound file, as an old .xls is
    Case("password-protected.xlsx", password_protected(GOOD), 3, "protected with a password"),
    Case("password-protected-named-xls.xls", password_protected(GOOD), 3, "protected with a password"),
    Case("password-protected-named-csv.csv", password_protected(GOOD), 3, "protected with a password"),
    Case("a-word-document.docx", raw(b"PK\x03\x04"), 3, "unsupported file type"),
    Case("a-folder.csv", folder, 3, "is not a file"),
    Case("dangling-link.csv", dangling_link, 3, "roster file not found"),
    Case("link-to-a-roster.csv", link_to_roster, 0, None),
    Case("unreadable.csv", unreadable, 3, "cannot read"),
    # Size
    Case("over-the-size-limit.csv", large_csv(TOO_BIG), 3, "a roster can be"),
    Case("zip-bomb.xlsx", zip_bomb(BOMB), 3, "unzips to more than"),
    Case("a-cell-at-XFD1048576.xlsx", far_cell("XFD1048576"), 3, "reaching row 1,048,576 and column XFD"),
    Case("a-cell-at-row-900000.xlsx", far_cell("A900000"), 3, "reaching row 900,000:"),
    Case("a-wide-cell-in-a-row-out-of-order.xlsx", far_cell("XFD300", first=True), 3,
         "reaching row 300 and column XFD"),
    Case("short-cells-two-million-rows.csv", short_cells(TOO_BIG - 1024 * 1024), 3, "rows with something in them"),
    Case("sixty-thousand-rows-of-errors.csv", rows_of_errors(60_000), 3, "more errors in rows after row"),
]


def build(into: Path, cases: list[Case] = CASES) -> None:
    into.mkdir(parents=True, exist_ok=True)
    for case in cases:
        case.write(into / case.name)


def first_message(answer: dict) -> str:
    """The first thing a ``roster check --json`` answer says: the refusal, else the first error,
    else the first warning (each with its row and column), else that the file read cleanly."""
    if "error" in answer:
        return answer["error"]["message"]
    if answer.get("refused"):
        return answer["refused"]
    for kind in ("errors", "warnings"):
        if answer.get(kind):
            problem = answer[kind][0]
            where = ", ".join(([f"row {problem['row']}"] if problem["row"] is not None else [])
                              + ([f"column '{problem['column']}'"] if problem["column"] else []))  # fmt: skip
            more = f" (and {len(answer[kind]) - 1} more)" if len(answer[kind]) > 1 else ""
            return f"{kind[:-1]}: {where + ': ' if where else ''}{problem['message']}{more}"
    return f"read cleanly: {answer['pupils']} pupil(s)"


def report(folder: Path, cases: list[Case] = CASES) -> str:
    """Each file of the corpus with the exit code of ``provisioner roster check --json`` on it and
    the first line of its message, as a Markdown table."""
    import json

    from typer.testing import CliRunner

    from provisioner.cli import app

    runner = CliRunner()
    lines = ["| File | Exit code | First line of the message |", "|---|---|---|"]
    for case in cases:
        result = runner.invoke(app, ["roster", "check", str(folder / case.name), "--json"])
        try:
            message = first_message(json.loads(result.stdout))
        except ValueError:
            message = f"(no JSON answer: {result.output.strip()[:200]})"
        message = message.splitlines()[0] if message else ""
        lines.append(f"| {case.name} | {result.exit_code} | {message.replace('|', chr(92) + '|')} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--report"]:
        import tempfile

        with tempfile.TemporaryDirectory() as temporary:
            corpus = Path(temporary) / "corpus"
            build(corpus)
            try:
                print(report(corpus))
            finally:
                (corpus / "unreadable.csv").chmod(0o600)
        sys.exit(0)
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    build(out)
    print(f"{len(CASES)} files in {out}{os.sep}")
