"""The termly leaver cleanup: plan it (with the guard's verdict), carry it out on each platform
through its strategy, and confirm deletion lists the admin carried out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from provisioner import collector
from provisioner.connector import Connector
from provisioner.delivery import CleanupResult, Job, Progress, crashpoint
from provisioner.errors import Aborted, GuardRefused, PartialFailure
from provisioner.jobs.provisioning import choose_batch
from provisioner.models import Roster
from provisioner.planning.cleanup import DELETE, CleanupPlan, plan_cleanup, refusal
from provisioner.planning.identity import Matched, match
from provisioner.state import Batch, BatchKind, BatchStatus, RunStatus, State
from provisioner.workspace import Workspace


def plan(workspace: Workspace, state: State, roster: Roster, connectors: list[Connector], today: date,
         allow_large: bool = False, matched: Matched | None = None) -> CleanupPlan:  # fmt: skip
    """What the cleanup would do today, with the guard's verdict in ``refusal``; ``matched``:
    ``match(state, roster)``, when the caller has it."""
    leavers = workspace.settings.leavers
    the_plan = plan_cleanup(state, roster, connectors, today, excluded_statuses=set(leavers.exclude_enrolment_statuses),
                            matched=matched)  # fmt: skip
    the_plan.refusal = refusal(the_plan, leavers.max_share, allow_large)
    return the_plan


def apply(workspace: Workspace, state: State, roster: Roster, connectors: list[Connector], today: date,
          confirm: Callable[[CleanupPlan], bool], allow_large: bool = False,
          progress: Progress | None = None) -> CleanupResult:  # fmt: skip
    """Plan, check the guard, ask, then act on each platform and record it. A trust's deletion
    lists are drawn by a worker on the other core, started first where deletions are due, so that
    it is ready when they are."""
    from provisioner.checklist import ChecklistWorker  # the paper's writers load where paper is written

    state.mark_interrupted_runs()
    state.end_platform_holds(today)
    lists_due = state.deletions_due(today) or bool(state.erasure_held())
    checklists = ChecklistWorker.for_roster(len(roster.pupils), lists_due)
    try:
        # The identities, the matched roster and the plan live until the cleanup ends: the
        # collector would rescan them at every step (see collector.py); it runs once they are done.
        with collector.paused():
            matched = match(state, roster)  # once: the plan and the run read the roster under the keys held
            the_plan = plan(workspace, state, roster, connectors, today, allow_large, matched)
            if the_plan.refusal:
                raise the_plan.refusal
            result = CleanupResult(the_plan)
            if the_plan.has_work and not confirm(the_plan):
                raise Aborted("nothing was changed", hint="run 'provisioner leavers plan FILE' to review it again")
            # The roster under the keys the accounts are held by (class groups are looked up by them).
            job = Job(workspace, state, today, state.begin_run("leavers", roster.sha256), matched.roster,
                      progress=progress, checklists=checklists)  # fmt: skip
            crashpoint("leavers")
            carry_out(job, the_plan, connectors, result, again="provisioner leavers apply FILE")
    finally:
        if checklists is not None:
            checklists.close()
    return result


def carry_out(job: Job, the_plan: CleanupPlan, connectors: list[Connector], result: CleanupResult, again: str) -> None:
    """Act on each platform as the plan says, through its strategy, and finish the run. The job's
    ``progress`` hears a platform's steps as none done when it starts and all done when it ends
    (a strategy carries them out in one go: Graph's batches, one deletion list)."""
    state, failed = job.state, 0
    try:
        remember_leavers(state, the_plan)
        for connector in connectors:
            cleanup = the_plan.platforms[connector.id]
            if cleanup.steps:
                if job.progress:
                    job.progress(connector.id, 0, len(cleanup.steps))
                # A list's rows, a full upload's pupils and their events live until they are
                # recorded (see collector.py); an API's requests leave garbage of their own for
                # the collector to free as it goes.
                offline = connector.delivery.works_offline
                with collector.paused() if offline else collector.running():
                    failed += connector.delivery.clean_up(job, cleanup, result)
                if job.progress:
                    job.progress(connector.id, len(cleanup.steps), len(cleanup.steps))
    except BaseException as exc:
        state.finish_run(job.run_id, RunStatus.FAILED, {"error": type(exc).__name__})
        raise
    state.finish_run(job.run_id, RunStatus.PARTIAL if failed else RunStatus.OK, {"platforms": result.done})
    if failed:
        raise PartialFailure(
            f"{failed} account change(s) were not confirmed when the accounts were read back",
            hint=f"the others were done and recorded; run '{again}' again",
        )


def remember_leavers(state: State, the_plan: CleanupPlan) -> None:
    """Record when each leaver left (or was first missed) and when their account must be gone,
    so the grace period runs from then and status can show deletions overdue. Only the days that
    change are written (``Step.changes_days``): a leaver is in every cleanup until their account
    is deleted, nearly always with the days recorded before."""
    with state.transaction():
        for cleanup in the_plan.platforms.values():
            state.record_leaving(cleanup.platform, [
                (step.pupil_key, step.left_on.isoformat(), step.due.isoformat() if step.action == DELETE else None)
                for step in cleanup.steps + cleanup.waiting if step.changes_days()
            ])  # fmt: skip


def confirm_deleted(state: State, connector: Connector, batch_id: str | None, today: date,
                    deleted_since_export: bool = False) -> tuple[list[Batch], list[Batch]]:  # fmt: skip
    """Record that the admin deleted a deletion list's accounts: (confirmed now, confirmed before).
    Accounts the list sent to the platform's own hold (TTRS's Leavers group) are held until the
    day it deletes them (``held_after_deletion``). Refused while the platform's own export, read
    since the list was issued, still held some of them (``provisioner reconcile``), unless the
    admin says they deleted them since."""
    platform = connector.id
    state.end_platform_holds(today)
    batches = {b.id: b for b in state.batches(platform) if b.kind is BatchKind.DELETION}
    chosen = choose_batch(platform, batches, batch_id, "deletion lists", "deleted")
    if chosen.status is not BatchStatus.ISSUED:
        return [], [chosen]
    present = state.still_present_on_list(chosen)
    if present and not deleted_since_export:
        raise GuardRefused(
            f"{present} account(s) on deletion list {chosen.id} were still in {connector.name}'s own pupil export "
            "when it was last reconciled, so they are not recorded as deleted",
            hint=f"delete them on the platform, download a fresh pupil export and run 'provisioner reconcile "
            f"{platform} FILE', which records the deletions it proves; if you have deleted them since that export, "
            f"run 'provisioner confirm {platform} deleted --deleted-since-export'",
        )
    run_id = state.begin_run("confirm", None)
    state.confirm_deletion_list(run_id, chosen, connector.held_after_deletion(today))
    state.finish_run(run_id, RunStatus.OK, {"confirmed": chosen.id})
    return [chosen], []
