"""API delivery: the tool calls the platform itself (Microsoft 365 through Graph).

The platform is read first (``connect``), so a wrong credential stops an apply before anything
is planned and a sign-in name someone else holds is never planned. The intent is recorded
before anything is sent; if a run is killed part way, the next apply finds the accounts by
their pseudonymous id, adopts them and sets new passwords, so the slips it prints are right.
The slips are recorded with the outcomes they show, as not yet named to the admin: a run killed
after that, before it answered, leaves them for the next apply to name (``paperwork.slips_not_named``).
After the accounts, what hangs off them (licences, groups) is brought in step. Every leaver
step is confirmed by reading the platform back.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from provisioner import passwords
from provisioner.connector import ApiConnector, ApiSession, Work
from provisioner.delivery.base import (
    ApplyResult, CleanupResult, Delivery, IssuedBatch, Job, crashpoint, record_intent,
)  # fmt: skip
from provisioner.delivery.paperwork import issue_deletion_list, login_slip, print_slips
from provisioner.errors import PartialFailure, ProvisionerError
from provisioner.planning.cleanup import DELETE, DISABLE, ERASED, RESTORE, PlatformCleanup
from provisioner.planning.provisioning import CREATE, PlatformPlan, drift
from provisioner.state import AccountStatus, Batch, BatchKind
from provisioner.usernames import UsernameAllocator


class ApiDelivery(Delivery):
    kind = "api"
    works_offline = False
    erasure_effect = "deleted now, then checked"
    connector: ApiConnector

    def accounts_made_by(self) -> str:
        return "this tool through the platform's API"

    @property
    def can_disable(self) -> bool:
        return {"disable", "enable"} <= self.connector.lifecycle  # a returner must be let back in

    def connect(self, school_domain: str) -> ApiSession:
        return self.connector.connect(school_domain)

    def can_resume(self, batch: Batch) -> bool:
        return batch.kind is BatchKind.API

    def deliver(self, job: Job, plan: PlatformPlan, result: ApplyResult) -> None:
        """The accounts first, then their licences and groups, read afresh; the pupils whose
        accounts were made are licensed even if others failed."""
        if not (plan.to_send or plan.fixes):
            return
        session = job.sessions[self.connector.id]
        self.connector.preflight(session, len(plan.of(CREATE)), plan.fixes)
        try:
            if plan.to_send:
                batch = record_intent(job, plan, BatchKind.API, "")
                result.batches.append(self.resume(job, batch))
        except PartialFailure:
            self.reconcile(job, session)
            raise
        self.reconcile(job, session)

    def resume(self, job: Job, batch: Batch) -> IssuedBatch:
        """Carry out a recorded API batch, then record what the platform now holds. Passwords are
        made here and set on the accounts; the slips are written before anything is marked done."""
        connector, state = self.connector, job.state
        platform = connector.id
        session = job.sessions[platform]
        sends = state.pending_sends(platform, batch.id)
        accounts = state.accounts(platform)
        allocator = UsernameAllocator(state.usernames(platform) | session.taken_usernames, connector.username_max_length)
        lock = threading.Lock()

        def next_username(taken: str) -> str:  # a sign-in name someone else holds: the next counter
            with lock:
                allocator.taken.add(taken)
                return allocator.allocate(taken.rstrip("0123456789") or taken)

        work = []
        for send in sends:
            view = connector.view(send.fields)
            if send.action == CREATE or "password" in send.changed:
                view = view.with_values(password=passwords.generate(connector.effective_password_rule))
            account = accounts.get(send.pupil_key)
            work.append(Work(send.id, send.action, view, list(send.changed), account.remote_id if account else None))
        by_id = {send.id: send for send in sends}
        values_by_id = {w.send_id: w.values for w in work}
        outcomes = []
        done = 0

        def report(count: int) -> None:
            nonlocal done
            done += count
            if job.progress:
                job.progress(platform, done, len(sends))

        slip_paths: list[Path] = []
        try:
            for outcome in connector.push(session, work, next_username, report):
                outcomes.append(outcome)
                if len(outcomes) == 1:
                    crashpoint("pushing")  # accounts exist on the platform, none recorded yet
        except ProvisionerError as exc:  # the platform stopped part way: the slips made so far are named
            slip_paths = self.print_made(job, batch, outcomes, values_by_id, by_id)
            exc.hint = slips_hint(job, slip_paths, exc.hint)
            raise
        finally:  # record whatever was done, even when the run fails part way, with the slips showing it
            if not slip_paths:
                slip_paths = self.print_made(job, batch, outcomes, values_by_id, by_id)
            state.record_outcomes(batch, by_id, outcomes, finished=len(outcomes) == len(sends),
                                  slips=[path.relative_to(job.workspace.root).as_posix() for path in slip_paths])
        crashpoint("pushed")  # the accounts recorded, their licences and groups not yet in step
        failed = [o for o in outcomes if not o.ok]
        issued = IssuedBatch(platform, batch.id, None, len(outcomes) - len(failed), slips=slip_paths)
        if failed:
            codes = ", ".join(sorted({o.error or "unknown" for o in failed}))
            raise PartialFailure(
                f"{connector.name}: {len(failed)} of {len(sends)} account change(s) failed ({codes})",
                hint=slips_hint(job, slip_paths, "the others were done and recorded; 'provisioner plan FILE' shows "
                                "what is left, and apply tries the failed ones again"),
            )
        return issued

    def print_made(self, job: Job, batch: Batch, outcomes: list, values_by_id: dict, by_id: dict) -> list[Path]:
        """The slips of the accounts given a password so far, under names no later run of the
        batch reuses: each password set on the platform is on one slip, never overwritten."""
        domain = job.workspace.settings.school.domain
        slips = [
            login_slip(self.connector, {**values_by_id[o.send_id], "username": o.username},
                       job.pupil(by_id[o.send_id].pupil_key), domain)
            for o in outcomes if o.ok and values_by_id[o.send_id].get("password")
        ]  # fmt: skip
        return print_slips(job, self.connector, batch.id, slips, keep_earlier=True)

    def reconcile(self, job: Job, session: ApiSession) -> None:
        """Bring the platform's licences and groups in step with the state, and log what was done."""
        excluded = set(job.workspace.settings.leavers.exclude_enrolment_statuses)
        fixes = drift(job.state, self.connector, session, job.roster, job.today, excluded)
        if fixes:
            done = self.connector.reconcile(session, fixes)
            job.state.record_event(job.run_id, "platform.in_step", self.connector.id, detail=dict(done))

    def clean_up(self, job: Job, cleanup: PlatformCleanup, result: CleanupResult) -> int:
        """Each step through the platform's hook, recorded only where reading back confirmed it.
        An erasure deletes for good, where a leaver's account stays restorable for a while.
        Without a roster (an erasure) class groups are left to the next apply to put in step."""
        connector, state = self.connector, job.state
        session = connector.connect(job.workspace.settings.school.domain)
        accounts = state.accounts(connector.id)
        failed = 0
        done: Counter = Counter()
        erasing = [s for s in cleanup.of(DELETE) if s.reason == ERASED]
        leaving = [s for s in cleanup.of(DELETE) if s.reason != ERASED]
        # A deletion the platform offers no hook for is the admin's, on a deletion list.
        if "delete" not in connector.lifecycle:
            leaving, by_hand = [], leaving
        else:
            by_hand = []
        if "erase" not in connector.lifecycle:
            erasing, by_hand = [], by_hand + erasing
        if by_hand:
            result.deletion_lists.append(issue_deletion_list(job, connector, by_hand))
            done["deletion_requested"] = len(by_hand)
        for action, call, record, chosen in (
            (DISABLE, connector.disable, state.mark_disabled, cleanup.of(DISABLE)),
            (DELETE, connector.delete, state.mark_deleted, leaving),
            (DELETE, connector.erase, state.mark_deleted, erasing),
            (RESTORE, connector.enable, state.mark_restored, cleanup.of(RESTORE)),
        ):
            steps = [s for s in chosen if accounts[s.pupil_key].remote_id]
            if action == RESTORE:  # an account never disabled needs no call, only its leaving date forgotten
                unchanged = [s for s in steps if s.was is AccountStatus.ACTIVE]
                if unchanged:
                    state.mark_restored(job.run_id, connector.id, {s.pupil_key: {"reason": s.reason} for s in unchanged})
                steps = [s for s in steps if s.was is not AccountStatus.ACTIVE]
            if not steps:
                continue
            ids = {accounts[s.pupil_key].remote_id: s for s in steps}
            confirmed = call(session, list(ids))
            crashpoint("cleaning-up")  # changed on the platform and read back, not yet recorded
            with state.transaction():
                for remote_id, ok in confirmed.items():
                    step = ids[remote_id]
                    if ok:
                        record(job.run_id, connector.id, {step.pupil_key: {"reason": step.reason, "verified": True}})
                        done[action] += 1
                    else:
                        state.record_unconfirmed(job.run_id, connector.id, action, [step.pupil_key])
                        failed += 1
        # Leavers leave their class groups; returners rejoin theirs and keep their licence.
        if job.roster is not None:
            self.reconcile(job, session)
        result.done[connector.id] = dict(done)
        return failed


def slips_hint(job: Job, slip_paths: list[Path], hint: str | None) -> str | None:
    """What to do next, with where the slips of the accounts made before a failure are: their
    passwords are set, and the next apply's slips cover only the rest."""
    if not slip_paths:
        return hint
    shown = " and ".join(path.relative_to(job.workspace.root).as_posix() for path in slip_paths)
    return f"{hint}; the login slips of the accounts made before it stopped are {shown}: hand them out" \
        if hint else f"the login slips of the accounts made before it stopped are {shown}: hand them out"
