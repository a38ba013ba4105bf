"""Workspace creation, settings validation, the school secret, finding the workspace."""

from __future__ import annotations

import os
import re
import stat

import pytest

from provisioner.connector import registry
from provisioner.errors import SettingsError, UsageError, WorkspaceNotFound
from provisioner.jobs.create import init_workspace
from provisioner.workspace import ENV_WORKSPACE, Workspace, find_workspace

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def test_init_creates_settings_secret_and_folders(tmp_path):
    ws = init_workspace(tmp_path / "school", "St Example's Primary", "Example.SCH.uk", ["purple-mash"])
    assert ws.settings.school.name == "St Example's Primary"
    assert ws.settings.school.domain == "example.sch.uk"
    assert ws.connectors()[0].id == "purple-mash"
    assert len(ws.secret) == 32
    assert ws.outbox.is_dir() and ws.reports.is_dir()


@posix_only
def test_every_file_in_the_workspace_is_owner_only_after_an_apply(workspace, roster_file):
    from conftest import TODAY
    from conftest import yes
    from provisioner.facade import Provisioner

    Provisioner(workspace).apply(roster_file, confirm=yes, today=TODAY)
    paths = [workspace.root, *workspace.root.rglob("*")]
    assert any(p.suffix == ".csv" for p in paths)
    for path in paths:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path.relative_to(workspace.root)} is {oct(mode)}"


@posix_only
def test_a_workspace_opened_to_others_is_made_private_again_with_a_warning(workspace, roster_file, cli):
    # Restored from a backup, unzipped or copied by another program: modes such as 0755 and 0644.
    from conftest import TODAY, yes
    from provisioner.facade import Provisioner

    Provisioner(workspace).apply(roster_file, confirm=yes, today=TODAY)
    opened = [workspace.root, workspace.state_path, workspace.outbox, *workspace.outbox.rglob("*")]
    for path in opened:
        path.chmod(0o755 if path.is_dir() else 0o644)
    folders = sum(1 for p in workspace.outbox.rglob("*") if p.is_dir()) + 1  # outbox/ itself
    held = sum(1 for p in workspace.outbox.rglob("*") if p.is_file()) + 1  # the state

    result = cli("status")
    assert result.exit_code == 0, result.output
    assert f"the workspace folder {workspace.root} could be opened by other users" in result.stderr
    assert f"{held} files and {folders} folders holding pupils' records could be read by other users" in result.stderr
    for path in opened:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path.relative_to(workspace.root)} is {oct(mode)}"
    again = cli("status", "--json")
    assert "Warning" not in again.stderr, "told once, when it was tightened"


def test_init_refuses_a_folder_holding_a_secret_even_without_settings(workspace):
    workspace.settings_path.unlink()
    secret = workspace.secret_path.read_bytes()
    with pytest.raises(UsageError, match="already a workspace"):
        init_workspace(workspace.root, "X", "x.sch.uk", [])
    assert workspace.secret_path.read_bytes() == secret


@posix_only
def test_a_secret_readable_by_others_is_refused(workspace):
    workspace.secret_path.chmod(0o644)
    with pytest.raises(SettingsError, match="can be read by other users") as caught:
        Workspace(workspace.root).secret
    assert "chmod 600" in caught.value.hint


def test_pseudonymous_ids_differ_per_platform_and_are_stable(workspace):
    a = workspace.pseudonymous_id("purple-mash", "mis:000123")
    assert a == Workspace(workspace.root).pseudonymous_id("purple-mash", "mis:000123")
    assert a != workspace.pseudonymous_id("tt-rockstars", "mis:000123")
    assert len(a) == 16 and "000123" not in a


def test_init_refuses_an_existing_workspace_and_unknown_platforms(tmp_path, workspace):
    with pytest.raises(UsageError, match="already a workspace"):
        init_workspace(workspace.root, "X", "x.sch.uk", [])
    with pytest.raises(UsageError, match="not a platform"):
        init_workspace(tmp_path / "other", "X", "x.sch.uk", ["myspace"])


def test_a_bad_domain_is_refused_naming_the_key(tmp_path):
    with pytest.raises(SettingsError, match=r"school\.domain: must be a domain name"):
        init_workspace(tmp_path / "bad", "X", "not a domain", [])


@pytest.mark.parametrize(
    ("append", "expected"),
    [
        ("\n[extra]\nx = 1\n", r"extra: is not a setting"),
        ("\n[platforms.myspace]\nenabled = true\n", r"\[platforms.myspace\] is not a platform"),
        ('\n[platforms.purple-mash]\nenabled = "maybe"\n', r"platforms\.purple-mash\.enabled"),
        ("\n[platforms.purple-mash]\nusername_template = \"{nickname}\"\n", r"unknown part \{nickname\}"),
        ("\nthis is not toml\n", r"not valid TOML"),
    ],
)
def test_settings_errors_name_the_key_and_what_is_allowed(workspace, append, expected):
    text = workspace.settings_path.read_text(encoding="utf-8")
    # Replace the generated platform table so the appended one is not a duplicate key.
    text = text.split("[platforms.purple-mash]")[0]
    workspace.settings_path.write_text(text + append, encoding="utf-8")
    with pytest.raises(SettingsError, match=expected):
        Workspace(workspace.root).settings


def test_the_workspace_is_found_by_option_then_environment_then_current_folder(workspace, tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_WORKSPACE, raising=False)
    assert find_workspace(workspace.root).root == workspace.root
    monkeypatch.setenv(ENV_WORKSPACE, str(workspace.root))
    assert find_workspace().root == workspace.root
    monkeypatch.delenv(ENV_WORKSPACE)
    monkeypatch.chdir(workspace.root)
    assert find_workspace().root == workspace.root
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WorkspaceNotFound, match="no workspace at") as caught:
        find_workspace()
    assert "provisioner init" in caught.value.hint


def test_every_setting_the_new_settings_file_suggests_is_one_the_platform_reads(tmp_path):
    """Each commented example under a platform (``# timeout = 60``) names a key its settings
    accept: an admin who removes the "# " gets that setting, not an unknown-key error."""
    workspace = init_workspace(tmp_path / "ws", "Test Primary School", "test.sch.uk", list(registry()))
    section, suggested = None, []
    for line in workspace.settings_path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):  # a platform's section, or another ([slips], [leavers]...)
            section = line.strip("[]").removeprefix("platforms.") if line.startswith("[platforms.") else None
        elif section and (example := re.match(r"# ([a-z_]+) = ", line)):
            suggested.append((section, example.group(1)))
    assert ("microsoft-365", "timeout") in suggested and ("purple-mash", "columns") in suggested
    for platform, key in suggested:
        assert key in registry()[platform].Settings.model_fields, f"[platforms.{platform}] suggests {key}"
