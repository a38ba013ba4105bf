"""A parent's requests about one pupil: what every processor holds (access), and erasure
from every platform at once.

Both are answered from the record of what was actually sent: the ledger holds the values each
platform last received, and every send, disable and deletion with its time. Recipients outside
this tool (the Department for Education, the local authority, ...) are named from the register,
since the tool cannot know what the MIS sent them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from provisioner.connector import registry
from provisioner.delivery import CleanupResult, Job
from provisioner.errors import Aborted, UsageError
from provisioner.fields import FIELDS
from provisioner.jobs.cleanup import carry_out
from provisioner.jobs.retention import purge
from provisioner.models import Roster
from provisioner.planning.cleanup import CleanupPlan, plan_cleanup
from provisioner.register import load_entries
from provisioner.roster import normalise_mis_id
from provisioner.state import AccountStatus, State
from provisioner.workspace import Workspace


def _keys_for(pupil_id: str) -> list[str]:
    """The keys an id the admin typed may be held under: a MIS id as the roster keys it (without
    leading zeros, so "001000" and "1000" find the same pupil) or as written, or a UPN."""
    keys = [f"mis:{normalise_mis_id(pupil_id)}", f"mis:{pupil_id}", f"upn:{pupil_id.upper()}"]
    return list(dict.fromkeys(keys))


def find_pupil(state: State, pupil_id: str) -> str | None:
    """The state's key for the id the admin gave (a MIS id, or a UPN where the roster had no
    MIS id), or None when the workspace holds nothing about that pupil."""
    held = state.erasure_held()
    for key in (pupil_id, *_keys_for(pupil_id)):
        if state.knows_pupil(key) or state.subject(key) in held:
            return key
    return None


def _not_found(pupil_id: str) -> UsageError:
    return UsageError(
        f"this workspace holds no record of pupil {pupil_id}",
        hint="give the pupil's MIS id (admission number), or the UPN where the roster has no MIS id; a pupil "
        "purged after leaving is no longer held by this tool",
    )


def access_report(workspace: Workspace, state: State, pupil_id: str, today: date) -> dict:
    """What each processor holds about one pupil now, exactly as sent and when; what was deleted
    and when; and the recipients outside this tool that the school's register names."""
    key = find_pupil(state, pupil_id)
    if key is None:
        raise _not_found(pupil_id)
    accounts = state.pupil_accounts(key)
    erased = state.subject(key) in state.erasure_held()
    sends = state.pupil_history(key)
    entries = load_entries(workspace.root)
    known = registry()
    processors, removed = {}, {}
    for platform, account in accounts.items():
        history = [
            {"at": s.at, "action": s.action, "fields": s.fields, **({"changed": s.changed} if s.action == "update" else {})}
            for s in sends if s.platform == platform
        ]  # fmt: skip
        name = entries[platform].name if platform in entries else platform
        # The account held now began with its latest create (a returner after deletion gets a new one).
        since = next((h["at"] for h in reversed(history) if h["action"] == "create"), account.created_at)
        record = {
            "name": name,
            "status": str(account.status),
            "username": account.username,
            "fields": account.sent,
            "since": since[:10],
            "history": history,
        }
        connector = workspace.connector(platform) if platform in known else None
        if connector is not None and "password" in connector.sent_fields:
            record["not_kept"] = {"password": "a first password was sent; this tool never keeps passwords"}
        if connector is not None and not connector.delivery.makes_accounts:
            # The platform copies these from the MIS itself; the tool records which, not the values.
            record["read_from_mis"] = sorted(name for name, value in account.sent.items() if not value)
        if account.status.held:
            processors[platform] = record
        else:
            record["deleted"] = (account.status_at or "")[:10]
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
    plan: CleanupPlan
    cleanup: CleanupResult | None = None
    purged: bool = False
    waiting: list[str] = field(default_factory=list)  # platforms whose deletion the admin must still confirm
    kept_files: list[str] = field(default_factory=list)  # outbox files still holding the pupil (not yet uploaded)

    def as_dict(self) -> dict:
        out = self.cleanup.as_dict() if self.cleanup else self.plan.as_dict()
        return {**out, "purged": self.purged, "waiting_for": self.waiting, "files_kept": self.kept_files}


def erase(workspace: Workspace, state: State, pupil_id: str, today: date,
          confirm: Callable[[CleanupPlan], bool]) -> ErasureResult:  # fmt: skip
    """Erase one pupil everywhere: record the erasure (so no later apply sends their data
    again), delete every account through the leaver machinery (Microsoft 365 at once, read
    back; a deletion list for each file platform), then forget the pupil here as soon as every
    account is gone. The audit log keeps the events under the keyed hash."""
    key = find_pupil(state, pupil_id)
    # A pupil with no account yet: the hold alone, under either id the roster may key them by.
    holds = [key] if key else _keys_for(pupil_id)
    accounts = state.pupil_accounts(key) if key else {}
    if any(a.status is AccountStatus.PENDING for a in accounts.values()):
        raise UsageError("an interrupted apply has not finished sending this pupil's data",
                         hint="run the same apply again to finish it, then run this erase again")  # fmt: skip
    # Every platform holding the pupil, enabled or not: erasure reaches switched-off ones too.
    known = registry()
    connectors = [workspace.connector(p) for p, a in accounts.items() if a.status.held and p in known]
    no_roster = Roster(source="erasure request", pupils=[], errors=[], warnings=[], columns={})
    excluded = set(workspace.settings.leavers.exclude_enrolment_statuses)
    the_plan = plan_cleanup(state, no_roster, connectors, today, excluded_statuses=excluded, erasing=set(holds))
    result = ErasureResult(the_plan)
    if not confirm(the_plan):
        raise Aborted("nothing was changed", hint=f"run 'provisioner pupil show {pupil_id}' to review it")
    state.hold_erasure(holds, platforms=len(connectors))
    cleanup = CleanupResult(the_plan)
    if the_plan.has_work:
        job = Job(workspace, state, today, state.begin_run("erase", None), roster=None)
        carry_out(job, the_plan, connectors, cleanup, again=f"provisioner pupil erase {pupil_id}")
    cleanup.notes += [note for c in connectors if (note := c.delivery.erasure_note())]
    result.cleanup = cleanup
    remaining = state.pupil_accounts(key) if key else {}
    result.waiting = sorted(p for p, a in remaining.items() if a.status.held)
    if not result.waiting and accounts:
        # Forgets this pupil now (an erasure waits for no retention period), files included.
        result.kept_files = purge(workspace, state, today, only=key)["files_kept"]
        result.purged = True
    return result


def allow(state: State, pupil_id: str) -> bool:
    """Lift an erasure hold (the parent has agreed to accounts again): the next apply makes new
    accounts. Returns whether there was a hold."""
    key = find_pupil(state, pupil_id)
    return key is not None and state.lift_erasure(key)
