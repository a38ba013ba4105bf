from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from typer.testing import CliRunner

from graph_standin import GraphStandIn
from provisioner.cli import app
from provisioner.facade import Provisioner
from provisioner.register import approve_all
from provisioner.roster import normalise_mis_id
from provisioner.synthetic import synthetic_pupils, write_roster_xlsx
from provisioner.jobs.create import init_workspace
from provisioner.workspace import Workspace
from provisioner.xlsx import text_rows

# No test is timed (speed is the benchmarks' business): Hypothesis's per-example deadline would
# fail a property on a busy machine that holds everywhere else.
hypothesis_settings.register_profile("untimed", deadline=None)
hypothesis_settings.load_profile("untimed")

TODAY = date(2026, 11, 22)


def key_of(row: dict) -> str:
    """The roster's key for a synthetic row: its MIS id compared without the leading zeros."""
    return f"mis:{normalise_mis_id(row['mis_id'])}"


def set_platform(workspace: Workspace, platform: str, **values: str) -> None:
    """Set keys (TOML values as text) in a platform's section of provisioner.toml."""
    lines = workspace.settings_path.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"[platforms.{platform}]") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    section = [line for line in lines[start:end] if line.split(" = ")[0] not in values]
    section[:0] = [f"{key} = {value}" for key, value in values.items()]
    lines[start:end] = section
    workspace.settings_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    workspace.__dict__.pop("settings", None)


def approve_register(workspace: Workspace, by: str = "Test Admin") -> None:
    """What the admin does after changing what a platform is sent: approve the register as it
    stands (apply refuses a field list nobody approved)."""
    with workspace.open_state() as state:
        approve_all(workspace, state, by, "platform admin", date.today(), note="settings changed")


def yes(_plan) -> bool:
    """The admin's answer at the confirmation prompt, in tests that drive the facade directly."""
    return True


def apply(workspace: Workspace, roster: Path, today: date = TODAY, **options):
    """What 'provisioner apply ROSTER --yes' does, through the facade every front end uses."""
    return Provisioner(workspace).apply(roster, confirm=yes, today=today, **options)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "ws", "Test Primary School", "test.sch.uk", ["purple-mash"])


@pytest.fixture
def pupils() -> list[dict]:
    return synthetic_pupils(60, seed=7, today=TODAY, leavers=2)


@pytest.fixture
def roster_file(tmp_path: Path, pupils: list[dict]) -> Path:
    path = tmp_path / "roster.xlsx"
    write_roster_xlsx(path, pupils)
    return path


class Cli:
    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        return self.runner.invoke(app, [*args, "--workspace", str(self.workspace.root)], input=input)


@pytest.fixture
def cli(workspace: Workspace) -> Cli:
    return Cli(workspace)


@pytest.fixture
def graph(monkeypatch):
    """A Graph stand-in with the licence group, and the app's secret in the environment."""
    with GraphStandIn(write_limit=None) as g:
        g.add_group("Pupils - A1 licence")
        monkeypatch.setenv("PROVISIONER_M365_CLIENT_SECRET", g.client_secret)
        yield g


@pytest.fixture
def m365(tmp_path, graph) -> Workspace:
    """A workspace with only Microsoft 365 on, pointing at the stand-in."""
    from m365_helpers import configure

    workspace = init_workspace(tmp_path / "ws", "Graph Primary", "graph.sch.uk", ["microsoft-365"])
    configure(workspace, graph)
    return workspace


@pytest.fixture
def microsoft_365_double(graph) -> dict:
    """Settings pointing the Microsoft 365 connector at the Graph stand-in (the contract suite's double)."""
    return {"tenant_id": graph.tenant_id, "client_id": graph.client_id, "authority_host": graph.authority_host,
            "graph_url": graph.graph_url, "ca_bundle": str(graph.ca_path), "domain": "pupils.contract.sch.uk",
            "writes_per_second": 60}  # fmt: skip


def import_rows(path: Path) -> list[dict[str, str]]:
    """The rows of an import file as the platform reads them, by header: a csv (with or without
    its byte-order mark) or an xlsx to copy rows from (Bug Club's)."""
    if path.suffix == ".xlsx":
        header, *rows = text_rows(path)
        return [dict(zip(header, row, strict=True)) for row in rows]
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


# Folders of the web interface's page screenshots (tests/test_web_browser.py), named at the end
# of the run so a person can look at each page as a browser drew it. A folder of its own in the
# system's temporary folder (or $PROVISIONER_SCREENSHOTS), not pytest's, which later runs prune.
_screenshot_folders: list[Path] = []


def pytest_configure(config) -> None:
    # The suite may run in several processes (pytest-xdist: the README's `-n auto`): the pages are
    # drawn in a worker, and the run's summary is written by the controller, so the controller
    # chooses the folder before any worker starts and hands it to them through the environment.
    import os
    import tempfile

    if hasattr(config, "workerinput"):
        return
    if "PROVISIONER_SCREENSHOTS" not in os.environ:
        os.environ["PROVISIONER_SCREENSHOTS"] = tempfile.mkdtemp(prefix="provisioner-web-screenshots-")
    _screenshot_folders.append(Path(os.environ["PROVISIONER_SCREENSHOTS"]))


@pytest.fixture(scope="session")
def screenshots() -> Path:
    import os

    folder = Path(os.environ["PROVISIONER_SCREENSHOTS"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pytest_terminal_summary(terminalreporter) -> None:
    for folder in _screenshot_folders:
        if folder.is_dir() and any(folder.iterdir()):
            terminalreporter.write_line(f"Screenshots of the web interface's pages: {folder}")
