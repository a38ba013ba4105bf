"""The demo: a workspace and a synthetic roster, ready for the main job.

Every name in the demo roster is made up (provisioner.synthetic); no real child is in it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from provisioner import files
from provisioner.connector import API, registry
from provisioner.synthetic import synthetic_pupils, write_roster_xlsx
from provisioner.errors import UsageError
from provisioner.workspace import SETTINGS_FILE, Workspace, init_workspace

DEMO_SCHOOL = "Demo Primary School (synthetic data)"
DEMO_DOMAIN = "demo-primary.example.sch.uk"
DEMO_PUPILS = 400
DEMO_LEAVERS = 6
ROSTER_NAME = "demo-roster.xlsx"


def prepare_demo(directory: Path, today: date | None = None) -> tuple[Workspace, Path]:
    """Create (or reuse) the demo workspace with every offline platform enabled, and write its roster."""
    today = today or date.today()
    if (directory / SETTINGS_FILE).exists():
        workspace = Workspace(directory)
        if workspace.settings.school.name != DEMO_SCHOOL:
            raise UsageError(
                f"{directory} is a real school's workspace, not the demo's",
                hint="run the demo in another folder, e.g. 'provisioner demo provisioner-demo'",
            )
    else:
        # Platforms reached through an API need a real tenant and credentials: not in a demo.
        offline = [platform for platform, cls in registry().items() if cls.mode != API]
        workspace = init_workspace(directory, DEMO_SCHOOL, DEMO_DOMAIN, offline)
    roster = workspace.root / ROSTER_NAME
    if not roster.exists():
        write_roster_xlsx(roster, synthetic_pupils(DEMO_PUPILS, today=today, leavers=DEMO_LEAVERS))
        files.make_private(roster)  # made-up pupils, but handled as real rosters should be
    return workspace, roster
