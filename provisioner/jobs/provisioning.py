"""Provisioning: apply a plan (finishing an interrupted apply first), confirm an upload, and
ask for password resets.

``apply`` recomputes the plan, asks, and carries it out crash-safely: each platform's strategy
records its intent in the state before it writes a file or calls the platform, and finishes an
interrupted batch from that record on the next run, so a SIGKILL at any point followed by
another apply issues nobody twice. Its answer names every login slip whose passwords are set:
its own, and those an earlier apply wrote but was killed or stopped before naming
(``name_earlier_slips``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from provisioner import collector
from provisioner.connector import Connector
from provisioner.delivery import (
    ApplyResult, IssuedBatch, Job, Progress, cards_owed, early_cards, print_cards, slips_not_named,
)  # fmt: skip
from provisioner.errors import Aborted, UsageError
from provisioner.models import Roster
from provisioner.planning import identity
from provisioner.planning.provisioning import CREATE, Plan, make_plan, refusal
from provisioner.register import require_approved
from provisioner.state import Batch, BatchKind, BatchStatus, RunStatus, State, normalise_mis_id
from provisioner.workspace import Workspace


def plan(workspace: Workspace, state: State, roster: Roster, connectors: list[Connector], today: date,
         sessions: dict | None = None, allow_large: bool = False, different_pupils: bool = False,
         matched: identity.Matched | None = None) -> Plan:  # fmt: skip
    """What apply would do, with the guard's verdict in ``refusal`` (show the plan, then refuse)."""
    leavers = workspace.settings.leavers
    the_plan = make_plan(state, roster, connectors, today, sessions=sessions, pseudonymise=workspace.pseudonymous_ids,
                         excluded_statuses=set(leavers.exclude_enrolment_statuses), matched=matched)  # fmt: skip
    the_plan.refusal = refusal(the_plan, leavers.max_share, allow_large, roster.source, different_pupils)
    return the_plan


def apply(workspace: Workspace, state: State, roster: Roster, connectors: list[Connector], today: date,
          confirm: Callable[[Plan], bool], progress: Progress | None = None,
          allow_large: bool = False, different_pupils: bool = False) -> ApplyResult:  # fmt: skip
    state.mark_interrupted_runs()  # holding the lock, no run can still be going
    state.end_platform_holds(today)
    require_approved(state, connectors)
    refuse_unfinishable(state, connectors)
    # Platforms with an API are read first: a wrong credential stops here, and a sign-in name
    # someone else already has is never planned.
    domain = workspace.settings.school.domain
    sessions = {c.id: session for c in connectors if (session := c.delivery.connect(domain)) is not None}
    # The plan counts an interrupted apply's rows as sent, and shows them as resuming, so the
    # admin confirms those too before anything is written.
    # The roster under the keys the accounts are held by: a slip, a class group or a full-set
    # upload looks a pupil up by that key, never by the id this export happens to give.
    matched = identity.match(state, roster)
    result = ApplyResult(plan(workspace, state, roster, connectors, today, sessions, allow_large, different_pupils,
                              matched))  # fmt: skip
    if result.plan.refusal:
        raise result.plan.refusal
    job = Job(workspace, state, today, roster=matched.roster, progress=progress, sessions=sessions)
    if not result.plan.has_work:
        identity.remember(state, matched)
        attach_cards(result, print_cards(job, cards_owed(job)))  # an apply killed before its cards
        name_earlier_slips(job, result)
        return result
    if not confirm(result.plan):
        raise Aborted("nothing was changed", hint="run 'provisioner plan FILE' to review the changes again")
    result.batches = finish_interrupted(job, connectors)
    owed = cards_owed(job)  # the batches just finished, and any an earlier apply left without cards
    if result.batches:  # the same plan, now with nothing left resuming (agreed above)
        result.plan = plan(workspace, state, roster, connectors, today, sessions, True, True, matched)
    if not any(p.to_send or p.fixes for p in result.plan.platforms.values()):
        identity.remember(state, matched)
        attach_cards(result, print_cards(job, owed))
        name_earlier_slips(job, result)
        return result
    job = replace(job, run_id=state.begin_run("apply", roster.sha256), batch_id=state.next_batch_id(today.isoformat()))
    # Who each pupil is now (this roster's ids and names), before anything is sent: the next
    # export is matched by them, even after an apply interrupted here.
    making = {c.pupil_key for p in result.plan.platforms.values() for c in p.of(CREATE)}
    identity.remember(state, matched, job.run_id, making)
    # The combined cards are drawn on the other core while the files are written, from first
    # passwords made now (paperwork.early_cards); written once every file is whole.
    with contextlib.ExitStack() as drawing:
        early = None
        try:
            early = drawing.enter_context(early_cards(job, connectors, result.plan))
            for connector in connectors:
                delivered = result.plan.platforms[connector.id]
                # A file's rows live until the file is written, with the plan's values: the collector
                # would rescan them at every step (see collector.py). An API's push runs for minutes
                # and leaves garbage of its own (HTTP, TLS) for the collector to free as it goes.
                offline = connector.delivery.works_offline
                with collector.paused() if offline else contextlib.nullcontext():
                    connector.delivery.deliver(job, delivered, result)
                delivered.forget_values()  # in the state now; a trust's values are held a platform at a time
        except BaseException as exc:
            state.finish_run(job.run_id, RunStatus.FAILED, {"error": type(exc).__name__})
            if early is not None:
                early.drop()
            with contextlib.suppress(Exception):  # the files written so far get their cards (else the next apply)
                print_cards(job, {job.batch_id})
            raise
        # None: a file holds other passwords than the cards drawn, which are drawn from the files.
        drawn = early.write(job) if early is not None else None
    cards = print_cards(job, owed if drawn is not None else owed | {job.batch_id})
    attach_cards(result, {**cards, **(drawn or {})})
    state.finish_run(job.run_id, RunStatus.OK, {"platforms": {k: v.counts() for k, v in result.plan.platforms.items()}})
    name_earlier_slips(job, result)
    return result


def attach_cards(result: ApplyResult, cards: dict[tuple[str, str], list]) -> None:
    """Each issued batch whose file holds new passwords shows the combined cards they are on."""
    for issued in result.batches:
        issued.slips = cards.get((issued.batch_id, issued.platform), issued.slips)


def name_earlier_slips(job: Job, result: ApplyResult) -> None:
    """Put into the answer the login slips an earlier apply wrote and never named (it was killed
    once its accounts were recorded, or stopped with an error), and say which owed slip files the
    answer names. They stay owed until the front end has shown the answer and says so
    (``Provisioner.slips_shown``): a run killed before that leaves them owed, and the next apply
    names them again, never none."""
    owed = slips_not_named(job.workspace, job.state)
    if not owed:
        return
    named_now = {path for issued in result.batches for path in issued.slips}
    earlier = [replace(slips, files=[p for p in slips.files if p not in named_now]) for slips in owed]
    result.earlier_slips = [slips for slips in earlier if slips.files]
    root = job.workspace.root
    result.owed_slips = [path.relative_to(root).as_posix() for slips in owed for path in slips.files]
    result.run_id = job.run_id


def relink(state: State, roster: Roster, confirm: Callable[[list], bool]) -> list:
    """Record held pupils under this roster's ids where the admin agrees to the pairings (by UPN,
    or by legal name and date of birth), so the next plan keeps their accounts."""
    pairs = identity.pairings(state, roster)
    if not pairs:
        return []
    if not confirm(pairs):
        raise Aborted("nothing was changed", hint="run 'provisioner relink FILE' to see the pairings again")
    run_id = state.begin_run("relink", roster.sha256)
    identity.relink(state, roster, pairs, run_id)
    state.finish_run(run_id, RunStatus.OK, {"relinked": len(pairs)})
    return pairs


SENT = {BatchKind.API: "through the platform's API", BatchKind.IMPORT: "as files to upload"}


def refuse_unfinishable(state: State, connectors: list[Connector]) -> None:
    """An interrupted batch is finished the way it was begun: if the school has since changed how
    a platform is reached (Graph to School Data Sync files, say), say so before anything is done."""
    for connector in connectors:
        for batch in state.batches(connector.id, status=BatchStatus.WRITING):
            if not connector.delivery.can_resume(batch):
                raise UsageError(
                    f"{connector.name}: an apply was interrupted while sending {SENT[batch.kind]}, and the settings "
                    "now reach the platform another way, so it cannot be finished; nothing was changed",
                    hint=f"set [platforms.{connector.id}] back as it was, run apply to finish that batch, then "
                    "change the setting again",
                )


def finish_interrupted(job: Job, connectors: list[Connector]) -> list[IssuedBatch]:
    """Finish every batch an earlier apply recorded for these platforms but did not complete."""
    done = []
    for connector in connectors:
        for batch in job.state.batches(connector.id, status=BatchStatus.WRITING):
            issued = connector.delivery.resume(job, batch)
            issued.resumed = True
            done.append(issued)
    return done


def confirm_uploaded(workspace: Workspace, state: State, connector: Connector, batch_id: str | None,
                     today: date) -> tuple[list[Batch], list[Batch], list[IssuedBatch]]:  # fmt: skip
    """Record that the admin uploaded a batch's file: (batches confirmed now, ones confirmed
    before, deletion lists that follow from it: School Data Sync's upload without its leavers
    only marks them inactive, so their deletion is asked for next).

    Without a batch id the platform's one batch awaiting upload is meant; when several await,
    the admin must say which, since uploading one file does not upload the others.
    """
    platform = connector.id
    state.end_platform_holds(today)
    batches = {b.id: b for b in state.batches(platform) if b.kind is not BatchKind.DELETION}
    chosen = choose_batch(platform, batches, batch_id, "import batches", "uploaded")
    if chosen.status is BatchStatus.WRITING:
        raise UsageError(
            f"batch {chosen.id} was interrupted before its file was complete",
            hint="run 'provisioner apply FILE' again to finish it, then upload the file",
        )
    if chosen.status is not BatchStatus.ISSUED:
        return [], [chosen], []
    run_id = state.begin_run("confirm", None) if chosen.kind is BatchKind.LEAVER_UPLOAD else None
    job = Job(workspace, state, today, run_id)
    issued = connector.delivery.confirm_upload(job, chosen)
    if run_id is not None:
        state.finish_run(run_id, RunStatus.OK, {"confirmed": chosen.id, "deletion_lists": len(issued)})
    return [replace(chosen, status=BatchStatus.UPLOADED)], [], issued


def choose_batch(platform: str, batches: dict[str, Batch], batch_id: str | None, kind: str, done: str) -> Batch:
    """The batch a confirm is about: the one named, or the platform's only one still waiting.
    ``kind`` names them in the plural ("import batches", "deletion lists")."""
    if batch_id is not None:
        if batch_id not in batches:
            known = ", ".join(batches) or "none yet"
            raise UsageError(f"{platform} has no batch {batch_id} among its {kind}", hint=f"they are: {known}")
        return batches[batch_id]
    awaiting = [b for b in batches.values() if b.status is BatchStatus.ISSUED]
    if not awaiting:
        raise UsageError(f"{platform} has no {kind} waiting", hint="'provisioner status' lists batches and their state")
    if len(awaiting) > 1:
        raise UsageError(
            f"{platform} has {len(awaiting)} {kind} waiting: {', '.join(b.id for b in awaiting)}",
            hint=f"name the one you did: provisioner confirm {platform} {done} --batch ID",
        )
    return awaiting[0]


def request_password_resets(state: State, roster: Roster, connector: Connector, classes: list[str],
                            pupil_ids: list[str]) -> int:  # fmt: skip
    """Ask the next apply to give new passwords (and new slips) to these pupils on one platform.

    Pupils are chosen by class or by MIS id or UPN, from the current roster; only pupils who
    already have an account there, and whom it still serves, are reset. Returns how many were
    asked for.
    """
    sent_by = connector.delivery.sent_by
    if sent_by:
        raise UsageError(f"{connector.name}'s accounts are made from the MIS by {sent_by}, not by this tool, so it "
                         "holds no passwords to reset; nothing was changed",
                         hint=f"reset them on {connector.name} itself ({connector.reset_on_platform})")
    if not connector.issues_passwords or not connector.resets_by_import:
        raise UsageError(f"{connector.name} does not take new passwords through its import, so new slips from "
                         "this tool would show passwords that were never set; nothing was changed",
                         hint=f"reset them on the platform itself: {connector.reset_on_platform}")
    if not classes and not pupil_ids:
        raise UsageError("say whose passwords to reset", hint="pass --class NAME or --pupil ID (each repeatable)")
    roster = identity.match(state, roster).roster  # the keys the accounts are held under

    def ids(pupil) -> set[str]:  # a MIS id in any zero-padding, or the UPN
        return {i for i in (pupil.mis_id and normalise_mis_id(pupil.mis_id), pupil.upn) if i}

    wanted = {normalise_mis_id(i): i for i in pupil_ids} | {"".join(i.split()).upper(): i for i in pupil_ids}
    chosen = [p for p in roster.pupils if p.class_name in classes or ids(p) & set(wanted)]
    unknown_classes = set(classes) - {p.class_name for p in roster.pupils}
    found = {wanted[i] for p in roster.pupils for i in ids(p) if i in wanted}
    unknown_ids = set(pupil_ids) - found
    if unknown_classes or unknown_ids:
        missing = [*(f"class {c}" for c in sorted(unknown_classes)), *(f"pupil {i}" for i in sorted(unknown_ids))]
        raise UsageError(f"not on the roster: {', '.join(missing)}", hint="check the spelling against the roster")
    accounts = state.accounts(connector.id)
    keys = [p.key for p in chosen if p.key in accounts and connector.serves(p)]  # outside its scope: no new slips
    if not keys:
        raise UsageError(f"none of them has a {connector.name} account yet", hint="run apply to make them")
    state.request_password_resets(connector.id, keys)
    return len(keys)
