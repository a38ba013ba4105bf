"""Text from a roster or the settings reaches the terminal as text: markup is shown as written,
never run; escape sequences and other control characters are shown as symbols, never sent to
the terminal (one would clear the screen, set the window's title or make a hidden link)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from conftest import Cli
from provisioner.cli import app
from provisioner.cli.common import visible
from roster_helpers import HEADER, TODAY, UPNS, pupil, write_csv

runner = CliRunner()
ESC = "\x1b"


def roster_check(path: Path, *args: str):
    return runner.invoke(app, ["roster", "check", str(path), *args])


def test_markup_in_cells_is_shown_as_written(tmp_path):
    path = write_csv(tmp_path / "roster.csv", [
        pupil(),
        pupil(adno="001002", upn=UPNS[1], forename="Amy", surname="Jones", reg="3[/]B"),
        pupil(adno="001003", upn=UPNS[2], forename="Bea", surname="[link=https://x.example]Low[/link]", reg="3B"),
    ])  # fmt: skip
    result = roster_check(path)
    assert result.exit_code == 0, result.output
    assert "3[/]B (1)" in result.output
    assert "Unexpected error" not in result.output


def test_markup_in_a_header_is_shown_as_written(tmp_path):
    header = [*HEADER[:6], "Reg [/] Group [bold]", *HEADER[7:]]
    path = write_csv(tmp_path / "roster.csv", [pupil()], header=header)
    result = roster_check(path)
    assert result.exit_code == 3, result.output  # no class column: said, with the header as written
    assert "Headers found: " in result.output and "'Reg [/] Group [bold]'" in result.output
    assert '[roster.columns] "Reg [/] Group [bold]" = "class_name"' in result.output
    assert "Traceback" not in result.output and "Unexpected error" not in result.output


def test_escape_sequences_in_cells_never_reach_the_terminal(tmp_path):
    clear_and_title = f"3{ESC}[2JB{ESC}]0;Owned\x07"
    path = write_csv(tmp_path / "roster.csv", [
        pupil(),
        pupil(adno="001002", upn=UPNS[1], forename="Amy", surname="Jones", reg=clear_and_title),
        pupil(adno="001003", upn=UPNS[2], forename="Bea", surname=f"Low{ESC}]8;;https://x.example\x07", reg="3B"),
    ])  # fmt: skip
    result = roster_check(path)
    assert result.exit_code == 3, result.output  # a control character in a name or a class is an error on its row
    assert ESC not in result.output and "\x07" not in result.output
    assert "row 3, column 'Reg Group'" in result.output and "row 4, column 'Legal Surname'" in result.output


def test_an_escape_sequence_in_a_missing_columns_header_is_shown_and_the_hint_keeps_its_section(tmp_path):
    header = [*HEADER[:6], f"Reg {ESC}[2J Group"]
    path = write_csv(tmp_path / "roster.csv", [pupil()[:6] + ["3A"]], header=header)
    result = roster_check(path)
    assert result.exit_code == 3
    assert ESC not in result.output
    assert 'e.g. [roster.columns] "Reg \u241b[2J Group" = "class_name"' in result.output
    assert "\\[" not in result.output, "a section name is shown as written, without an escape"


def test_a_hint_naming_a_settings_section_keeps_it(workspace, tmp_path):
    roster = write_csv(tmp_path / "roster.csv", [pupil()])
    result = Cli(workspace)("plan", str(roster), "--platform", "ixl", "--as-of", TODAY.isoformat())
    assert result.exit_code == 2
    assert "set enabled = true under [platforms.ixl] in" in result.output


def test_a_name_with_markup_is_shown_by_pupil_show(workspace, tmp_path):
    roster = write_csv(tmp_path / "roster.csv", [
        pupil(adno="001002", upn=UPNS[1], forename="Amy[/]", surname="[red]Jones", reg="3A")])  # fmt: skip
    cli = Cli(workspace)
    assert cli("apply", str(roster), "--yes", "--as-of", TODAY.isoformat()).exit_code == 0
    result = cli("pupil", "show", "001002")
    assert result.exit_code == 0, result.output
    assert "Amy[/] [red]Jones" in result.output


def test_visible_keeps_the_length_and_leaves_plain_text_alone():
    for text in ("Zoë O'Neill-Smith", "3B", "Łukasz", "名前"):
        assert visible(text) == text
    for text in (f"a{ESC}[2Jb", "a\u009bb", "a\u202eb", "a\x00b\x7f"):
        shown = visible(text)
        assert len(shown) == len(text) and shown.isprintable()



def test_emoji_codes_in_cells_are_shown_as_written(tmp_path):
    """A class written with colons (":star: group") is shown as typed, not as an emoji."""
    path = write_csv(tmp_path / "roster.csv", [
        pupil(),
        pupil(adno="001002", upn=UPNS[1], forename="Amy", surname="Jones", reg=":star: group"),
    ])  # fmt: skip
    result = roster_check(path)
    assert result.exit_code == 0, result.output
    assert ":star: group (1)" in result.output and "\u2b50" not in result.output
