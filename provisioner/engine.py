"""Plan, then apply.

``make_plan`` is a pure function of the roster, the state, the settings and today: it
changes nothing and says, per platform, exactly what would be sent. ``apply`` recomputes the
plan, asks, and carries it out crash-safely: it records its intent (the rows, the usernames)
in the state before it writes any file, and finishes an interrupted batch from that record
on the next run, so a SIGKILL at any point followed by another apply issues nobody twice.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from provisioner import files, passwords
from provisioner.connector import API, FILE, MIS_SYNC, Connector, PupilView, Work
from provisioner.errors import Aborted, PartialFailure, RosterError, UsageError
from provisioner.models import Pupil, Roster
from provisioner.register import require_approved
from provisioner.roster import read_roster
from provisioner.slips import Slip, write_slips
from provisioner.state import Batch, State, now
from provisioner.usernames import UsernameAllocator, base_username
from provisioner.workspace import Workspace

CREATE, UPDATE, UNCHANGED, LEAVER = "create", "update", "unchanged", "leaver"
# The actions of the machine-readable summary; disable, delete and restore belong to the
# leaver cleanup and are zero until it acts.
SUMMARY_ACTIONS = ("create", "update", "disable", "delete", "restore", "unchanged")

Progress = Callable[[str, int, int], None]  # (platform, done, total)


@dataclass(frozen=True)
class Change:
    action: str
    pupil_key: str
    row: int | None  # the roster row, so the admin can find the pupil
    values: dict[str, str]  # every declared field, as it would be sent
    changed: tuple[str, ...] = ()
    username: str | None = None


@dataclass
class PlatformPlan:
    platform: str
    name: str
    mode: str
    fields: tuple[str, ...]
    changes: list[Change] = field(default_factory=list)
    resuming: int = 0  # changes of an interrupted apply, finished before this plan runs
    fixes: list = field(default_factory=list)  # API platforms: licences and groups out of step (connector.drift)

    def of(self, action: str) -> list[Change]:
        return [c for c in self.changes if c.action == action]

    @property
    def to_send(self) -> list[Change]:
        return [c for c in self.changes if c.action in (CREATE, UPDATE)]

    def counts(self) -> dict[str, int]:
        counted = Counter(c.action for c in self.changes)
        out = {action: counted.get(action, 0) for action in SUMMARY_ACTIONS}
        out["leavers"] = counted.get(LEAVER, 0)
        return out

    def changed_fields(self) -> dict[str, int]:
        return dict(Counter(f for c in self.of(UPDATE) for f in c.changed))

    def fix_counts(self) -> dict[str, int]:
        return dict(Counter(fix.kind for fix in self.fixes))


@dataclass
class Plan:
    today: date
    pupils: int
    platforms: dict[str, PlatformPlan]
    already_left: int = 0  # roster pupils whose leaving date has passed: no account is made
    withheld: int = 0  # roster pupils under an erasure request: nothing is sent about them

    @property
    def has_work(self) -> bool:
        return any(p.to_send or p.resuming or p.fixes for p in self.platforms.values())

    def as_dict(self) -> dict:
        return {
            "as_of": self.today.isoformat(),
            "pupils": self.pupils,
            "already_left": self.already_left,
            "withheld": self.withheld,
            "platforms": {
                pid: {**p.counts(), "fields": list(p.fields), "fields_changed": p.changed_fields(),
                      "resuming": p.resuming, "in_step": p.fix_counts()}
                for pid, p in self.platforms.items()
            },
        }  # fmt: skip


@dataclass
class IssuedBatch:
    platform: str
    batch_id: str
    path: Path | None  # the import file; None for a platform reached through its API
    rows: int
    resumed: bool = False
    slips: list[Path] = field(default_factory=list)  # login slips (PDF, xlsx) for new passwords


@dataclass
class ApplyResult:
    plan: Plan
    batches: list[IssuedBatch]
    recorded: dict[str, int] = field(default_factory=dict)  # MIS-sync platform -> pupils recorded

    def as_dict(self) -> dict:
        out = self.plan.as_dict()
        out["batches"] = [
            {"platform": b.platform, "batch": b.batch_id, "file": str(b.path) if b.path else None, "rows": b.rows,
             "resumed": b.resumed,
             "slips": [str(path) for path in b.slips]}
            for b in self.batches
        ]  # fmt: skip
        out["recorded"] = self.recorded
        return out


def load_roster(workspace: Workspace, path: Path, *, skip_invalid_rows: bool, today: date) -> Roster:
    """Read the roster for plan/apply: any row error stops unless the admin chose to skip those rows."""
    roster = read_roster(path, workspace.settings.roster, today=today)
    if roster.errors and not skip_invalid_rows:
        raise RosterError(
            f"the roster has {len(roster.errors)} problem(s) in {roster.invalid_rows} row(s); nothing was changed",
            hint=f"see them with 'provisioner roster check {path}', fix the export, "
            "or pass --skip-invalid-rows to leave those rows out",
            problems=roster.errors,
        )
    return roster


def pupil_values(workspace: Workspace, connector: Connector, pupil: Pupil, username: str) -> dict[str, str]:
    """The fields one platform receives about one pupil, as text; no other field is read.

    The password is not among them: it is made when the file is written, never stored.
    """
    values = {}
    for name in connector.sent_fields:
        if name == "password":
            continue
        if name == "pseudonymous_id":
            value = workspace.pseudonymous_id(connector.id, pupil.key)
        elif name == "username":
            value = username
        else:
            value = getattr(pupil, name)
        values[name] = "" if value is None else value.isoformat() if isinstance(value, date) else str(value)
    return values


def plan_platform(
    workspace: Workspace, state: State, connector: Connector, roster: Roster, today: date,
    remote_taken: set[str] = frozenset(),
) -> PlatformPlan:  # fmt: skip
    """What one platform needs; ``remote_taken``: usernames the platform already holds for others."""
    platform = connector.id
    accounts = state.accounts(platform)
    # An interrupted apply's rows count as sent: they are finished before anything new.
    resuming = 0
    for batch in state.batches(platform, status="writing"):
        for send in state.pending_sends(platform, batch.id):
            resuming += 1
            if send.pupil_key in accounts:
                accounts[send.pupil_key] = replace(accounts[send.pupil_key], sent=send.fields)
    usernames = UsernameAllocator(state.usernames(platform) | remote_taken, connector.username_max_length)
    resets = state.password_resets(platform) if connector.issues_passwords else set()
    plan = PlatformPlan(platform, connector.name, connector.mode, connector.sent_fields, resuming=resuming)
    wanted = on_roll(workspace, roster, today) - withheld(state, roster)
    placed: set[str] = set()
    for pupil in roster.pupils:
        if pupil.key not in wanted:
            continue
        placed.add(pupil.key)
        account = accounts.get(pupil.key)
        if account is not None and account.status == "deleted":
            account = None  # came back after their account was deleted: a new one (never the old username)
        if account is not None and connector.mode == MIS_SYNC:
            plan.changes.append(Change(UNCHANGED, pupil.key, pupil.row, {}, (), account.username))
            continue  # the platform keeps itself up to date from the MIS
        if account is None or not account.username and connector.mode != MIS_SYNC:
            # New, or held until now through a MIS sync: the tool makes the account from here on.
            username = ""  # a platform that reads the MIS itself makes its own
            if connector.mode != MIS_SYNC:
                username = usernames.allocate(base_username(connector.effective_username_template, pupil))
            values = pupil_values(workspace, connector, pupil, username)
            plan.changes.append(Change(CREATE, pupil.key, pupil.row, values, tuple(connector.sent_fields), username))
            continue
        values = pupil_values(workspace, connector, pupil, account.username)
        changed = tuple(name for name in values if account.sent.get(name) != values[name])
        if pupil.key in resets:
            changed += ("password",)
        action = UPDATE if changed else UNCHANGED
        plan.changes.append(Change(action, pupil.key, pupil.row, values, changed, account.username))
    # Rows left out for errors may be pupils still on roll: absence proves nothing then.
    if roster.invalid_rows == 0:
        for key, account in accounts.items():
            if key not in placed and account.status != "deleted":
                plan.changes.append(Change(LEAVER, key, None, {}, (), account.username))
    return plan


def withheld(state: State, roster: Roster) -> set[str]:
    """Roster pupils under an erasure request (``pupil erase``): no account is made or kept."""
    held = state.erasure_held()
    if not held:
        return set()

    def keys(pupil: Pupil) -> set[str]:  # a hold made before any account was made may use either id
        return {pupil.key, *([f"mis:{pupil.mis_id}"] if pupil.mis_id else []), *([f"upn:{pupil.upn}"] if pupil.upn else [])}

    return {p.key for p in roster.pupils if any(state.subject(k) in held for k in keys(p))}


def has_left(pupil: Pupil, today: date) -> bool:
    return pupil.leaving_date is not None and pupil.leaving_date <= today


def make_plan(
    workspace: Workspace, state: State, roster: Roster, connectors: list[Connector], today: date,
    directories: dict | None = None,
) -> Plan:  # fmt: skip
    """The plan; ``directories`` (API platforms, read at apply) say which usernames are taken there."""
    directories = directories or {}
    platforms = {}
    for connector in connectors:
        directory = directories.get(connector.id)
        taken = directory.taken_usernames if directory else set()
        platforms[connector.id] = plan_platform(workspace, state, connector, roster, today, taken)
        if directory is not None:
            platforms[connector.id].fixes = drift(workspace, state, connector, directory, roster, today)
    return Plan(today=today, pupils=len(roster.pupils), platforms=platforms,
                already_left=sum(1 for p in roster.pupils if has_left(p, today)),
                withheld=len(withheld(state, roster)))  # fmt: skip


def on_roll(workspace: Workspace, roster: Roster, today: date) -> set[str]:
    """The pupils who should have accounts: not left, and not of an enrolment status the school excludes."""
    excluded = set(workspace.settings.leavers.exclude_enrolment_statuses)
    return {p.key for p in roster.pupils if not has_left(p, today) and p.enrolment_status not in excluded}


def drift(workspace: Workspace, state: State, connector: Connector, directory, roster: Roster, today: date) -> list:
    """An API platform's licences and groups that differ from the state: pupils on roll keep
    theirs; leavers leave their class groups (their accounts are the leaver cleanup's)."""
    on_roll_now = on_roll(workspace, roster, today)
    held, gone = {}, set()
    for key, account in state.accounts(connector.id).items():
        if not account.remote_id:
            continue
        if key in on_roll_now and account.status == "active":
            held[account.remote_id] = PupilView(connector.id, account.sent)
        elif key in on_roll_now or roster.invalid_rows == 0:  # rows left out for errors prove nothing
            gone.add(account.remote_id)
    return connector.drift(directory, held, gone)


def open_state(workspace: Workspace) -> State:
    return State(workspace.state_path, workspace.secret)


def apply(
    workspace: Workspace,
    roster: Roster,
    connectors: list[Connector],
    today: date,
    confirm: Callable[[Plan], bool],
    progress: Progress | None = None,
) -> ApplyResult:
    with workspace.lock():
        with open_state(workspace) as state:
            state.mark_interrupted_runs()  # holding the lock, no run can still be going
            require_approved(workspace, state, connectors, today)
            # Platforms with an API are read first: a wrong credential stops here, and a
            # sign-in name someone else already has is never planned.
            school_domain = workspace.settings.school.domain
            directories = {c.id: c.connect(school_domain) for c in connectors if c.mode == API}
            # The plan counts an interrupted apply's rows as sent, and shows them as resuming,
            # so the admin confirms those too before anything is written.
            plan = make_plan(workspace, state, roster, connectors, today, directories)
            if not plan.has_work:
                return ApplyResult(plan, [])
            if not confirm(plan):
                raise Aborted("nothing was changed", hint="run 'provisioner plan FILE' to review the changes again")
            batches = finish_interrupted(workspace, state, connectors, roster, directories, progress)
            if batches:  # the same plan, now with nothing left resuming
                plan = make_plan(workspace, state, roster, connectors, today, directories)
            if not any(p.to_send or p.fixes for p in plan.platforms.values()):
                return ApplyResult(plan, batches)
            run_id = state.begin_run("apply", roster.sha256)
            batch_id = state.next_batch_id(today.isoformat())
            recorded = {}
            try:
                for connector in connectors:
                    platform_plan = plan.platforms[connector.id]
                    if connector.mode == API and (platform_plan.to_send or platform_plan.fixes):
                        # The accounts first, then their licences and groups, read afresh; the
                        # pupils whose accounts were made are licensed even if others failed.
                        directory = directories[connector.id]
                        connector.preflight(directory, len(platform_plan.of(CREATE)), platform_plan.fixes)
                        try:
                            if platform_plan.to_send:
                                batch = prepare_batch(workspace, state, connector, platform_plan, run_id, batch_id)
                                batches.append(push_batch(workspace, state, connector, directory, batch, roster,
                                                          progress))  # fmt: skip
                        except PartialFailure:
                            reconcile(workspace, state, connector, directory, roster, today, run_id)
                            raise
                        reconcile(workspace, state, connector, directory, roster, today, run_id)
                        continue
                    if not platform_plan.to_send:
                        continue
                    if connector.mode == FILE:
                        batch = prepare_batch(workspace, state, connector, platform_plan, run_id, batch_id)
                        batches.append(finish_batch(workspace, state, connector, batch, roster, progress))
                    elif connector.mode == MIS_SYNC:
                        recorded[connector.id] = record_synced(state, connector, platform_plan, run_id)
            except BaseException as exc:
                state.finish_run(run_id, "failed", {"error": type(exc).__name__})
                raise
            state.finish_run(run_id, "ok", {"platforms": {k: v.counts() for k, v in plan.platforms.items()}})
            return ApplyResult(plan, batches, recorded)


def finish_interrupted(
    workspace: Workspace, state: State, connectors: list[Connector], roster: Roster, directories: dict,
    progress: Progress | None = None,
) -> list[IssuedBatch]:  # fmt: skip
    """Finish every batch an earlier apply recorded for these platforms but did not complete."""
    done = []
    for connector in connectors:
        for batch in state.batches(connector.id, status="writing"):
            if connector.mode == API:
                issued = push_batch(workspace, state, connector, directories[connector.id], batch, roster, progress)
            else:
                issued = finish_batch(workspace, state, connector, batch, roster, progress)
            issued.resumed = True
            done.append(issued)
    return done


def prepare_batch(
    workspace: Workspace, state: State, connector: Connector, plan: PlatformPlan, run_id: int, batch_id: str
) -> Batch:
    """Record the intent: the batch, every row it will hold, and the usernames it takes."""
    platform = connector.id
    kind, file = "api", ""
    if connector.mode == FILE:
        kind, file = "import", (Path("outbox") / platform / connector.import_file_name(batch_id)).as_posix()
    stamp = now()
    with state.transaction() as db:
        db.execute(
            "INSERT INTO batches (id, platform, run_id, kind, file, status, created_at)"
            " VALUES (?, ?, ?, ?, ?, 'writing', ?)",
            (batch_id, platform, run_id, kind, file, stamp),
        )
        for change in plan.to_send:
            db.execute(
                "INSERT INTO sends (run_id, platform, batch_id, pupil_key, action, fields, changed, status)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                (run_id, platform, batch_id, change.pupil_key, change.action, json.dumps(change.values),
                 json.dumps(list(change.changed))),
            )  # fmt: skip
            if change.action == CREATE:
                db.execute(
                    "INSERT INTO usernames (platform, username, pupil_key, issued_at) VALUES (?, ?, ?, ?)",
                    (platform, change.username, change.pupil_key, stamp),
                )
                db.execute(
                    "INSERT INTO accounts (platform, pupil_key, username, status, sent, created_at, updated_at)"
                    " VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (platform, pupil_key) DO UPDATE SET"
                    " username = excluded.username, status = 'pending', sent = excluded.sent,"
                    " updated_at = excluded.updated_at, remote_id = NULL, left_on = NULL, delete_due = NULL",
                    (platform, change.pupil_key, change.username, json.dumps(change.values), stamp, stamp),
                )
        counts = plan.counts()
        state.audit(run_id, "batch.prepared", platform, detail={"batch": batch_id, "create": counts[CREATE],
                                                                "update": counts[UPDATE]})  # fmt: skip
    crashpoint("prepared")
    return Batch(batch_id, platform, run_id, file, "writing", stamp, None)


def finish_batch(
    workspace: Workspace, state: State, connector: Connector, batch: Batch, roster: Roster,
    progress: Progress | None = None,
) -> IssuedBatch:  # fmt: skip
    """Write the batch's files from its recorded rows, then mark every row sent, in one transaction.

    First passwords are made here, for new accounts, and go only into the import file and the
    login slips. After a crash before the commit they are made afresh and both files rewritten,
    so the slips always match the file the admin uploads.
    """
    platform = connector.id
    sends = state.pending_sends(platform, batch.id)
    by_key = {pupil.key: pupil for pupil in roster.pupils}
    path = workspace.root / batch.file
    school = workspace.settings.school
    # A file written whole before a crash may already be uploaded: keep its passwords.
    earlier = connector.passwords_in(path) if connector.issues_passwords else {}
    rows, slips = [], []
    for done, send in enumerate(sends, start=1):
        values = dict(send.fields)
        if connector.issues_passwords:
            new_password = send.action == CREATE or "password" in send.changed
            password = earlier.get(values.get("username", "")) or passwords.generate(connector.password_rule)
            values["password"] = password if new_password else ""
            if new_password:
                slips.append(login_slip(connector, values, by_key.get(send.pupil_key), school.domain))
        rows.append(PupilView(platform, values))
        if progress and (done % 200 == 0 or done == len(sends)):
            progress(platform, done, len(sends))
    if connector.full_set:  # everyone else the platform holds, as last sent, so nobody looks like a leaver
        in_batch = {send.pupil_key for send in sends}
        # A first password in an earlier upload not yet confirmed is carried, so uploading
        # only the newest files still sets the password its slip shows.
        carried = {}
        for earlier_batch in state.batches(platform, status="issued"):
            if earlier_batch.kind == "import" and earlier_batch.id != batch.id and connector.issues_passwords:
                carried.update(connector.passwords_in(workspace.root / earlier_batch.file))
        for key, account in sorted(state.accounts(platform).items()):
            if key not in in_batch and account.status == "active":
                values = dict(account.sent)
                if connector.issues_passwords:
                    values["password"] = carried.get(account.username, "")
                rows.append(PupilView(platform, values))
    files.make_private_dir(path.parent)
    _remove_stale_temporaries(path.parent)
    slip_paths = print_slips(workspace, connector, batch.id, slips)
    connector.write_import(path, rows, school.name)
    crashpoint("written")
    stamp = now()
    with state.transaction() as db:
        for send in sends:
            db.execute("UPDATE sends SET status = 'done', sent_at = ? WHERE id = ?", (stamp, send.id))
            db.execute(
                "UPDATE accounts SET status = 'active', sent = ?, updated_at = ? WHERE platform = ? AND pupil_key = ?",
                (json.dumps(send.fields), stamp, platform, send.pupil_key),
            )
            state.audit(batch.run_id, f"account.{send.action}", platform, send.pupil_key,
                        detail={"batch": batch.id, "fields": send.changed})  # fmt: skip
            if "password" in send.changed:
                db.execute("DELETE FROM password_resets WHERE platform = ? AND pupil_key = ?", (platform, send.pupil_key))
        db.execute(
            "UPDATE batches SET status = 'issued', issued_at = ? WHERE platform = ? AND id = ?",
            (stamp, platform, batch.id),
        )
        state.audit(batch.run_id, "batch.issued", platform,
                    detail={"batch": batch.id, "rows": len(sends), "passwords": len(slips)})  # fmt: skip
    crashpoint("committed")
    return IssuedBatch(platform, batch.id, path, len(sends), slips=slip_paths)


def reconcile(
    workspace: Workspace, state: State, connector: Connector, directory, roster: Roster, today: date, run_id: int
) -> None:
    """Bring an API platform's licences and groups in step with the state, and log what was done."""
    fixes = drift(workspace, state, connector, directory, roster, today)
    if fixes:
        done = connector.reconcile(directory, fixes)
        state.audit(run_id, "platform.in_step", connector.id, detail=dict(done))


APPLIED = "applied"  # an API batch: the platform has it, nothing to upload


def push_batch(
    workspace: Workspace, state: State, connector: Connector, directory, batch: Batch, roster: Roster,
    progress: Progress | None = None,
) -> IssuedBatch:  # fmt: skip
    """Carry out a recorded API batch, then record what the platform now holds.

    Passwords are made here and set on the accounts; the slips are written before anything is
    marked done. If the run is killed first, the next apply finds the accounts by their
    pseudonymous id, adopts them and sets new passwords, so the slips it prints are right.
    """
    platform = connector.id
    sends = state.pending_sends(platform, batch.id)
    accounts = state.accounts(platform)
    allocator = UsernameAllocator(state.usernames(platform) | directory.taken_usernames, connector.username_max_length)
    lock = threading.Lock()

    def next_username(taken: str) -> str:  # a sign-in name someone else holds: the next counter
        with lock:
            allocator.taken.add(taken)
            return allocator.allocate(taken.rstrip("0123456789") or taken)

    work = []
    for send in sends:
        values = dict(send.fields)
        if send.action == CREATE or "password" in send.changed:
            values["password"] = passwords.generate(connector.password_rule)
        account = accounts.get(send.pupil_key)
        work.append(Work(send.id, send.action, values, list(send.changed), account.remote_id if account else None))
    by_id = {send.id: send for send in sends}
    values_by_id = {w.send_id: w.values for w in work}
    outcomes = []
    done = 0

    def report(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(platform, done, len(sends))

    try:
        for outcome in connector.push(directory, work, next_username, report):
            outcomes.append(outcome)
            if len(outcomes) == 1:
                crashpoint("pushing")  # accounts exist on the platform, none recorded yet
    finally:  # record whatever was done, even when the run fails part way
        by_key = {pupil.key: pupil for pupil in roster.pupils}
        slips = [
            login_slip(connector, {**values_by_id[o.send_id], "username": o.username},
                       by_key.get(by_id[o.send_id].pupil_key), workspace.settings.school.domain)
            for o in outcomes if o.ok and values_by_id[o.send_id].get("password")
        ]  # fmt: skip
        slip_paths = print_slips(workspace, connector, batch.id, slips)
        record_outcomes(state, connector, batch, by_id, outcomes, finished=len(outcomes) == len(sends))
    failed = [o for o in outcomes if not o.ok]
    issued = IssuedBatch(platform, batch.id, None, len(outcomes) - len(failed), slips=slip_paths)
    if failed:
        codes = ", ".join(sorted({o.error or "unknown" for o in failed}))
        raise PartialFailure(
            f"{connector.name}: {len(failed)} of {len(sends)} account change(s) failed ({codes})",
            hint="the others were done and recorded; 'provisioner plan FILE' shows what is left, "
            "and apply tries the failed ones again",
        )
    return issued


def record_outcomes(state: State, connector: Connector, batch: Batch, sends: dict, outcomes: list, finished: bool) -> None:
    """Mark sends done (or failed, so the next plan proposes them again) in one transaction."""
    platform = connector.id
    stamp = now()
    with state.transaction() as db:
        for outcome in outcomes:
            send = sends[outcome.send_id]
            if outcome.ok:
                fields = {**send.fields, "username": outcome.username or send.fields.get("username", "")}
                db.execute("UPDATE sends SET status = 'done', sent_at = ?, fields = ? WHERE id = ?",
                           (stamp, json.dumps(fields), send.id))  # fmt: skip
                db.execute(
                    "UPDATE accounts SET status = 'active', sent = ?, username = ?, remote_id = ?, updated_at = ?"
                    " WHERE platform = ? AND pupil_key = ?",
                    (json.dumps(fields), fields["username"], outcome.remote_id, stamp, platform, send.pupil_key),
                )
                db.execute(
                    "INSERT OR IGNORE INTO usernames (platform, username, pupil_key, issued_at) VALUES (?, ?, ?, ?)",
                    (platform, fields["username"], send.pupil_key, stamp),
                )
                if "password" in send.changed:
                    db.execute("DELETE FROM password_resets WHERE platform = ? AND pupil_key = ?",
                               (platform, send.pupil_key))  # fmt: skip
                state.audit(batch.run_id, f"account.{send.action}", platform, send.pupil_key,
                            detail={"batch": batch.id, "fields": send.changed})  # fmt: skip
            else:
                db.execute("UPDATE sends SET status = 'failed', sent_at = ? WHERE id = ?", (stamp, send.id))
                if send.action == CREATE:  # nothing was made: the next plan proposes it again
                    db.execute("DELETE FROM accounts WHERE platform = ? AND pupil_key = ? AND status = 'pending'",
                               (platform, send.pupil_key))  # fmt: skip
                state.audit(batch.run_id, f"account.{send.action}.failed", platform, send.pupil_key,
                            detail={"batch": batch.id, "error": outcome.error})  # fmt: skip
        if finished:
            db.execute("UPDATE batches SET status = ?, issued_at = ? WHERE platform = ? AND id = ?",
                       (APPLIED, stamp, platform, batch.id))  # fmt: skip
            state.audit(batch.run_id, "batch.applied", platform,
                        detail={"batch": batch.id, "done": sum(o.ok for o in outcomes),
                                "failed": sum(not o.ok for o in outcomes)})  # fmt: skip


def print_slips(workspace: Workspace, connector: Connector, batch_id: str, slips: list[Slip]) -> list[Path]:
    """Write a batch's login slips (PDF and xlsx) next to its files; none when no password is new."""
    if not slips:
        return []
    folder = files.make_private_dir(workspace.outbox / connector.id)
    paths = [folder / connector.slips_file_name(batch_id, suffix) for suffix in (".pdf", ".xlsx")]
    write_slips(*paths, workspace.settings.school.name, slips)
    return paths


def login_slip(connector: Connector, values: dict[str, str], pupil: Pupil | None, school_domain: str) -> Slip:
    """One pupil's slip. The name and class come from the roster: slips stay in school, so they
    may show what the platform does not receive."""
    if pupil is not None:
        name, class_name = pupil.display_name, pupil.class_name or ""
    else:  # left the roster between a crash and this resume: what was recorded will do
        name = " ".join(v for v in (values.get("forename"), values.get("surname")) if v) or values["username"]
        class_name = values.get("class_name", "")
    return Slip(name, class_name, connector.name, connector.sign_in_name(values["username"], school_domain),
                values["password"], connector.effective_sign_in_url)  # fmt: skip


def record_synced(state: State, connector: Connector, plan: PlatformPlan, run_id: int) -> int:
    """A platform that reads the MIS itself: record what it now holds, in one transaction."""
    stamp = now()
    with state.transaction() as db:
        for change in plan.to_send:
            # Which fields the platform holds, not their values: this tool sent nothing, so
            # it keeps no copy (the MIS is the record).
            sent = json.dumps(dict.fromkeys(change.values, ""))
            db.execute(
                "INSERT INTO sends (run_id, platform, batch_id, pupil_key, action, fields, changed, status, sent_at)"
                " VALUES (?, ?, NULL, ?, ?, ?, ?, 'done', ?)",
                (run_id, connector.id, change.pupil_key, change.action, sent, json.dumps(list(change.changed)), stamp),
            )
            db.execute(
                "INSERT INTO accounts (platform, pupil_key, username, status, sent, created_at, updated_at)"
                " VALUES (?, ?, ?, 'active', ?, ?, ?) ON CONFLICT (platform, pupil_key)"
                " DO UPDATE SET sent = excluded.sent, updated_at = excluded.updated_at",
                (connector.id, change.pupil_key, change.username or "", sent, stamp, stamp),
            )
            state.audit(run_id, f"account.{change.action}", connector.id, change.pupil_key,
                        detail={"via": MIS_SYNC, "fields": list(change.changed)})  # fmt: skip
    return len(plan.to_send)


def _remove_stale_temporaries(folder: Path) -> None:
    for leftover in folder.glob(".*.tmp-*"):
        leftover.unlink(missing_ok=True)


CRASH_ENV = "PROVISIONER_CRASH_AT"


def crashpoint(name: str) -> None:
    """Fault injection for the crash-safety tests: die here, as a SIGKILL would, when asked."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


UPLOADED = "uploaded"


def confirm_uploaded(workspace: Workspace, platform: str, batch_id: str | None) -> tuple[list[Batch], list[Batch]]:
    """Record that the admin uploaded a batch's file: (batches confirmed now, ones confirmed before).

    Without a batch id the platform's one batch awaiting upload is meant; when several await,
    the admin must say which, since uploading one file does not upload the others.
    """
    with workspace.lock():
        with open_state(workspace) as state:
            batches = {b.id: b for b in state.batches(platform) if b.kind != "deletion"}
            chosen = choose_batch(platform, batches, batch_id, "import batches", UPLOADED)
            if chosen.status == "writing":
                raise UsageError(
                    f"batch {chosen.id} was interrupted before its file was complete",
                    hint="run 'provisioner apply FILE' again to finish it, then upload the file",
                )
            if chosen.status != "issued":
                return [], [chosen]
            state.confirm_batch(platform, chosen.id, UPLOADED)
            return [replace(chosen, status=UPLOADED)], []


def choose_batch(platform: str, batches: dict[str, Batch], batch_id: str | None, kind: str, done: str) -> Batch:
    """The batch a confirm is about: the one named, or the platform's only one still waiting.
    ``kind`` names them in the plural ("import batches", "deletion lists")."""
    if batch_id is not None:
        if batch_id not in batches:
            known = ", ".join(batches) or "none yet"
            raise UsageError(f"{platform} has no batch {batch_id} among its {kind}", hint=f"they are: {known}")
        return batches[batch_id]
    awaiting = [b for b in batches.values() if b.status == "issued"]
    if not awaiting:
        raise UsageError(f"{platform} has no {kind} waiting", hint="'provisioner status' lists batches and their state")
    if len(awaiting) > 1:
        raise UsageError(
            f"{platform} has {len(awaiting)} {kind} waiting: {', '.join(b.id for b in awaiting)}",
            hint=f"name the one you did: provisioner confirm {platform} {done} --batch ID",
        )
    return awaiting[0]


def request_password_resets(
    workspace: Workspace, roster: Roster, connector: Connector, classes: list[str], pupil_ids: list[str]
) -> int:
    """Ask the next apply to give new passwords (and new slips) to these pupils on one platform.

    Pupils are chosen by class or by MIS id or UPN, from the current roster; only pupils who
    already have an account there are reset. Returns how many were asked for.
    """
    if not connector.issues_passwords or not connector.resets_by_import:
        raise UsageError(f"{connector.name} does not take new passwords through its import",
                         hint="reset them on the platform itself (its admin pages offer a bulk password change)")
    if not classes and not pupil_ids:
        raise UsageError("say whose passwords to reset", hint="pass --class NAME or --pupil ID (each repeatable)")
    wanted_ids = set(pupil_ids)
    chosen = [p for p in roster.pupils if p.class_name in classes or wanted_ids & {p.mis_id, p.upn}]
    unknown_classes = set(classes) - {p.class_name for p in roster.pupils}
    unknown_ids = wanted_ids - {i for p in roster.pupils for i in (p.mis_id, p.upn) if i}
    if unknown_classes or unknown_ids:
        missing = [*(f"class {c}" for c in sorted(unknown_classes)), *(f"pupil {i}" for i in sorted(unknown_ids))]
        raise UsageError(f"not on the roster: {', '.join(missing)}", hint="check the spelling against the roster")
    with workspace.lock():
        with open_state(workspace) as state:
            accounts = state.accounts(connector.id)
            keys = [p.key for p in chosen if p.key in accounts]
            if not keys:
                raise UsageError(f"none of them has a {connector.name} account yet", hint="run apply to make them")
            state.request_password_resets(connector.id, keys)
            return len(keys)
