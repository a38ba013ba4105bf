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


def test_rows_round_trip_in_order():
    rows = [["Oak", "Amara Okafor", 3], ["Ash", "Zoë Brontë", None], ["Elm", "Łucja Nowak", 12]]
    data = xlsx_bytes([Sheet("Pupils", ["Class", "Name", "Count"], rows)])
    ws = load(data)["Pupils"]
    assert [list(r) for r in ws.iter_rows(values_only=True)] == [["Class", "Name", "Count"], *rows]


def test_header_is_bold_frozen_and_filtered():
    data = xlsx_bytes([Sheet("Pupils", ["Class", "Name"], [["Oak", "Amara Okafor"], ["Ash", "Tomasz Wren"]])])
    ws = load(data)["Pupils"]
    assert all(cell.font.bold for cell in ws[1])
    assert not any(cell.font.bold for cell in ws[2])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:B3"


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_like_text_stays_a_literal_string(value: str):
    data = xlsx_bytes([Sheet("S", ["Name"], [[value]])])
    cell = load(data)["S"]["A2"]
    assert cell.value == value.replace("\r", "\n")  # an xlsx holds line ends as LF
    assert cell.data_type == "s"
    assert "<f>" not in sheet_xml(data) and "<f " not in sheet_xml(data)


def test_no_cell_is_a_formula_and_triggers_are_quote_prefixed():
    rows = [[value, f"safe {i}"] for i, value in enumerate(HOSTILE)]
    data = xlsx_bytes([Sheet("S", ["=Header", "Plain"], rows)])
    ws = load(data)["S"]
    cells = [cell for row in ws.iter_rows() for cell in row]
    assert cells and all(cell.data_type != "f" for cell in cells)
    assert ws["A1"].value == "=Header" and ws["A1"].font.bold
    # Excel keeps a quote-prefixed cell as text even when someone edits it and presses Enter.
    for cell in cells:
        starts_with_trigger = str(cell.value).startswith((*files.FORMULA_TRIGGERS, "\n"))
        assert cell.quotePrefix == starts_with_trigger, cell.coordinate


def test_illegal_control_characters_are_dropped_not_fatal():
    rows = [["Ama\x01ra\x07 Oka\x1ffor"], ["Tab\tand\r\nnewline"], ["x\ufffey"]]
    data = xlsx_bytes([Sheet("S", ["Na\x00me"], rows)])
    ws = load(data)["S"]
    assert ws["A1"].value == "Name"
    assert ws["A2"].value == "Amara Okafor"
    assert ws["A3"].value == "Tab\tand\nnewline"  # ordinary whitespace is kept, line ends as LF
    assert ws["A4"].value == "xy"


def test_numbers_and_dates_keep_their_type():
    data = xlsx_bytes([Sheet("S", ["N", "D", "F"], [[7, date(2019, 9, 1), 1.5]])])
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
