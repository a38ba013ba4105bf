"""Shared by the Microsoft 365 tests: settings pointing at the stand-in, and ways to look at it."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from openpyxl import load_workbook

from conftest import TODAY, approve_register
from conftest import apply as apply_roster
from graph_standin import GraphStandIn
from provisioner.delivery import ApplyResult
from provisioner.errors import SettingsError
from provisioner.workspace import Workspace

LICENCE_GROUP = "Pupils - A1 licence"
DOMAIN = "pupils.m365.sch.uk"


def m365_settings(g: GraphStandIn, **extra: str | None) -> str:
    """[platforms.microsoft-365] pointing at the stand-in; a key given as None is left out."""
    values = {
        "enabled": "true", "tenant_id": f'"{g.tenant_id}"', "client_id": f'"{g.client_id}"',
        "authority_host": f'"{g.authority_host}"', "graph_url": f'"{g.graph_url}"',
        "ca_bundle": json.dumps(str(g.ca_path)), "licence_group": f'"{LICENCE_GROUP}"', "domain": f'"{DOMAIN}"',
        "writes_per_second": "60", **extra,
    }  # fmt: skip
    return "".join(f"{key} = {value}\n" for key, value in values.items() if value is not None)


def configure(workspace: Workspace, g: GraphStandIn, **extra: str) -> None:
    text = workspace.settings_path.read_text(encoding="utf-8")
    header = "[platforms.microsoft-365]\n"
    start = text.index(header) + len(header)
    end = text.find("\n[", start)
    text = text[:start] + m365_settings(g, **extra) + text[end:]
    workspace.settings_path.write_text(text, encoding="utf-8")
    workspace.__dict__.pop("settings", None)
    with contextlib.suppress(SettingsError):  # settings that cannot work are for the command to refuse
        approve_register(workspace)


def on_roll(rows: list[dict]) -> list[dict]:
    return [r for r in rows if not (r.get("leaving_date") and r["leaving_date"] <= TODAY)]


def apply(workspace: Workspace, roster: Path) -> ApplyResult:
    return apply_roster(workspace, roster)


def pupils_in(graph: GraphStandIn) -> list[dict]:
    return [u for u in graph.users.values() if u.get("employeeId")]


def licence_members(graph: GraphStandIn) -> set[str]:
    [group] = [g for g in graph.groups.values() if g["displayName"] == LICENCE_GROUP]
    return set(group["members"])


def writes(graph: GraphStandIn) -> list:
    return [r for r in graph.request_log if r.method in ("POST", "PATCH", "DELETE") and r.path != "/v1.0/$batch"
            and "/oauth2/" not in r.path]  # fmt: skip


def bodies(graph: GraphStandIn) -> list[str]:
    return [json.dumps(r.body, ensure_ascii=False) for r in graph.request_log if r.body is not None]


def slips_of(workspace: Workspace) -> dict[str, str]:
    """Sign-in alias -> password, from the slips; each slip shows the whole sign-in name to type."""
    found = {}
    for path in (workspace.outbox / "microsoft-365").glob("*.xlsx"):
        for row in load_workbook(path).active.iter_rows(min_row=2, values_only=True):
            alias, at, domain = row[3].partition("@")
            assert at and domain == DOMAIN, "the slip shows the full sign-in name"
            found[alias] = row[4]
    return found
