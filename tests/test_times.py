"""Times on the school's clock: the state keeps UTC, a person reads the school's time zone.

An apply on a summer day at 14:05 UTC happened at 15:05 in a school in England; the status, the
register (as JSON and as the governors' documents), and the pupil's access answer say 15:05, and
their JSON gives the offset (+01:00). The ``[school] time_zone`` setting is checked, and honoured.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from conftest import Cli, apply, key_of
from pypdf import PdfReader

from provisioner import times
from provisioner.errors import ExitCode
from provisioner.facade import Provisioner
from provisioner.jobs.create import init_workspace
from provisioner.state import records
from provisioner.synthetic import synthetic_pupils, write_roster_xlsx
from provisioner.workspace import Workspace

SUMMER_DAY = date(2026, 6, 27)
SUMMER_UTC = datetime(2026, 6, 27, 14, 5, tzinfo=UTC)  # 15:05 in England (BST)


class _SummerClock(datetime):
    """The state's clock stopped at 14:05 UTC on a summer day (``records.now`` reads it)."""

    @classmethod
    def now(cls, tz=None):
        return SUMMER_UTC.astimezone(tz) if tz else SUMMER_UTC.replace(tzinfo=None)


def _set_time_zone(workspace: Workspace, name: str) -> None:
    """Write ``time_zone`` into the [school] section of provisioner.toml, as a school would."""
    lines = workspace.settings_path.read_text(encoding="utf-8").splitlines()
    lines = [line for line in lines if not line.startswith("time_zone")]
    lines.insert(lines.index("[school]") + 1, f'time_zone = "{name}"')
    workspace.settings_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    workspace.__dict__.pop("settings", None)


@pytest.fixture
def summer(tmp_path: Path, monkeypatch) -> tuple[Workspace, dict]:
    """A workspace whose one apply ran at 14:05 UTC on 27 June 2026, and one pupil it sent."""
    workspace = init_workspace(tmp_path / "ws", "Test Primary School", "test.sch.uk", ["purple-mash"])
    pupils = synthetic_pupils(12, seed=3, today=SUMMER_DAY, leavers=0)
    roster = tmp_path / "roster.xlsx"
    write_roster_xlsx(roster, pupils)
    monkeypatch.setattr(records, "datetime", _SummerClock)
    apply(workspace, roster, today=SUMMER_DAY)
    monkeypatch.undo()
    return workspace, pupils[0]


def test_the_state_keeps_utc(summer):
    workspace, _ = summer
    with workspace.open_state() as state:
        [run] = [r for r in state.last_runs() if r["command"] == "apply"]
    assert run["started_at"] == "2026-06-27T14:05:00+00:00"


def test_status_shows_the_school_clock_and_its_json_the_offset(summer):
    workspace, _ = summer
    cli = Cli(workspace)
    shown = cli("status", "--as-of", "2026-06-28")
    assert shown.exit_code == 0, shown.output
    assert "27 June 2026, 15:05" in shown.output
    assert "14:05" not in shown.output

    report = json.loads(cli("status", "--json", "--as-of", "2026-06-28").output)
    [run] = [r for r in report["runs"] if r["command"] == "apply"]
    assert run["started_at"] == "2026-06-27T15:05:00+01:00"
    assert run["finished_at"] == "2026-06-27T15:05:00+01:00"
    [waiting] = report["platforms"]["purple-mash"]["awaiting_upload"]
    assert waiting["issued_at"] == "2026-06-27T15:05:00+01:00"


def test_the_register_shows_the_school_clock(summer, tmp_path):
    workspace, _ = summer
    cli = Cli(workspace)
    register = json.loads(cli("register", "show", "--json", "--as-of", "2026-06-28").output)
    evidence = register["processors"]["purple-mash"]["evidence"]
    assert evidence["last_provisioning"] == "2026-06-27T15:05:00+01:00"
    assert evidence["last_cleanup"] is None

    for fmt in ("md", "html"):
        out = tmp_path / f"register.{fmt}"
        written = cli("register", "export", "--format", fmt, "--out", str(out), "--as-of", "2026-06-28")
        assert written.exit_code == 0, written.output
        text = out.read_text(encoding="utf-8")
        assert "27 June 2026, 15:05" in text, fmt
        assert "14:05" not in text and "UTC" not in text, fmt


def test_a_pupils_access_answer_gives_the_school_clock(summer, tmp_path):
    workspace, pupil = summer
    pdf = tmp_path / "access.pdf"
    shown = Cli(workspace)("pupil", "show", key_of(pupil).split(":")[1], "--json", "--pdf", str(pdf),
                           "--as-of", "2026-06-28")  # fmt: skip
    held = json.loads(shown.stdout)["processors"]["purple-mash"]
    assert [h["at"] for h in held["history"]] == ["2026-06-27T15:05:00+01:00"]
    assert held["since"] == "2026-06-27"  # a day stays a day
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(pdf).pages).split())
    assert "27 June 2026, 15:05" in text and "14:05" not in text


def test_an_approval_is_timed_on_the_school_clock(summer, monkeypatch):
    workspace, _ = summer
    monkeypatch.setattr(records, "datetime", _SummerClock)
    cli = Cli(workspace)
    approved = cli("register", "approve", "purple-mash", "--by", "A. Head", "--as-of", "2026-06-27")
    assert approved.exit_code == 0, approved.output
    assert "at 27 June 2026, 15:05 by A. Head" in approved.output
    receipt = json.loads(cli("register", "approve", "purple-mash", "--by", "A. Head", "--json").output)
    assert receipt["approved_at"] == "2026-06-27T15:05:00+01:00"


def test_another_time_zone_is_honoured(summer):
    workspace, _ = summer
    _set_time_zone(workspace, "UTC")
    cli = Cli(workspace)
    report = json.loads(cli("status", "--json", "--as-of", "2026-06-28").output)
    [run] = [r for r in report["runs"] if r["command"] == "apply"]
    assert run["started_at"] == "2026-06-27T14:05:00+00:00"
    assert "27 June 2026, 14:05" in cli("status", "--as-of", "2026-06-28").output

    _set_time_zone(workspace, "America/New_York")
    register = json.loads(cli("register", "show", "--json", "--as-of", "2026-06-28").output)
    assert register["processors"]["purple-mash"]["evidence"]["last_provisioning"] == "2026-06-27T10:05:00-04:00"


def test_a_time_zone_nobody_knows_is_a_clear_settings_error(workspace):
    _set_time_zone(workspace, "Europe/Londn")
    cli = Cli(workspace)
    result = cli("status")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "school.time_zone" in result.output and "Europe/Londn" in result.output
    assert "Europe/London" in result.output  # says what a right name looks like
    assert "Traceback" not in result.output

    answer = json.loads(cli("status", "--json").stdout)
    assert "school.time_zone" in answer["error"]["message"]


def test_a_new_workspace_names_its_time_zone(workspace):
    text = workspace.settings_path.read_text(encoding="utf-8")
    assert 'time_zone = "Europe/London"' in text
    assert workspace.settings.school.time_zone == "Europe/London"


def test_winter_and_summer_in_england():
    london = times.zone("Europe/London")
    assert times.stamp("2026-11-27T14:05:00+00:00", london) == "2026-11-27T14:05:00+00:00"
    assert times.stamp("2026-06-27T14:05:00+00:00", london) == "2026-06-27T15:05:00+01:00"
    assert times.shown("2026-06-27T14:05:00+00:00", london) == "27 June 2026, 15:05"
    assert times.shown("2026-06-27T15:05:00+01:00") == "27 June 2026, 15:05"  # already the school's clock
    assert times.shown("2026-06-27") == "27 June 2026"  # a day stays a day
    assert times.stamp("2026-06-27", london) == "2026-06-27"
    assert times.shown(None) == "never"
    # 23:30 UTC on a June evening is already the next day in England.
    assert times.day("2026-06-27T23:30:00+00:00", london) == "2026-06-28"


class _LateOnJune27(datetime):
    """23:30 UTC on 27 June 2026: already 28 June in England."""

    @classmethod
    def now(cls, tz=None):
        late = datetime(2026, 6, 27, 23, 30, tzinfo=UTC)
        return late.astimezone(tz) if tz else late.replace(tzinfo=None)


def test_today_is_the_schools_day(workspace, monkeypatch):
    monkeypatch.setattr(times, "datetime", _LateOnJune27)
    cli = Cli(workspace)
    assert json.loads(cli("status", "--json").stdout)["as_of"] == "2026-06-28"
    _set_time_zone(workspace, "UTC")
    assert json.loads(cli("status", "--json").stdout)["as_of"] == "2026-06-27"


def test_a_register_exported_after_midnight_is_dated_the_schools_day(summer, monkeypatch):
    workspace, _ = summer
    monkeypatch.setattr(times, "datetime", _LateOnJune27)
    _, register = Provisioner(workspace).export_register("md")
    assert register.today == date(2026, 6, 28)
