"""A parent's requests about one pupil: what every processor holds (access), and erasure
from every platform at once.

Both are answered from the record of what was actually sent: the accounts table holds the
values each platform last received, and the sends table every send, disable and deletion
with its time. Recipients outside this tool (the Department for Education, the local
authority, ...) are named from the register, since the tool cannot know what the MIS sent them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from provisioner import engine, leavers
from provisioner.connector import MIS_SYNC, Connector, registry
from provisioner.errors import Aborted, UsageError
from provisioner.fields import FIELDS
from provisioner.models import Roster
from provisioner.register import load_entries
from provisioner.state import State, now
from provisioner.workspace import Workspace, platform_settings

HOLDING = ("pending", "active", "disabled", "deletion_requested")


def pupil_key(state: State, pupil_id: str) -> str | None:
    """The state's key for the id the admin gave (a MIS id, or a UPN where the roster had no
    MIS id), or None when the workspace holds nothing about that pupil."""
    held = state.erasure_held()
    for key in (pupil_id, f"mis:{pupil_id}", f"upn:{pupil_id.upper()}"):
        found = state.db.execute("SELECT 1 FROM accounts WHERE pupil_key = ? LIMIT 1", (key,)).fetchone()
        if found or state.subject(key) in held:
            return key
    return None


def _pupil_accounts(state: State, pupil_id: str) -> dict:
    rows = state.db.execute(
        "SELECT platform, username, status, sent, created_at, status_at FROM accounts WHERE pupil_key = ?"
        " ORDER BY platform", (pupil_id,)
    ).fetchall()  # fmt: skip
    return {r[0]: {"username": r[1], "status": r[2], "sent": json.loads(r[3]), "created_at": r[4], "status_at": r[5]}
            for r in rows}  # fmt: skip


def _not_found(pupil_id: str) -> UsageError:
    return UsageError(
        f"this workspace holds no record of pupil {pupil_id}",
        hint="give the pupil's MIS id (admission number), or the UPN where the roster has no MIS id; a pupil "
        "purged after leaving is no longer held by this tool",
    )


def access_report(workspace: Workspace, pupil_id: str, today: date) -> dict:
    """What each processor holds about one pupil now, exactly as sent and when; what was deleted
    and when; and the recipients outside this tool that the school's register names."""
    with engine.open_state(workspace) as state:
        key = pupil_key(state, pupil_id)
        if key is None:
            raise _not_found(pupil_id)
        accounts = _pupil_accounts(state, key)
        erased = state.subject(key) in state.erasure_held()
        sends = state.db.execute(
            "SELECT platform, action, fields, changed, status, sent_at FROM sends WHERE pupil_key = ? ORDER BY id",
            (key,),
        ).fetchall()
    entries = load_entries(workspace.root)
    known = registry()
    processors, removed = {}, {}
    for platform, account in accounts.items():
        history = [
            {"at": at, "action": action, "fields": json.loads(values),
             **({"changed": json.loads(changed)} if action == "update" else {})}
            for p, action, values, changed, status, at in sends if p == platform and status == "done"
        ]  # fmt: skip
        cls = known.get(platform)
        name = entries[platform].name if platform in entries else platform
        # The account held now began with its latest create (a returner after deletion gets a new one).
        since = next((h["at"] for h in reversed(history) if h["action"] == "create"), account["created_at"])
        record = {
            "name": name,
            "status": account["status"],
            "username": account["username"],
            "fields": account["sent"],
            "since": since[:10],
            "history": history,
        }
        connector = cls(platform_settings(workspace.settings, cls)) if cls is not None else None
        if connector is not None and "password" in connector.sent_fields:
            record["not_kept"] = {"password": "a first password was sent; this tool never keeps passwords"}
        if connector is not None and connector.mode == MIS_SYNC:
            # The platform copies these from the MIS itself; the tool records which, not the values.
            record["read_from_mis"] = sorted(name for name, value in account["sent"].items() if not value)
        if account["status"] in HOLDING:
            processors[platform] = record
        else:
            record["deleted"] = (account["status_at"] or "")[:10]
            removed[platform] = record
    others = [
        {"id": e.id, "name": e.name, "fields": [FIELDS[f].label for f in e.fields or []], "other_data": e.other_data}
        for e in entries.values() if e.kind == "recipient"
    ]  # fmt: skip
    return {
        "pupil": pupil_id,
        "as_of": today.isoformat(),
        "school": workspace.settings.school.name,
        "erasure_requested": erased,
        "processors": processors,
        "deleted": removed,
        "other_recipients": others,
    }


@dataclass
class ErasureResult:
    plan: leavers.CleanupPlan
    cleanup: leavers.CleanupResult | None = None
    purged: bool = False
    waiting: list[str] = field(default_factory=list)  # platforms whose deletion the admin must still confirm
    kept_files: list[str] = field(default_factory=list)  # outbox files still holding the pupil (not yet uploaded)

    def as_dict(self) -> dict:
        out = self.cleanup.as_dict() if self.cleanup else self.plan.as_dict()
        return {**out, "purged": self.purged, "waiting_for": self.waiting, "files_kept": self.kept_files}


def _connectors_holding(workspace: Workspace, accounts: dict) -> list[Connector]:
    """Every platform holding the pupil, enabled or not: erasure reaches switched-off ones too."""
    known = registry()
    held = [p for p, a in accounts.items() if a["status"] in HOLDING and p in known]
    return [known[p](platform_settings(workspace.settings, known[p])) for p in held]


def erase(workspace: Workspace, pupil_id: str, today: date,
          confirm: Callable[[leavers.CleanupPlan], bool]) -> ErasureResult:  # fmt: skip
    """Erase one pupil everywhere: record the erasure (so no later apply sends their data
    again), delete every account through the leaver machinery (Microsoft 365 at once, read
    back; a deletion list for each file platform), then forget the pupil here as soon as every
    account is gone. The audit log keeps the events under the keyed hash."""
    with workspace.lock():
        with engine.open_state(workspace) as state:
            key = pupil_key(state, pupil_id)
            # A pupil with no account yet: the hold alone, under either id the roster may key them by.
            holds = [key] if key else [f"mis:{pupil_id}", f"upn:{pupil_id.upper()}"]
            accounts = _pupil_accounts(state, key) if key else {}
            if any(a["status"] == "pending" for a in accounts.values()):
                raise UsageError("an interrupted apply has not finished sending this pupil's data",
                                 hint="run the same apply again to finish it, then run this erase again")  # fmt: skip
            connectors = _connectors_holding(workspace, accounts)
            no_roster = Roster(source="erasure request", pupils=[], errors=[], warnings=[], columns={})
            plan = leavers.plan_cleanup(workspace, state, no_roster, connectors, today, erasing=set(holds))
            result = ErasureResult(plan)
            if not confirm(plan):
                raise Aborted("nothing was changed", hint=f"run 'provisioner pupil show {pupil_id}' to review it")
            with state.transaction() as db:
                for held in holds:
                    db.execute("INSERT OR IGNORE INTO erasure_holds (subject, requested_at) VALUES (?, ?)",
                               (state.subject(held), now()))  # fmt: skip
                    state.audit(None, "pupil.erasure_requested", pupil_key=held, detail={"platforms": len(connectors)})
            cleanup = leavers.CleanupResult(plan)
            if plan.has_work:
                run_id = state.begin_run("erase", None)
                leavers.carry_out(workspace, state, plan, connectors, None, today, run_id, cleanup,
                                  again=f"provisioner pupil erase {pupil_id}")  # fmt: skip
            for connector in connectors:
                if connector.mode == MIS_SYNC:
                    cleanup.notes.append(
                        f"{connector.name} reads the MIS itself: ask it to erase the pupil's data too, and stop the "
                        "MIS sharing it")  # fmt: skip
            result.cleanup = cleanup
            remaining = _pupil_accounts(state, key) if key else {}
            result.waiting = sorted(p for p, a in remaining.items() if a["status"] in HOLDING)
    if not result.waiting and accounts:
        # Forgets this pupil now (an erasure waits for no retention period), files included.
        result.kept_files = leavers.purge(workspace, today, only=key)["files_kept"]
        result.purged = True
    return result


def allow(workspace: Workspace, pupil_id: str) -> bool:
    """Lift an erasure hold (the parent has agreed to accounts again): the next apply makes new
    accounts. Returns whether there was a hold."""
    with workspace.lock():
        with engine.open_state(workspace) as state:
            key = pupil_key(state, pupil_id)
            if key is None:
                return False
            with state.transaction() as db:
                lifted = db.execute("DELETE FROM erasure_holds WHERE subject = ?", (state.subject(key),)).rowcount
                if lifted:
                    state.audit(None, "pupil.erasure_lifted", pupil_key=key, detail={})
            return bool(lifted)
