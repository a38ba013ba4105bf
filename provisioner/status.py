"""The workspace overview: accounts per platform, batches awaiting upload, recent runs."""

from __future__ import annotations

from collections import Counter

from provisioner.connector import registry
from provisioner.engine import open_state
from provisioner.workspace import Workspace, platform_settings


def status_report(workspace: Workspace) -> dict:
    state = open_state(workspace)
    try:
        platforms = {}
        for platform, cls in registry().items():
            connector = cls(platform_settings(workspace.settings, cls))
            enabled = connector.settings.enabled
            accounts = Counter(a.status for a in state.accounts(platform).values())
            if not enabled and not accounts:
                continue
            awaiting = [
                {"batch": b.id, "file": b.file, "issued_at": b.issued_at}
                for b in state.batches(platform, status="issued")
            ]
            platforms[platform] = {
                "name": cls.name,
                "enabled": enabled,
                "mode": connector.mode,
                "accounts": dict(accounts),
                "awaiting_upload": awaiting,
                "interrupted": len(state.batches(platform, status="writing")),
            }
        checked, broken = state.verify_audit()
        return {
            "school": workspace.settings.school.name,
            "workspace": str(workspace.root),
            "platforms": platforms,
            "runs": state.last_runs(),
            "audit": {"entries": checked, "intact": broken is None, "first_broken": broken},
        }
    finally:
        state.close()
