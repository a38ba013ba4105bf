"""The xlsx writer: text stays text, whatever it starts with; the file is private and well formed."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from provisioner import files
from provisioner.xlsx import Sheet, write_private_xlsx, xlsx_bytes

# What a spreadsheet would run, or show as something else, were these cells not typed as text.
HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "#N/A",
    "=",
]


def load(data: bytes):
    return load_workbook(io.BytesIO(data))


def sheet_xml(data: bytes, number: int = 1) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(f"xl/worksheets/sheet{number}.xml").decode("utf-8")


# Both ways of writing: a normal workbook, and streamed (openpyxl's write-only mode, for a trust's login cards).
WAYS = pytest.mark.parametrize("streamed", [False, True], ids=["normal", "streamed"])


@WAYS
def test_rows_round_trip_in_order(streamed: bool):
    rows = [["Oak", "Amara Okafor", 3], ["Ash", "Zoë Brontë", None], ["Elm", "Łucja Nowak", 12]]
    data = xlsx_bytes([Sheet("Pupils", ["Class", "Name", "Count"], rows)], streamed=streamed)
    ws = load(data)["Pupils"]
    assert [list(r) for r in ws.iter_rows(values_only=True)] == [["Class", "Name", "Count"], *rows]


@WAYS
def test_header_is_bold_frozen_and_filtered(streamed: bool):
    data = xlsx_bytes([Sheet("Pupils", ["Class", "Name"], [["Oak", "Amara Okafor"], ["Ash", "Tomasz Wren"]])],
                      streamed=streamed)  # fmt: skip
    ws = load(data)["Pupils"]
    assert all(cell.font.bold for cell in ws[1])
    assert not any(cell.font.bold for cell in ws[2])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:B3"


@WAYS
@pytest.mark.parametrize("value", HOSTILE)
def test_formula_like_text_stays_a_literal_string(value: str, streamed: bool):
    data = xlsx_bytes([Sheet("S", ["Name"], [[value]])], streamed=streamed)
    cell = load(data)["S"]["A2"]
    assert cell.value == value.replace("\r", "\n")  # an xlsx holds line ends as LF
    assert cell.data_type == "s"
    assert "<f>" not in sheet_xml(data) and "<f " not in sheet_xml(data)


@WAYS
def test_no_cell_is_a_formula_and_triggers_are_quote_prefixed(streamed: bool):
    rows = [[value, f"safe {i}"] for i, value in enumerate(HOSTILE)] + [["plain", "=after plain"]]
    data = xlsx_bytes([Sheet("S", ["=Header", "Plain"], rows)], streamed=streamed)
    ws = load(data)["S"]
    cells = [cell for row in ws.iter_rows() for cell in row]
    assert cells and all(cell.data_type != "f" for cell in cells)
    assert ws["A1"].value == "=Header" and ws["A1"].font.bold
    # Excel keeps a quote-prefixed cell as text even when someone edits it and presses Enter.
    for cell in cells:
        starts_with_trigger = str(cell.value).startswith((*files.FORMULA_TRIGGERS, "\n"))
        assert cell.quotePrefix == starts_with_trigger, cell.coordinate


@WAYS
def test_illegal_control_characters_are_dropped_not_fatal(streamed: bool):
    rows = [["Ama\x01ra\x07 Oka\x1ffor"], ["Tab\tand\r\nnewline"], ["x\ufffey"]]
    data = xlsx_bytes([Sheet("S", ["Na\x00me"], rows)], streamed=streamed)
    ws = load(data)["S"]
    assert ws["A1"].value == "Name"
    assert ws["A2"].value == "Amara Okafor"
    assert ws["A3"].value == "Tab\tand\nnewline"  # ordinary whitespace is kept, line ends as LF
    assert ws["A4"].value == "xy"


@WAYS
def test_numbers_and_dates_keep_their_type(streamed: bool):
    data = xlsx_bytes([Sheet("S", ["N", "D", "F"], [[7, date(2019, 9, 1), 1.5]])], streamed=streamed)
    ws = load(data)["S"]
    assert ws["A2"].value == 7 and ws["A2"].data_type == "n"
    assert ws["B2"].value.date() == date(2019, 9, 1) and ws["B2"].is_date
    assert ws["C2"].value == 1.5


def test_sheets_in_order_with_widths():
    data = xlsx_bytes([
        Sheet("First", ["A", "B"], [["x", "y"]], widths=[12, 30]),
        Sheet("Second", ["Long header"], [["v" * 200]]),
    ])  # fmt: skip
    wb = load(data)
    assert wb.sheetnames == ["First", "Second"]
    assert wb["First"].column_dimensions["A"].width == 12
    assert wb["First"].column_dimensions["B"].width == 30
    assert wb["Second"].column_dimensions["A"].width == 45  # sized to content, capped: longer text wraps


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        xlsx_bytes([Sheet("S", ["A", "B"], [["only one"]])])
    with pytest.raises(ValueError):
        xlsx_bytes([Sheet("S", ["A"], []), Sheet("s", ["A"], [])])
    with pytest.raises(ValueError):
        xlsx_bytes([])
    with pytest.raises(ValueError):
        Sheet("a/b", ["A"], [])
    with pytest.raises(ValueError):
        Sheet("x" * 32, ["A"], [])


def test_write_private_xlsx_is_owner_only_and_leaves_no_temporary(tmp_path: Path):
    path = tmp_path / "out" / "pupils.xlsx"
    write_private_xlsx(path, [Sheet("S", ["Name"], [["=Amara"]])])
    assert load(path.read_bytes())["S"]["A2"].value == "=Amara"
    assert [p.name for p in path.parent.iterdir()] == ["pupils.xlsx"]
    if files.POSIX:
        assert path.stat().st_mode & 0o777 == 0o600


def test_every_character_openpyxl_refuses_is_dropped_and_the_rest_kept():
    """The writer keeps its own copy of openpyxl's list of refused characters (so that loading
    this module does not load openpyxl); a later openpyxl that refuses more must not make a
    name with one of them fail to write."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    refused = [chr(code) for code in range(0x110000) if ILLEGAL_CHARACTERS_RE.match(chr(code))]
    assert refused  # the C0 controls
    name = "Amara" + "".join(refused) + "\tOkafor\n"
    data = xlsx_bytes([Sheet("Pupils", ["Name"], [[name]])])
    assert load(data).active["A2"].value == "Amara\tOkafor\n"


def test_a_streamed_sheet_prints_as_a_normal_one_and_keeps_short_rows_on_one_line():
    """Streamed, each column is wide enough for its longest value on one line, so a row is one
    line tall unless a value is longer than the widest column; that row wraps, as tall as its text."""
    address = "https://www.example.sch.uk/a-very-long-sign-in-address/for-the-pupils-of-this-school"
    rows = [["3B", "Amara Okafor", "Tiger10Moon"], ["3B", address, "Tiger11Moon"]]
    sheet = Sheet("Login slips", ["Class", "Name", "Password"], rows, paper="A4", orientation="portrait",
                  title_columns=1, footer="Keep private")  # fmt: skip
    ws = load(xlsx_bytes([sheet], streamed=True))["Login slips"]
    assert [list(r) for r in ws.iter_rows(values_only=True)] == [["Class", "Name", "Password"], *rows]
    assert ws.column_dimensions["C"].width >= len("Tiger10Moon") / 0.9 + 1  # the password on one line
    assert ws.column_dimensions["B"].width == 45  # capped: the address wraps
    assert ws.row_dimensions[2].height is None and ws.row_dimensions[3].height > 15
    assert ws["B3"].alignment.wrap_text and not ws["B2"].alignment.wrap_text
    assert ws.print_title_rows == "$1:$1" and ws.page_setup.orientation == "portrait"
    assert ws.oddFooter.left.text == "Keep private" and ws.freeze_panes == "A2"


@pytest.mark.parametrize("hostile", [False, True], ids=["all-plain", "one-row-needing-care"])
def test_a_streamed_sheet_reads_back_alike_in_openpyxl_and_calamine(tmp_path: Path, hostile: bool):
    """A streamed sheet's XML is written by the tool itself: both readers the tool and schools use
    read every value back as written, an empty cell as empty, whether its rows are all plain text
    (checked a column at a time) or one of them needs care (checked row by row)."""
    from python_calamine import CalamineWorkbook

    rows = [["3B", f"Child {i}", "Purple Mash", f"chi{i:04d}", f"Tiger{i:02d}Moon", ""] for i in range(40)]
    if hostile:
        rows.insert(7, ["3B", '=HYPERLINK("http://x","y")', " Zoë ", "a&b", "x<y>", "@z"])
    path = tmp_path / "cards.xlsx"
    path.write_bytes(xlsx_bytes([Sheet("Login slips", ["Class", "Name", "Platform", "Username", "Password",
                                                       "School code"], rows)], streamed=True))  # fmt: skip
    header = ["Class", "Name", "Platform", "Username", "Password", "School code"]
    read = [list(r) for r in load(path.read_bytes())["Login slips"].iter_rows(values_only=True)]
    assert read == [header, *[[value or None for value in row] for row in rows]]
    calamine = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Login slips").to_python()
    assert calamine == [header, *rows]
