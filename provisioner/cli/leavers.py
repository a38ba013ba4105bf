"""The termly leaver cleanup's commands, the proof of deletion from a platform's own export
(reconcile), and the tool's own forgetting (purge)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from provisioner.cli import render
from provisioner.errors import ExitCode
from provisioner.cli.common import (
    AllowLargeOpt, AsOfOpt, DetailsOpt, JsonOpt, PartialOpt, PlatformOpt, RosterArg, SkipOpt, WorkspaceOpt, YesOpt,
    asker, command, group, out, print_json, find_provisioner, run, today,
)  # fmt: skip

app = group()
leavers_app = group("The termly leaver cleanup: disable, delete, restore.")


@command(leavers_app, "plan", help="Show who would be disabled, deleted or restored on each platform, and what falls "
         "due later.")  # fmt: skip
def leavers_plan(
    roster: RosterArg,
    workspace: WorkspaceOpt = None,
    platform: PlatformOpt = None,
    skip_invalid_rows: SkipOpt = False,
    partial_roster: PartialOpt = False,
    details: DetailsOpt = False,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    def action() -> int:
        the_plan = find_provisioner(workspace).plan_leavers(roster, platforms=platform, today=today(as_of),
                                                            skip_invalid_rows=skip_invalid_rows,
                                                            partial_roster=partial_roster)  # fmt: skip
        if as_json:
            print_json(the_plan.as_dict())  # "refused" says why the cleanup would be refused
            return the_plan.refusal.exit_code if the_plan.refusal else ExitCode.OK
        if details:
            render.cleanup_details(the_plan)
        else:
            render.cleanup(the_plan)
        if the_plan.refusal:
            raise the_plan.refusal

    run(action, as_json)


@command(leavers_app, "apply", help="Disable, delete and restore accounts as the plan says, checking each; write "
         "deletion lists.")  # fmt: skip
def leavers_apply(
    roster: RosterArg,
    workspace: WorkspaceOpt = None,
    platform: PlatformOpt = None,
    yes: YesOpt = False,
    allow_large_cleanup: AllowLargeOpt = False,
    skip_invalid_rows: SkipOpt = False,
    partial_roster: PartialOpt = False,
    details: DetailsOpt = False,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    def action() -> None:
        the_provisioner = find_provisioner(workspace)
        show = render.cleanup_details if details else render.cleanup_question(roster)
        confirm = asker("leavers apply", "Carry out this cleanup?", show, yes, as_json)
        result = the_provisioner.apply_leavers(roster, confirm=confirm, platforms=platform, today=today(as_of),
                                               allow_large_cleanup=allow_large_cleanup,
                                               skip_invalid_rows=skip_invalid_rows,
                                               partial_roster=partial_roster)  # fmt: skip
        if as_json:
            print_json(result.as_dict())
            return
        if not result.plan.has_work:
            out.print("Nothing is due: no account to disable, delete or restore today.")
        for platform_id, done in result.done.items():
            words = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in done.items()) or "nothing"
            out.print(f"{platform_id}: {words}")
        render.deletion_lists(result.deletion_lists, the_provisioner.workspace.root, "{rows} account(s) as")
        for note in result.notes:
            out.print(note)

    run(action, as_json)


@command(app, help="Compare a platform's own pupil export with the accounts the tool made there: accounts it should "
         "have deleted that are still there, rows the tool did not make, names or classes that differ, accounts "
         "missing. Records the deletions the export proves.")  # fmt: skip
def reconcile(
    platform: Annotated[str, typer.Argument(metavar="PLATFORM", help="The platform id, e.g. education-city.")],
    export: Annotated[Path | None, typer.Argument(
        metavar="EXPORT", help="The platform's pupil export (xlsx or csv), downloaded today; none for "
        "microsoft-365, whose accounts are read from the tenant.")] = None,  # fmt: skip
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    def action() -> int | None:
        result = find_provisioner(workspace).reconcile(platform, export, today(as_of))
        if as_json:
            print_json(result.as_dict())  # "proof_withheld" says why no deletion was recorded
            return ExitCode.GUARD_REFUSED if result.withheld else ExitCode.OK
        render.reconciliation(result)
        from provisioner.jobs.reconcile import refuse_if_withheld  # the core, loaded once a command runs

        refuse_if_withheld(result)
        return None

    run(action, as_json)


@command(app, help="Forget leavers whose accounts were all deleted longer ago than the retention period, and remove "
         "old outbox files of finished batches. The audit log keeps the events, unnamed.")  # fmt: skip
def purge(workspace: WorkspaceOpt = None, as_of: AsOfOpt = None, as_json: JsonOpt = False) -> None:
    def action() -> None:
        report = find_provisioner(workspace).purge(today(as_of))
        if as_json:
            print_json(report)
            return
        out.print(f"Purged {report['pupils_purged']} leaver(s) (retention {report['retention_days']} days) and "
                  f"{len(report['files_removed'])} outbox file(s).")  # fmt: skip
        render.kept_files(report["files_kept"])

    run(action, as_json)
