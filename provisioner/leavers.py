"""The termly leaver cleanup: who has left, what each platform does about it and when, the
guard against a catastrophic cleanup, and the tool's own forgetting.

A pupil is a leaver on a platform when their leaving date has passed, their enrolment status
is one the school excludes, or they are missing from a complete roster (reference/
uk-school-data.md §6.3). Each platform's policy (settings, else its register entry) says how
many days after leaving the account is disabled (only where the platform can disable) and
deleted. Microsoft 365 acts through Graph and each step is confirmed by reading the tenant
back; a file platform gets a deletion list (a printable checklist, or for School Data Sync
the next full upload without the leavers) which the admin confirms with ``confirm PLATFORM
deleted``; a platform that reads the MIS removes leavers itself. A returner whose account is
not yet deleted gets it back, username and all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from provisioner import engine, files
from provisioner.checklist import write_checklist
from provisioner.connector import API, FILE, MIS_SYNC, Connector, PupilView
from provisioner.errors import Aborted, GuardRefused, PartialFailure
from provisioner.models import Roster
from provisioner.register import shipped_entries
from provisioner.state import Account, State, now
from provisioner.workspace import Workspace

DISABLE, DELETE, RESTORE = "disable", "delete", "restore"
LEFT, ABSENT, EXCLUDED, RETURNED, ERASED = "left", "absent", "excluded", "returned", "erased"
REMOVING = (DISABLE, DELETE)
# Statuses of an account the platform still holds.
HELD = ("active", "disabled", "deletion_requested")


@dataclass(frozen=True)
class Step:
    action: str  # disable, delete, restore
    pupil_key: str
    username: str
    reason: str  # left, absent, excluded, returned
    left_on: date | None
    due: date
    was: str  # the account's status before this step


@dataclass
class PlatformCleanup:
    platform: str
    name: str
    mode: str
    in_service: int  # accounts active now
    steps: list[Step] = field(default_factory=list)  # due now
    waiting: list[Step] = field(default_factory=list)  # the next step of each other leaver, not yet due

    def of(self, action: str) -> list[Step]:
        return [s for s in self.steps if s.action == action]

    @property
    def removals(self) -> int:
        """Accounts this cleanup takes out of service (deleting a disabled one takes nothing more)."""
        return sum(1 for s in self.steps if s.action in REMOVING and s.was == "active")

    def counts(self) -> dict[str, int]:
        counted = Counter(s.action for s in self.steps)
        return {action: counted.get(action, 0) for action in (DISABLE, DELETE, RESTORE)}

    def next_due(self) -> str | None:
        """When the next waiting step falls due (ISO date), if any does."""
        upcoming = min((s.due for s in self.waiting), default=None)
        return upcoming.isoformat() if upcoming else None


@dataclass
class CleanupPlan:
    today: date
    pupils: int
    platforms: dict[str, PlatformCleanup]

    @property
    def has_work(self) -> bool:
        return any(p.steps for p in self.platforms.values())

    @property
    def absent_only(self) -> int:
        """Pupils to be removed only because the roster does not list them: the admin must agree."""
        return len({s.pupil_key for p in self.platforms.values() for s in p.steps
                    if s.reason == ABSENT and s.action in REMOVING})  # fmt: skip

    def as_dict(self) -> dict:
        return {
            "as_of": self.today.isoformat(),
            "pupils": self.pupils,
            "absent_only": self.absent_only,
            "platforms": {
                pid: {**p.counts(), "in_service": p.in_service, "waiting": len(p.waiting), "next_due": p.next_due(),
                      "reasons": dict(Counter(s.reason for s in p.steps))}
                for pid, p in self.platforms.items()
            },
        }  # fmt: skip


def policy(connector: Connector) -> tuple[int | None, int]:
    """(days to disable, days to delete) after leaving; disabling only where the platform can."""
    defaults = shipped_entries().get(connector.id, {}).get("leavers", {})
    settings = connector.settings
    delete_days = settings.delete_after_days
    if delete_days is None:
        delete_days = defaults.get("delete_after_days", 30)
    disable_days = settings.disable_after_days
    if disable_days is None:
        disable_days = defaults.get("disable_after_days", 0)
    return (disable_days if connector.mode == API else None), delete_days


def leaver_reason(pupil, account: Account, today: date, excluded: set[str], complete: bool):
    """(reason, the day they left) for a leaver, or (None, None) for a pupil on roll."""
    recorded = date.fromisoformat(account.left_on) if account.left_on else None
    if pupil is not None:
        if pupil.leaving_date is not None and pupil.leaving_date <= today:
            return LEFT, pupil.leaving_date
        if pupil.enrolment_status in excluded:
            return EXCLUDED, recorded or today
        return None, None
    if not complete:  # rows left out for errors may be these pupils: absence proves nothing
        return None, None
    return ABSENT, recorded or today


def plan_cleanup(workspace: Workspace, state: State, roster: Roster, connectors: list[Connector], today: date,
                 erasing: set[str] | None = None) -> CleanupPlan:  # fmt: skip
    """What the cleanup would do today on each platform, and what falls due later. Pure.

    A pupil under an erasure request is deleted now wherever they are held, whatever the
    policy; ``erasing`` plans only these pupils, as erased (an erasure request being made)."""
    excluded = set(workspace.settings.leavers.exclude_enrolment_statuses)
    by_key = {p.key: p for p in roster.pupils}
    complete = roster.invalid_rows == 0
    erased = state.erasure_held()
    erasing = erasing or set()
    platforms = {}
    for connector in connectors:
        disable_days, delete_days = policy(connector)
        accounts = state.accounts(connector.id)
        cleanup = PlatformCleanup(connector.id, connector.name, connector.mode,
                                  sum(1 for a in accounts.values() if a.status == "active"))  # fmt: skip
        for key, account in sorted(accounts.items()):
            if account.status not in HELD or (erasing and key not in erasing):
                continue
            if key in erasing or state.subject(key) in erased:
                if account.status != "deletion_requested":
                    cleanup.steps.append(Step(DELETE, key, account.username, ERASED, today, today, account.status))
                continue
            reason, left_on = leaver_reason(by_key.get(key), account, today, excluded, complete)
            if reason is None:
                # Back before the account was deleted: it is theirs again (an active one only
                # forgets the leaving date it was counting from).
                if account.status != "active" or account.left_on:
                    cleanup.steps.append(Step(RESTORE, key, account.username, RETURNED, None, today, account.status))
                continue
            if account.status == "deletion_requested":
                continue  # on a deletion list, waiting for the admin to confirm it
            delete_due = left_on + timedelta(days=delete_days)
            disable_due = left_on + timedelta(days=disable_days) if disable_days is not None else None
            if today >= delete_due:
                cleanup.steps.append(Step(DELETE, key, account.username, reason, left_on, delete_due, account.status))
            elif account.status == "active" and disable_due is not None and today >= disable_due:
                cleanup.steps.append(Step(DISABLE, key, account.username, reason, left_on, disable_due, "active"))
            elif account.status == "active" and disable_due is not None:
                cleanup.waiting.append(Step(DISABLE, key, account.username, reason, left_on, disable_due, "active"))
            else:
                cleanup.waiting.append(Step(DELETE, key, account.username, reason, left_on, delete_due,
                                            account.status))  # fmt: skip
        platforms[connector.id] = cleanup
    return CleanupPlan(today, len(roster.pupils), platforms)


def guard(plan: CleanupPlan, max_share: float, allow_large: bool) -> None:
    """Refuse a cleanup that looks like a bad roster rather than real leavers."""
    if plan.pupils == 0:
        raise GuardRefused(
            "the roster lists no pupils, so a cleanup from it would remove every account",
            hint="export the full on-roll list from the MIS again (an empty or header-only file is never accepted)",
        )
    if allow_large:
        return
    for cleanup in plan.platforms.values():
        if cleanup.in_service and cleanup.removals > max_share * cleanup.in_service:
            share = cleanup.removals / cleanup.in_service
            raise GuardRefused(
                f"{cleanup.name}: this would take {cleanup.removals} of {cleanup.in_service} accounts out of "
                f"service ({share:.0%}), more than the {max_share:.0%} limit; a roster that is cut short or "
                "filtered (one class, one year) looks like this. Nothing was changed",
                hint="check the roster is the whole school; if these pupils really left (Year 6 in July), "
                "run again with --allow-large-cleanup",
            )


@dataclass
class CleanupResult:
    plan: CleanupPlan
    done: dict[str, dict[str, int]] = field(default_factory=dict)  # platform -> action -> count
    deletion_lists: list[engine.IssuedBatch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = self.plan.as_dict()
        out["done"] = self.done
        out["deletion_lists"] = [{"platform": b.platform, "batch": b.batch_id, "file": str(b.path),
                                  "files": [str(p) for p in b.slips], "rows": b.rows}
                                 for b in self.deletion_lists]  # fmt: skip
        out["notes"] = self.notes
        return out


def apply_cleanup(
    workspace: Workspace, roster: Roster, connectors: list[Connector], today: date,
    confirm: Callable[[CleanupPlan], bool], allow_large: bool = False,
) -> CleanupResult:  # fmt: skip
    """Plan, check the guard, ask, then act on each platform and record it."""
    with workspace.lock():
        with engine.open_state(workspace) as state:
            state.mark_interrupted_runs()
            plan = plan_cleanup(workspace, state, roster, connectors, today)
            guard(plan, workspace.settings.leavers.max_share, allow_large)
            result = CleanupResult(plan)
            if plan.has_work and not confirm(plan):
                raise Aborted("nothing was changed", hint="run 'provisioner leavers plan FILE' to review it again")
            run_id = state.begin_run("leavers", roster.sha256)
            carry_out(workspace, state, plan, connectors, roster, today, run_id, result,
                      again="provisioner leavers apply FILE")  # fmt: skip
            return result


def carry_out(workspace: Workspace, state: State, plan: CleanupPlan, connectors: list[Connector],
              roster: Roster | None, today: date, run_id: int, result: CleanupResult, again: str) -> None:  # fmt: skip
    """Act on each platform as the plan says and finish the run. Without a roster (an erasure)
    Microsoft 365's class groups are left to the next apply to put in step."""
    failed = 0
    try:
        _remember_leavers(state, plan, run_id)
        for connector in connectors:
            cleanup = plan.platforms[connector.id]
            if not cleanup.steps:
                continue
            if connector.mode == API:
                failed += _act_through_api(workspace, state, connector, cleanup, roster, today, run_id, result)
            elif connector.mode == FILE:
                _act_by_file(workspace, state, connector, cleanup, today, run_id, result)
            elif connector.mode == MIS_SYNC:
                _act_by_mis_sync(workspace, state, connector, cleanup, today, run_id, result)
    except BaseException as exc:
        state.finish_run(run_id, "failed", {"error": type(exc).__name__})
        raise
    state.finish_run(run_id, "ok" if not failed else "partial", {"platforms": result.done})
    if failed:
        raise PartialFailure(
            f"{failed} account change(s) were not confirmed when the accounts were read back",
            hint=f"the others were done and recorded; run '{again}' again",
        )


def _remember_leavers(state: State, plan: CleanupPlan, run_id: int) -> None:
    """Record when each leaver left (or was first missed) and when their account must be gone,
    so the grace period runs from then and status can show deletions overdue."""
    with state.transaction() as db:
        for cleanup in plan.platforms.values():
            for step in cleanup.steps + cleanup.waiting:
                if step.left_on is None:
                    continue
                delete_due = step.due if step.action == DELETE else None
                db.execute(
                    "UPDATE accounts SET left_on = COALESCE(left_on, ?), delete_due = COALESCE(?, delete_due)"
                    " WHERE platform = ? AND pupil_key = ?",
                    (step.left_on.isoformat(), delete_due.isoformat() if delete_due else None, cleanup.platform,
                     step.pupil_key),
                )  # fmt: skip


def _set_status(state: State, platform: str, key: str, status: str, run_id: int, action: str, detail: dict) -> None:
    """One account's new status, its record in the pupil's history (sends) and the audit log."""
    stamp = now()
    returned = status == "active"
    state.db.execute(
        "UPDATE accounts SET status = ?, status_at = ?, updated_at = ?"
        + (", left_on = NULL, delete_due = NULL" if returned else "")
        + " WHERE platform = ? AND pupil_key = ?",
        (status, stamp, stamp, platform, key),
    )
    if detail.get("batch") is None:  # a deletion list's rows are recorded with its batch
        state.db.execute(
            "INSERT INTO sends (run_id, platform, batch_id, pupil_key, action, fields, changed, status, sent_at)"
            " VALUES (?, ?, NULL, ?, ?, '{}', '[]', 'done', ?)",
            (run_id, platform, key, action, stamp),
        )
    state.audit(run_id, f"account.{action}", platform, key, detail=detail)


def _act_through_api(workspace, state, connector, cleanup, roster, today, run_id, result) -> int:
    directory = connector.connect(workspace.settings.school.domain)
    accounts = state.accounts(connector.id)
    failed = 0
    done: Counter = Counter()
    # An erasure deletes for good, where a leaver's account stays restorable for a while.
    erasing = [s for s in cleanup.of(DELETE) if s.reason == ERASED]
    leaving = [s for s in cleanup.of(DELETE) if s.reason != ERASED]
    for action, call, new_status, chosen in (
        (DISABLE, connector.disable, "disabled", cleanup.of(DISABLE)),
        (DELETE, connector.delete, "deleted", leaving),
        (DELETE, connector.erase, "deleted", erasing),
        (RESTORE, connector.enable, "active", cleanup.of(RESTORE)),
    ):
        steps = [s for s in chosen if accounts[s.pupil_key].remote_id]
        if action == RESTORE:  # an account never disabled needs no call, only its leaving date forgotten
            with state.transaction():
                for step in [s for s in steps if s.was == "active"]:
                    _set_status(state, connector.id, step.pupil_key, "active", run_id, RESTORE, {"reason": step.reason})
            steps = [s for s in steps if s.was != "active"]
        if not steps:
            continue
        ids = {accounts[s.pupil_key].remote_id: s for s in steps}
        confirmed = call(directory, list(ids))
        with state.transaction():
            for remote_id, ok in confirmed.items():
                step = ids[remote_id]
                if ok:
                    _set_status(state, connector.id, step.pupil_key, new_status, run_id, action,
                                {"reason": step.reason, "verified": True})  # fmt: skip
                    done[action] += 1
                else:
                    failed += 1
                    state.audit(run_id, f"account.{action}.failed", connector.id, step.pupil_key,
                                detail={"reason": "not confirmed by reading back"})  # fmt: skip
    # Leavers leave their class groups; returners rejoin theirs and keep their licence.
    if roster is not None:
        engine.reconcile(workspace, state, connector, directory, roster, today, run_id)
    result.done[connector.id] = dict(done)
    return failed


def _act_by_file(workspace, state, connector, cleanup, today, run_id, result) -> None:
    done: Counter = Counter()
    with state.transaction():
        for step in cleanup.of(RESTORE):
            _set_status(state, connector.id, step.pupil_key, "active", run_id, RESTORE, {"reason": step.reason})
            done[RESTORE] += 1
            if step.was == "deletion_requested":
                result.notes.append(f"{connector.name}: {step.username} is back; if their account is on a deletion "
                                    "list, leave it off")  # fmt: skip
    deletes = cleanup.of(DELETE)
    if deletes:
        result.deletion_lists.append(_deletion_list(workspace, state, connector, deletes, today, run_id))
        done["deletion_requested"] = len(deletes)
    result.done[connector.id] = dict(done)


def _deletion_list(workspace, state, connector, steps, today, run_id) -> engine.IssuedBatch:
    """A batch asking the admin to delete these accounts: a checklist to print and tick, or for a
    platform that takes whole uploads (School Data Sync), the next upload without them."""
    platform = connector.id
    batch_id = state.next_batch_id(today.isoformat())
    folder = files.make_private_dir(workspace.outbox / platform)
    due = today + timedelta(days=workspace.settings.leavers.confirm_within_days)
    accounts = state.accounts(platform)
    leaving = {s.pupil_key for s in steps}
    written: list[Path] = []
    if connector.full_set:
        path = folder / f"{platform}-deletions-{batch_id}"
        staying = [PupilView(platform, {**a.sent, "password": ""} if connector.issues_passwords else a.sent)
                   for k, a in sorted(accounts.items()) if a.status == "active" and k not in leaving]  # fmt: skip
        connector.write_import(path, staying, workspace.settings.school.name)
        file = path
    else:
        # A platform that reads the MIS holds names the tool never copied: the MIS id finds the pupil.
        rows = sorted((accounts[s.pupil_key].username or "(its own)",
                       _name(accounts[s.pupil_key].sent) or f"MIS record {s.pupil_key.partition(':')[2]}",
                       accounts[s.pupil_key].sent.get("class_name", "")) for s in steps)  # fmt: skip
        written = [folder / f"{platform}-deletions-{batch_id}{suffix}" for suffix in (".pdf", ".xlsx")]
        write_checklist(
            *written,
            title=f"{connector.name}: delete these leavers' accounts (batch {batch_id})",
            lines=[f"{workspace.settings.school.name}. Delete each account on {connector.name}, tick it, then run: "
                   f"provisioner confirm {platform} deleted --batch {batch_id}", f"Do this by {due.isoformat()}."],
            header=["Username", "Name", "Class"],
            rows=rows,
        )  # fmt: skip
        file = written[0]
    with state.transaction() as db:
        db.execute(
            "INSERT INTO batches (id, platform, run_id, kind, file, status, created_at, issued_at, due)"
            " VALUES (?, ?, ?, 'deletion', ?, 'issued', ?, ?, ?)",
            (batch_id, platform, run_id, file.relative_to(workspace.root).as_posix(), now(), now(), due.isoformat()),
        )
        for step in steps:
            db.execute(
                "INSERT INTO sends (run_id, platform, batch_id, pupil_key, action, fields, changed, status)"
                " VALUES (?, ?, ?, ?, 'delete', '{}', '[]', 'pending')",
                (run_id, platform, batch_id, step.pupil_key),
            )
            _set_status(state, platform, step.pupil_key, "deletion_requested", run_id, "deletion_requested",
                        {"reason": step.reason, "batch": batch_id})  # fmt: skip
    return engine.IssuedBatch(platform, batch_id, file, len(steps), slips=written)


def _name(sent: dict[str, str]) -> str:
    """A name for the checklist from what the platform was sent (so it matches what it shows)."""
    if sent.get("forename") or sent.get("surname"):
        return " ".join(v for v in (sent.get("forename"), sent.get("surname")) if v)
    return sent.get("full_name", "")


def _act_by_mis_sync(workspace, state, connector, cleanup, today, run_id, result) -> None:
    """The platform reads the MIS and removes leavers itself: record that it no longer holds them.
    An erasure cannot wait for that: it goes on a deletion list for the admin to ask for."""
    done: Counter = Counter()
    erasing = [s for s in cleanup.steps if s.reason == ERASED]
    if erasing:
        result.deletion_lists.append(_deletion_list(workspace, state, connector, erasing, today, run_id))
        done["deletion_requested"] = len(erasing)
    with state.transaction():
        for step in [s for s in cleanup.steps if s.reason != ERASED]:
            status = "active" if step.action == RESTORE else "deleted"
            _set_status(state, connector.id, step.pupil_key, status, run_id, step.action,
                        {"reason": step.reason, "via": MIS_SYNC})  # fmt: skip
            done[step.action] += 1
    result.done[connector.id] = dict(done)


def confirm_deleted(workspace: Workspace, platform: str, batch_id: str | None) -> tuple[list, list]:
    """Record that the admin deleted a deletion list's accounts: (confirmed now, confirmed before)."""
    with workspace.lock():
        with engine.open_state(workspace) as state:
            batches = {b.id: b for b in state.batches(platform) if b.kind == "deletion"}
            chosen = engine.choose_batch(platform, batches, batch_id, "deletion lists", "deleted")
            if chosen.status != "issued":
                return [], [chosen]
            run_id = state.begin_run("confirm", None)
            stamp = now()
            with state.transaction() as db:
                rows = db.execute(
                    "SELECT id, pupil_key FROM sends WHERE platform = ? AND batch_id = ? AND status = 'pending'",
                    (platform, chosen.id),
                ).fetchall()
                for send_id, key in rows:
                    db.execute("UPDATE sends SET status = 'done', sent_at = ? WHERE id = ?", (stamp, send_id))
                    current = db.execute("SELECT status FROM accounts WHERE platform = ? AND pupil_key = ?",
                                         (platform, key)).fetchone()  # fmt: skip
                    if current and current[0] == "deletion_requested":  # not a returner taken off the list
                        _set_status(state, platform, key, "deleted", run_id, "delete", {"batch": chosen.id})
                db.execute("UPDATE batches SET status = 'deleted', confirmed_at = ? WHERE platform = ? AND id = ?",
                           (stamp, platform, chosen.id))  # fmt: skip
                state.audit(run_id, "batch.deleted", platform, detail={"batch": chosen.id, "accounts": len(rows)})
            state.finish_run(run_id, "ok", {"confirmed": chosen.id})
            return [chosen], []


def overdue(state: State, today: date, platform: str) -> dict[str, int]:
    """Deletions past their due date on one platform: deletion lists not confirmed in time, and
    leavers' accounts whose deletion fell due but no cleanup has acted on."""
    lists = sum(
        state.db.execute("SELECT COUNT(*) FROM sends WHERE platform = ? AND batch_id = ? AND status = 'pending'",
                         (platform, b.id)).fetchone()[0]
        for b in state.batches(platform, status="issued") if b.kind == "deletion" and b.due and b.due < today.isoformat()
    )  # fmt: skip
    waiting = state.db.execute(
        "SELECT COUNT(*) FROM accounts WHERE platform = ? AND status IN ('active', 'disabled')"
        " AND delete_due IS NOT NULL AND delete_due < ?",
        (platform, today.isoformat()),
    ).fetchone()[0]
    return {"unconfirmed_deletion_lists": lists, "deletions_not_started": waiting}


# The tool's own retention

OUTBOX_KEEP_DAYS = 30  # confirmed batches' files (passwords, names) are kept this long, then removed


def purge(workspace: Workspace, today: date, only: str | None = None) -> dict:
    """Forget leavers whose every account was deleted more than ``retention_days`` ago: their
    accounts, sends, usernames and resets go; the audit log keeps its events under the keyed
    hash. Also removes outbox files of batches confirmed more than OUTBOX_KEEP_DAYS ago.
    Deleted rows are overwritten and the file compacted, so nothing can be read back from it.
    ``only``: forget just this pupil (an erasure), leaving everything else to the next purge."""
    retention = timedelta(days=workspace.settings.leavers.retention_days)
    with workspace.lock():
        with engine.open_state(workspace) as state:
            rows = state.db.execute("SELECT pupil_key, status, status_at FROM accounts"
                                    + (" WHERE pupil_key = ?" if only else ""), (only,) if only else ()).fetchall()  # fmt: skip
            by_pupil: dict[str, list] = {}
            for key, status, status_at in rows:
                by_pupil.setdefault(key, []).append((status, status_at))
            cutoff = today - retention
            held_back = state.erasure_held()  # an erasure request waits for no retention period
            erased = {key for key in by_pupil if state.subject(key) in held_back}
            forgotten = [
                key for key, held in by_pupil.items()
                if all(s == "deleted" and at and (_day(at) <= cutoff or key in erased) for s, at in held)
            ]  # fmt: skip
            # An erased pupil's name is also in the outbox: the files of every batch that held them
            # go now if the batch is done with; one still to upload is named for the admin.
            erased_files, kept = _erased_pupils_files(workspace, state, [k for k in forgotten if k in erased])
            run_id = state.begin_run("purge", None)
            with state.transaction() as db:
                for key in forgotten:
                    for table in ("accounts", "sends", "usernames", "password_resets"):
                        db.execute(f"DELETE FROM {table} WHERE pupil_key = ?", (key,))  # noqa: S608 (fixed names)
                    state.audit(run_id, "pupil.purged", pupil_key=key, detail={})
            removed_files = erased_files + ([] if only else _purge_outbox(workspace, state, today))
            state.finish_run(run_id, "ok", {"pupils": len(forgotten), "files": len(removed_files)})
            state.db.execute("PRAGMA secure_delete = ON")
            state.db.execute("VACUUM")
            return {"as_of": today.isoformat(), "pupils_purged": len(forgotten),
                    "retention_days": retention.days, "files_removed": removed_files,
                    "files_kept": kept}  # fmt: skip


def _batch_files(workspace: Workspace, platform: str, batch_id: str) -> list[Path]:
    folder = workspace.outbox / platform
    return sorted(folder.glob(f"*{batch_id}*")) if folder.is_dir() else []


def _erased_pupils_files(workspace: Workspace, state: State, keys: list[str]) -> tuple[list[str], list[str]]:
    """(files removed, files kept) of the batches that held these pupils: a finished batch's
    files go now, whatever their age; an import still waiting for upload stays, named."""
    removed, kept = [], []
    done = ("uploaded", "deleted", "applied")
    batches = {(p, b, s) for key in keys for p, b, s in state.db.execute(
        "SELECT s.platform, s.batch_id, b.status FROM sends s JOIN batches b ON b.platform = s.platform"
        " AND b.id = s.batch_id WHERE s.pupil_key = ?", (key,))}  # fmt: skip
    for platform, batch_id, status in sorted(batches):
        for path in _batch_files(workspace, platform, batch_id):
            shown = path.relative_to(workspace.root).as_posix()
            if status in done:
                files.remove_tree(path)
                removed.append(shown)
            else:
                kept.append(shown)
    return removed, kept


def _purge_outbox(workspace: Workspace, state: State, today: date) -> list[str]:
    removed = []
    keep = timedelta(days=OUTBOX_KEEP_DAYS)
    finished = state.db.execute(
        "SELECT platform, id, COALESCE(confirmed_at, issued_at) FROM batches"
        " WHERE status IN ('uploaded', 'deleted', 'applied') AND COALESCE(confirmed_at, issued_at) IS NOT NULL"
    ).fetchall()
    for platform, batch_id, stamp in finished:
        if _day(stamp) + keep > today:
            continue
        for path in _batch_files(workspace, platform, batch_id):
            files.remove_tree(path)
            removed.append(path.relative_to(workspace.root).as_posix())
    return removed


def _day(stamp: str) -> date:
    return datetime.fromisoformat(stamp).date()

