"""The file settings under [platforms.<id>]: what each may be, the messages when it is not, that
they reach the file the admin uploads, and the longer password a school may ask for."""

from __future__ import annotations

import codecs
import csv
import io

import pytest
from conftest import TODAY, Cli, approve_register, set_platform, yes
from pydantic import ValidationError

from connectors.bug_club import BugClub
from connectors.microsoft_365 import Microsoft365
from connectors.tt_rockstars import TimesTablesRockStars
from provisioner import files
from provisioner.facade import Provisioner


def settings(cls, **raw):
    return cls.Settings.model_validate(raw, context={"connector": cls})


def refused(cls, **raw) -> str:
    with pytest.raises(ValidationError) as caught:
        settings(cls, **raw)
    return str(caught.value)


def test_the_defaults_are_a_bom_commas_minimal_quoting_day_first_dates_and_mis_codes():
    ttrs = TimesTablesRockStars()
    assert [ttrs.file_setting(name) for name in ("encoding", "delimiter", "quoting", "date_format",
                                                 "year_group_style")] == [
        "utf-8-sig", ",", "minimal", "dd/mm/yyyy", "code"]  # fmt: skip
    assert BugClub().file_setting("date_format") == "dd/mm/yyyy", "Pearson's form takes dd/mm/yyyy"


def test_a_schools_setting_wins_over_the_platforms_default():
    bug_club = BugClub(settings(BugClub, file_format="csv", date_format="yyyy-mm-dd", delimiter="tab",
                                encoding="UTF-8"))
    assert bug_club.file_setting("date_format") == "yyyy-mm-dd"
    assert bug_club.file_setting("delimiter") == "\t", '"tab" is read as the tab character'
    assert bug_club.file_setting("encoding") == "utf-8"


def test_windows_1252_is_refused_saying_why_and_what_to_use():
    message = refused(TimesTablesRockStars, encoding="cp1252")
    assert "cannot hold every pupil's name" in message and '"utf-8-sig"' in message


@pytest.mark.parametrize(("key", "value", "offered"), [
    ("delimiter", "|", "';'"), ("quoting", "none", "'all'"), ("date_format", "mm/dd/yyyy", "'yyyy-mm-dd'"),
    ("year_group_style", "roman", "'words'"),
])  # fmt: skip
def test_an_unknown_value_names_the_ones_allowed(key, value, offered):
    message = refused(TimesTablesRockStars, **{key: value})
    assert f"{value!r} is not one of" in message and offered in message


def test_file_settings_are_refused_on_a_platform_fed_no_import_file():
    message = refused(Microsoft365, delimiter=";")
    assert "applies only to platforms fed an import file" in message and "take delimiter out" in message


def test_the_year_group_styles():
    for style, reception, year_four in (("code", "R", "4"), ("number", "0", "4"), ("words", "Reception", "Year 4")):
        ttrs = TimesTablesRockStars(settings(TimesTablesRockStars, year_group_style=style))
        rows = [ttrs.delivery.import_row(ttrs.view({"forename": "A", "surname": "B", "class_name": "4W",
                                                    "year_group": year, "username": "ab", "password": "Tiger47"}))
                for year in ("R", "4")]  # fmt: skip
        assert [rows[0][3], rows[1][3]] == [reception, year_four], style


@pytest.mark.parametrize("quoting", ["minimal", "all"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_formulas_are_made_text_whatever_the_settings(quoting, delimiter):
    data = files.csv_bytes(["Class"], [["=1+2"], ["@SUM(A1)"], ["-2+3"], ["+44"]], encoding="utf-8-sig",
                           delimiter=delimiter, quote_all=quoting == "all")  # fmt: skip
    assert data.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))
    assert [row[0] for row in rows[1:]] == ["'=1+2", "'@SUM(A1)", "'-2+3", "'+44"]


def test_a_formula_among_thousands_of_plain_rows_is_made_text_and_the_rest_written_as_they_are():
    """A trust's file is written a chunk of rows at a time: one cell to neutralise, a number or an
    empty cell anywhere in it is still written as it would be alone."""
    rows = [[f"Pupil {n}", f"{n % 7}W"] for n in range(2_500)]
    rows[1_500][1], rows[2_100] = "=HYPERLINK(0)", ["Pupil 2100", None]
    rows[2_400] = ["Pupil 2400", 44]
    written = list(csv.reader(io.StringIO(files.csv_bytes(["Name", "Class"], rows).decode("utf-8"))))
    alone = [list(csv.reader(io.StringIO(files.csv_bytes(["Name", "Class"], [row]).decode("utf-8"))))[1]
             for row in rows]  # fmt: skip
    assert written[1:] == alone
    assert written[1_501][1] == "'=HYPERLINK(0)" and written[2_101] == ["Pupil 2100", ""] and written[2_401][1] == "44"
    assert written[1] == ["Pupil 0", "0W"]


def test_password_min_length_cannot_go_below_six_nor_the_platforms_minimum():
    assert "between 6 and 20" in refused(TimesTablesRockStars, password_min_length=5)
    message = refused(Microsoft365, password_min_length=7)
    assert "below Microsoft 365's own minimum of 8" in message


def test_the_settings_reach_the_file_the_admin_uploads(tmp_path, pupils):
    from provisioner.jobs.create import init_workspace
    from provisioner.synthetic import write_roster_csv

    workspace = init_workspace(tmp_path / "ws", "Settings Primary", "settings.sch.uk", ["tt-rockstars"])
    set_platform(workspace, "tt-rockstars", encoding='"utf-8"', delimiter='";"', quoting='"all"',
                 year_group_style='"words"', password_min_length="8")  # fmt: skip
    approve_register(workspace)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, pupils)
    result = Provisioner(workspace).apply(roster, confirm=yes, today=TODAY)
    [batch] = result.batches
    data = batch.path.read_bytes()
    assert not data.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8")), delimiter=";"))
    assert rows and data.decode("utf-8").startswith('"First name";"Last name"')
    assert all(row["Year group"].startswith("Year ") for row in rows)
    assert all(len(row["Password"]) >= 8 for row in rows)


def test_a_bad_file_setting_stops_plan_with_the_setting_named(workspace, roster_file):
    set_platform(workspace, "purple-mash", encoding='"cp1252"')
    result = Cli(workspace)("plan", str(roster_file), "--as-of", TODAY.isoformat())
    assert result.exit_code == 2
    assert "platforms.purple-mash.encoding" in result.output and "utf-8-sig" in result.output
