"""The workspace overview: accounts per platform, batches awaiting upload, deletions overdue and
how the deletions done are known (the admin's word, or the platform's own export), recent runs,
and whether the audit log proves itself: its chain verifies under its key and passes through the
head written outside the state (``state/audit.py``); and the login slips an apply stopped before
naming (their passwords are set on the platform: ``paperwork.slips_not_named``).

An account made in an import file the admin has not confirmed uploading is counted as
"issued_not_uploaded", not "active": the platform may not have it yet (``State.awaiting_upload``,
as the register counts it)."""

from __future__ import annotations

from datetime import date

from provisioner import times
from provisioner.connector import registry
from provisioner.delivery import slips_not_named
from provisioner.state import AccountStatus, BatchKind, BatchStatus, State
from provisioner.workspace import Workspace

ISSUED_NOT_UPLOADED = "issued_not_uploaded"  # the accounts' count beside the statuses: made, not yet uploaded


def status_report(workspace: Workspace, state: State, today: date) -> dict:
    platforms = {}
    zone = workspace.settings.school.zone  # every time in the report on the school's clock (times.py)
    unnamed: dict[str, list[dict]] = {}
    for slips in slips_not_named(workspace, state):
        unnamed.setdefault(slips.platform, []).append(
            {"batch": slips.batch_id, "slips": [path.relative_to(workspace.root).as_posix() for path in slips.files]})
    last_runs = state.last_run_by_platform()
    for platform in registry():
        connector = workspace.connector(platform)
        enabled = connector.settings.enabled
        holding = state.holding(platform, today)
        # A platform's hold whose day has passed is a deletion, even before a command records it.
        accounts = {str(status): count for status, count in holding.by_status.items()}
        if holding.awaiting_upload:
            accounts[ISSUED_NOT_UPLOADED] = holding.awaiting_upload
        if holding.deleted:
            accounts[str(AccountStatus.DELETED)] = holding.deleted
        kept = holding.hold_range
        if not enabled and not accounts:
            continue
        issued = state.batches(platform, status=BatchStatus.ISSUED)
        platforms[platform] = {
            "name": connector.name,
            "enabled": enabled,
            "mode": connector.delivery.kind,
            "sent_by": connector.delivery.sent_by or None,  # a data broker feeding it, where one does
            "accounts": accounts,
            "issued_not_uploaded": holding.awaiting_upload,  # in an import file not confirmed uploaded: not held yet
            "awaiting_upload": [{"batch": b.id, "file": b.file, "issued_at": times.stamp(b.issued_at, zone)}
                                for b in issued if b.kind is not BatchKind.DELETION],
            "awaiting_deletion": [{"batch": b.id, "file": b.file, "due": b.due}
                                  for b in issued if b.kind is BatchKind.DELETION],
            "overdue": state.overdue(platform, today),
            "deletions": state.deletion_proofs(platform).as_dict(),  # how the deletions done are known
            "interrupted": len(state.batches(platform, status=BatchStatus.WRITING)),
            # Written by an apply that stopped before it finished: no answer named them yet.
            "unnamed_slips": unnamed.get(platform, []),
            # When a command last recorded something of its accounts or files, and which (None: never).
            "last_run": {**last, "at": times.stamp(last["at"], zone)} if (last := last_runs.get(platform)) else None,
            # Removed from use, still held by the platform until it deletes them (TTRS's Leavers group).
            "held_by_platform": {"accounts": holding.by_status[AccountStatus.PLATFORM_HOLD],
                                 "where": connector.held_where(), "until": list(kept)} if kept else None,
        }  # fmt: skip
    return {
        "as_of": today.isoformat(),
        "school": workspace.settings.school.name,
        "workspace": str(workspace.root),
        "platforms": platforms,
        "runs": [{**past, "started_at": times.stamp(past["started_at"], zone),
                  "finished_at": times.stamp(past["finished_at"], zone)} for past in state.last_runs()],
        "audit": state.verify_audit().as_dict(),
    }
