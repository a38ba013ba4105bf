"""The workspace overview: accounts per platform, batches awaiting upload, recent runs."""

from __future__ import annotations

from collections import Counter
from datetime import date

from provisioner.connector import registry
from provisioner.engine import open_state
from provisioner.leavers import overdue
from provisioner.workspace import Workspace, platform_settings


def status_report(workspace: Workspace, today: date | None = None) -> dict:
    today = today or date.today()
    with open_state(workspace) as state:
        platforms = {}
        for platform, cls in registry().items():
            connector = cls(platform_settings(workspace.settings, cls))
            enabled = connector.settings.enabled
            accounts = Counter(a.status for a in state.accounts(platform).values())
            if not enabled and not accounts:
                continue
            issued = state.batches(platform, status="issued")
            awaiting = [{"batch": b.id, "file": b.file, "issued_at": b.issued_at} for b in issued if b.kind != "deletion"]
            deletions = [{"batch": b.id, "file": b.file, "due": b.due} for b in issued if b.kind == "deletion"]
            platforms[platform] = {
                "name": cls.name,
                "enabled": enabled,
                "mode": connector.mode,
                "accounts": dict(accounts),
                "awaiting_upload": awaiting,
                "awaiting_deletion": deletions,
                "overdue": overdue(state, today, platform),
                "interrupted": len(state.batches(platform, status="writing")),
            }
        checked, broken = state.verify_audit()
        return {
            "as_of": today.isoformat(),
            "school": workspace.settings.school.name,
            "workspace": str(workspace.root),
            "platforms": platforms,
            "runs": state.last_runs(),
            "audit": {"entries": checked, "intact": broken is None, "first_broken": broken},
        }
