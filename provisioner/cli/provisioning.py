"""Commands that make and keep accounts: plan, apply, password resets, and confirming uploads
and deletions."""

from __future__ import annotations

import sys

from enum import Enum
from typing import Annotated, Any

import typer

from provisioner.cli import render
from provisioner.errors import ExitCode
from provisioner.cli.common import (
    AllowLargeOpt, AsOfOpt, DetailsOpt, DifferentOpt, JsonOpt, PartialOpt, PlatformOpt, RosterArg, SkipOpt, WorkspaceOpt, YesOpt,
    asker, command, err, group, out, print_json, find_provisioner, run, today,
)  # fmt: skip

app = group()


@command(app, help="Show what apply would do, per platform: who joins, changes and leaves, and the fields each action "
         "sends. Changes nothing.")  # fmt: skip
def plan(
    roster: RosterArg,
    workspace: WorkspaceOpt = None,
    platform: PlatformOpt = None,
    details: DetailsOpt = False,
    skip_invalid_rows: SkipOpt = False,
    partial_roster: PartialOpt = False,
    allow_large_cleanup: AllowLargeOpt = False,
    different_pupils: DifferentOpt = False,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    def action() -> int:
        the_provisioner = find_provisioner(workspace)
        result = the_provisioner.plan(roster, platforms=platform, today=today(as_of), skip_invalid_rows=skip_invalid_rows,
                                      partial_roster=partial_roster, allow_large_cleanup=allow_large_cleanup,
                                      different_pupils=different_pupils)  # fmt: skip
        if as_json:
            print_json(result.as_dict())  # "refused" says why apply would refuse
            return result.refusal.exit_code if result.refusal else ExitCode.OK
        if details:
            render.plan_details(result)
        else:
            render.plan(result)
            if any(p.affected for p in result.platforms.values()):
                out.print(f"Who: provisioner plan \"{roster}\" --details")
        if result.refusal:
            raise result.refusal  # shown above; apply would refuse it
        if result.has_work:
            out.print(f"Next: provisioner apply {roster}"
                      + (f" --workspace {the_provisioner.workspace.root}" if workspace else ""))  # fmt: skip
        else:
            out.print("Nothing to do: every platform is up to date.")

    run(action, as_json)


@command(app, help="Recompute the plan, show it, ask, then carry it out and record what was sent.")
def apply(
    roster: RosterArg,
    workspace: WorkspaceOpt = None,
    platform: PlatformOpt = None,
    yes: YesOpt = False,
    details: DetailsOpt = False,
    skip_invalid_rows: SkipOpt = False,
    partial_roster: PartialOpt = False,
    allow_large_cleanup: AllowLargeOpt = False,
    different_pupils: DifferentOpt = False,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    def action() -> None:
        from rich.progress import Progress  # loaded when apply runs, not for every command

        the_provisioner = find_provisioner(workspace)
        show = render.plan_details if details else render.plan_question(roster)
        confirm = asker("apply", "Apply these changes?", show, yes, as_json)
        # The bar starts with the first progress report, after the question has been answered.
        bar = Progress(console=err, transient=True, disable=as_json)
        tasks: dict[str, Any] = {}

        def progress(platform_id: str, done: int, total: int) -> None:
            if not tasks:
                bar.start()
            if platform_id not in tasks:
                tasks[platform_id] = bar.add_task(f"Writing {platform_id}", total=total)
            bar.update(tasks[platform_id], completed=done)

        try:
            result = the_provisioner.apply(roster, confirm=confirm, platforms=platform, today=today(as_of),
                                           skip_invalid_rows=skip_invalid_rows, progress=progress,
                                           partial_roster=partial_roster, allow_large_cleanup=allow_large_cleanup,
                                           different_pupils=different_pupils)  # fmt: skip
        finally:
            bar.stop()
        if as_json:
            print_json(result.as_dict())
        else:
            render.issued(result, the_provisioner.workspace.root)
            if not result.plan.has_work and not result.batches:
                out.print("Nothing to do: every platform is up to date.")
            elif result.batches:
                out.print("Next: upload each file to its platform, then record it with "
                          "'provisioner confirm PLATFORM uploaded'; 'provisioner status' lists what awaits upload.")  # fmt: skip
        sys.stdout.flush()  # the answer is out before its slips count as named
        the_provisioner.slips_shown(result)

    run(action, as_json)


@command(app, help="Match pupils this roster lists under other ids (another MIS, an export without the admission "
         "number) to the accounts they hold, by UPN or by legal name and date of birth. Shows every pairing and asks.")  # fmt: skip
def relink(
    roster: RosterArg,
    workspace: WorkspaceOpt = None,
    yes: YesOpt = False,
    skip_invalid_rows: SkipOpt = False,
    as_json: JsonOpt = False,
) -> None:
    def action() -> None:
        the_provisioner = find_provisioner(workspace)
        confirm = asker("relink", "Record each of these pupils under the id this roster gives?", render.relinked, yes,
                        as_json)  # fmt: skip
        pairs = the_provisioner.relink(roster, confirm=confirm, skip_invalid_rows=skip_invalid_rows)
        if as_json:
            print_json({"relinked": [pair.as_dict() for pair in pairs]})
            return
        if not pairs:
            out.print("No pupil of this roster pairs with a held pupil by UPN, or by legal name and date of birth; "
                      "nothing changed. A workspace records who its pupils are at each apply: one made before this "
                      "version has nothing to pair with until it has applied an export with the old ids once.")  # fmt: skip
            return
        out.print(f"Recorded {len(pairs)} pupil(s) under this roster's ids: their accounts are kept.")
        out.print(f"Next: provisioner plan \"{roster}\"")

    run(action, as_json)


@command(app, "reset-passwords", help="Reprint login slips: the next apply gives these pupils new passwords and new "
         "slips.")  # fmt: skip
def reset_passwords(
    platform: Annotated[str, typer.Argument(metavar="PLATFORM", help="The platform id, e.g. tt-rockstars.")],
    roster: RosterArg,
    class_name: Annotated[list[str] | None, typer.Option(
        "--class", metavar="NAME", help="Every pupil in this class (repeatable).")] = None,  # fmt: skip
    pupil: Annotated[list[str] | None, typer.Option(
        "--pupil", metavar="ID", help="A pupil's MIS id or UPN (repeatable).")] = None,  # fmt: skip
    workspace: WorkspaceOpt = None,
    skip_invalid_rows: SkipOpt = False,
    as_json: JsonOpt = False,
) -> None:
    def action() -> None:
        the_provisioner = find_provisioner(workspace)
        connector, count = the_provisioner.reset_passwords(platform, roster, classes=class_name or [],
                                                           pupils=pupil or [], skip_invalid_rows=skip_invalid_rows)  # fmt: skip
        if as_json:
            print_json({"platform": connector.id, "resets_recorded": count})
            return
        out.print(f"{connector.name}: {count} password reset(s) recorded for the next apply.")
        where = f" --workspace \"{the_provisioner.workspace.root}\"" if workspace else ""
        out.print(f"Next: provisioner apply \"{roster}\"{where}, upload the file, then print the new slips.")

    run(action, as_json)


class Confirmation(str, Enum):
    uploaded = "uploaded"
    deleted = "deleted"


@command(app, help="Record that you uploaded a batch's import file, or deleted a deletion list's accounts.")
def confirm(
    platform: Annotated[str, typer.Argument(metavar="PLATFORM", help="The platform id, e.g. tt-rockstars.")],
    what: Annotated[Confirmation, typer.Argument(
        metavar="uploaded|deleted", help="What you did with the batch's file.")],  # fmt: skip
    batch: Annotated[str | None, typer.Option(
        "--batch", "-b", metavar="ID", help="The batch id (needed when several await).")] = None,  # fmt: skip
    deleted_since_export: Annotated[bool, typer.Option(
        "--deleted-since-export", metavar="",
        help="You deleted the accounts a reconcile found still on the platform after that export.")] = False,  # fmt: skip
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    def action() -> None:
        the_provisioner = find_provisioner(workspace)
        if what == Confirmation.deleted:
            confirmed, earlier = the_provisioner.confirm_deleted(platform, batch,
                                                                 deleted_since_export=deleted_since_export)
        else:
            confirmed, earlier = the_provisioner.confirm_uploaded(platform, batch)
        held_until = max((day for b in confirmed if (day := the_provisioner.held_until(platform, b.id))), default=None)
        from provisioner.state import BatchKind  # the core, loaded once a command runs

        inactive = any(done.kind is BatchKind.LEAVER_UPLOAD for done in confirmed)
        deletion_lists = the_provisioner.deletion_lists_waiting(platform) if inactive else []
        if as_json:
            print_json({"platform": platform, "confirmed": [b.id for b in confirmed],
                        "already_confirmed": [b.id for b in earlier],
                        "held_until": held_until.isoformat() if held_until else None,
                        "marked_inactive_not_deleted": inactive,
                        "deletion_lists": [{"batch": b.id, "file": b.file} for b in deletion_lists]})  # fmt: skip
            return
        for done in confirmed:
            out.print(f"{platform}: batch {done.id} recorded as {what.value} ({done.file}).")
        if inactive:
            out.print(f"{platform}: the leavers in it are now marked inactive by School Data Sync, which does not delete "
                      "their accounts. Delete them in the Microsoft Entra admin centre as the deletion list says, then "
                      f"run: provisioner confirm {platform} deleted")  # fmt: skip
            for waiting in deletion_lists:
                out.print(f"{platform}: deletion list {waiting.id}: {waiting.file}")
        if held_until:
            out.print(f"{platform}: the platform still holds these accounts in its Leavers group until "
                      f"{held_until.isoformat()}, then deletes them for good; to end it sooner, delete them there "
                      "(Leavers group: bring the deletion date forward).")
        for before in earlier:
            out.print(f"{platform}: batch {before.id} was already recorded as {before.status}; nothing changed.")

    run(action, as_json)
