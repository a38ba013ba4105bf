"""Making a workspace: its settings file, the school's secret, the state, and the first
register approved as it stands; and the demo workspace with its synthetic roster.

Every name in the demo roster is made up (provisioner.synthetic); no real child is in it.
"""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path

from provisioner import files, owner_only, times
from provisioner.connector import registry
from provisioner.errors import SettingsError, UsageError
from provisioner.register import approve_all, default_scope
from provisioner.settings import toml_string
from provisioner.synthetic import synthetic_pupils, write_roster_xlsx
from provisioner.workspace import SECRET_FILE, SETTINGS_FILE, STATE_FILE, Workspace, connector_class, write_key


def render_settings(school: str, domain: str, platforms: list[str]) -> str:
    lines = [
        "# Settings for the EdTech provisioner. Secrets never go in this file.",
        "",
        "[school]",
        f"name = {toml_string(school)}",
        f"domain = {toml_string(domain)}",
        "# The time zone for every time shown to a person (the state keeps UTC).",
        f"time_zone = {toml_string(times.DEFAULT_ZONE)}",
        "",
        "[roster]",
        "# Preferred ('known as') names for display and usernames; false uses legal names.",
        "use_preferred_names = true",
        "",
        "# Extra header names for an unusual export: \"Header in your file\" = \"field\".",
        "[roster.columns]",
        '# "Reg Grp" = "class_name"',
        "",
        "[slips]",
        "# combined: one login card per child listing every platform (outbox/login-slips-<batch>.pdf);",
        "# per-platform: each platform's own slips, next to its import file.",
        'style = "combined"',
    ]
    for platform, cls in registry().items():
        connector = cls()
        lines += ["", f"[platforms.{platform}]", f"# {cls.name}: sends {', '.join(connector.sent_fields)}"]
        if cls.optional_fields:
            lines.append(f"# and, only if listed here, any of: {', '.join(cls.optional_fields)}")
        lines.append(f"enabled = {'true' if platform in platforms else 'false'}")
        if connector.delivery.makes_accounts:
            lines.append(f"# username_template = {toml_string(cls.username_template)}")
        if cls.optional_fields:
            lines.append("# optional_fields = []")
        scope = default_scope(platform)
        years = ", ".join(toml_string(code) for code in scope.year_groups or ("R", "1", "2"))
        lines += [(f"# Which pupils it gets (default: {scope.describe()}, a school policy default): set year_groups, "
                   "classes or exclude_classes"), f"# year_groups = [{years}]"]  # fmt: skip
        lines.extend(connector.delivery.settings_template())
        if cls.school_sign_in:  # printed on the slips; without one the plan warns
            lines.append(f"# Pupils need {connector.slips_lack} to sign in: set "
                         f"{' or '.join(cls.school_sign_in)} to print it on their login slips")
            lines += [f'# {key} = "..."' for key in cls.school_sign_in]
        lines.extend(connector.settings_notes())
    return "\n".join(lines) + "\n"


def login_name() -> str:
    """The computer account running the tool: who approved, when no name was given."""
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 (no login name: Windows without USERNAME raises ImportError)
        return "unknown user"


def init_workspace(root: Path, school: str, domain: str, platforms: list[str], approved_by: str = "") -> Workspace:
    """Create a workspace. Its first register is approved as it stands, by ``approved_by`` (else
    the login name): the fields each enabled platform will be sent, and the recipients named."""
    for platform in platforms:
        connector_class(platform)
    # A workspace whose settings file went missing still holds the state and the secret:
    # making a new secret would change every pseudonymous id and duplicate every pupil.
    for name in (SETTINGS_FILE, STATE_FILE, SECRET_FILE):
        if (root / name).exists():
            raise UsageError(
                f"{root} is already a workspace (it has {name})",
                hint="use it with --workspace, restore its provisioner.toml from a backup, or choose a new folder",
            )
    files.make_private_dir(root)
    owner_only.lock_down_folder(root)  # on Windows: what is written inside inherits it
    text = render_settings(school, domain.lower(), platforms)
    files.atomic_write_text(root / SETTINGS_FILE, text)
    workspace = Workspace(root)
    try:
        workspace.settings  # validate what was written, so a bad domain is caught now
    except SettingsError:
        (root / SETTINGS_FILE).unlink()
        raise
    write_key(workspace.secret_path)
    write_key(workspace.audit_key_path)
    files.make_private_dir(workspace.outbox)
    files.make_private_dir(workspace.reports)
    with workspace.open_state() as state:
        first_day = times.today(workspace.settings.school.zone)
        approve_all(workspace, state, approved_by or login_name(), "platform admin", first_day,
                    note="the workspace was created")  # fmt: skip
    return workspace


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
        offline = [platform for platform, cls in registry().items() if cls().delivery.works_offline]
        workspace = init_workspace(directory, DEMO_SCHOOL, DEMO_DOMAIN, offline)
    roster = workspace.root / ROSTER_NAME
    if not roster.exists():
        write_roster_xlsx(roster, synthetic_pupils(DEMO_PUPILS, today=today, leavers=DEMO_LEAVERS))
        files.make_private(roster)  # made-up pupils, but handled as real rosters should be
    return workspace, roster
