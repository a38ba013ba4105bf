"""The command line: a thin layer that parses options, calls the core, and turns domain
errors into one-line messages with the next step and a distinct exit code."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from provisioner import engine, files, leavers, subject_requests
from provisioner.demo import prepare_demo
from provisioner.errors import (
    Aborted, EmptyRosterError, ExitCode, GuardRefused, ProvisionerError, RosterError, UsageError, WorkspaceNotFound,
)  # fmt: skip
from provisioner.models import Roster, year_group_label
from provisioner.register import approve as approve_entry
from provisioner.register import build_register
from provisioner.roster import read_roster
from provisioner.settings import RosterSettings
from provisioner.status import status_report
from provisioner.workspace import connector_class, find_workspace, init_workspace

app = typer.Typer(
    help="Create minimal-data pupil accounts on EdTech platforms and keep the register of what each holds.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
roster_app = typer.Typer(help="Check a roster exported from the MIS.", no_args_is_help=True)
app.add_typer(roster_app, name="roster")
leavers_app = typer.Typer(help="The termly leaver cleanup: disable, delete, restore.", no_args_is_help=True)
app.add_typer(leavers_app, name="leavers")
register_app = typer.Typer(help="The processor register for governors: check, approve, export.", no_args_is_help=True)
app.add_typer(register_app, name="register")
pupil_app = typer.Typer(help="A parent's requests about one pupil: what is held, erasure.", no_args_is_help=True)
app.add_typer(pupil_app, name="pupil")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
_debug = {"on": bool(os.environ.get("PROVISIONER_DEBUG"))}

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="The workspace folder (else $PROVISIONER_WORKSPACE, else here)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]
RosterArg = Annotated[Path, typer.Argument(help="The roster exported from the MIS (xlsx or csv).")]
PlatformOpt = Annotated[
    list[str] | None, typer.Option("--platform", "-p", help="Only this platform (repeatable).")
]
SkipOpt = Annotated[
    bool, typer.Option("--skip-invalid-rows", help="Leave out rows with errors (they are listed) instead of stopping.")
]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Act as if today were this date (YYYY-MM-DD).", metavar="DATE")
]


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")] = False) -> None:
    if debug:
        _debug["on"] = True


def _run(action: Callable[[], int | None]) -> None:
    """Call the core; map expected errors to a message and an exit code, never a traceback."""
    try:
        code = action() or ExitCode.OK
    except Aborted as exc:
        err.print(f"Stopped: {exc.message}.")
        code = exc.exit_code
    except ProvisionerError as exc:
        if isinstance(exc, RosterError) and exc.problems:
            _print_problems(exc.problems, err, limit=20)
        err.print(f"[bold red]Error:[/] {exc.message}.", markup=True)
        if exc.hint:
            err.print(f"Next: {exc.hint}.")
        if _debug["on"]:
            traceback.print_exc()
        code = exc.exit_code
    except KeyboardInterrupt:
        err.print("Interrupted. Run the same command again to finish: it picks up where it stopped.")
        code = 130
    except Exception as exc:  # noqa: BLE001 (the last line of defence)
        if _debug["on"]:
            traceback.print_exc()
        err.print(f"[bold red]Unexpected error[/] ({type(exc).__name__}). Nothing more was changed.", markup=True)
        err.print("Next: run again with --debug for the details, and report them.")
        code = ExitCode.UNEXPECTED
    raise typer.Exit(code)


def _today(as_of: str | None) -> date:
    if as_of is None:
        return date.today()
    try:
        return date.fromisoformat(as_of)
    except ValueError:
        raise UsageError(f"--as-of {as_of!r} is not a date", hint="write it as YYYY-MM-DD, e.g. 2026-09-01") from None


def _print_json(data: Any) -> None:
    # ASCII with \u escapes: valid JSON whatever code page a redirected Windows console uses.
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _print_problems(problems: list, console: Console, limit: int | None = None) -> None:
    shown = problems if limit is None else problems[:limit]
    for problem in shown:
        style = "red" if problem.severity == "error" else "yellow"
        console.print(f"[{style}]{problem.severity}[/] {problem}", markup=True, soft_wrap=True)
    if limit is not None and len(problems) > limit:
        console.print(f"... and {len(problems) - limit} more (see 'provisioner roster check FILE').")


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="The folder to create the workspace in.")],
    school: Annotated[str | None, typer.Option(help="The school's name.")] = None,
    domain: Annotated[str | None, typer.Option(help="The domain for pupils' accounts, e.g. example.sch.uk.")] = None,
    platform: PlatformOpt = None,
    approved_by: Annotated[str | None, typer.Option(
        "--approved-by", help="Who approves the platforms' field lists (else your login name).")] = None,  # fmt: skip
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask; use the options given.")] = False,
) -> None:
    """Create a workspace: settings, state, the school's secret, the outbox, the first register."""
    from provisioner.connector import registry

    def action() -> None:
        nonlocal school, domain, platform, approved_by
        if not yes:
            school = school or typer.prompt("School name")
            domain = domain or typer.prompt("Domain for pupils' accounts (e.g. example.sch.uk)")
            if not platform:
                known = ", ".join(registry())
                answer = typer.prompt(f"Platforms to enable, separated by commas ({known})", default="")
                platform = [p.strip() for p in answer.split(",") if p.strip()]
            approved_by = approved_by or typer.prompt("Your name (recorded as approving the data each platform is sent)")
        if not school or not domain:
            raise UsageError("a school name and a domain are needed", hint="pass --school and --domain, or leave out --yes")
        workspace = init_workspace(directory, school, domain, platform or [], approved_by or "")
        out.print(f"Created the workspace {workspace.root}")
        out.print(f"  settings: {workspace.settings_path}")
        out.print(f"  school secret (back it up; never share it): {workspace.secret_path}")
        out.print("  register: approved as it stands; see it with 'provisioner register show'")
        out.print(f"Next: provisioner roster check FILE --workspace {workspace.root}")

    _run(action)


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Where to build the demo workspace.")] = Path("provisioner-demo"),
) -> None:
    """Build a workspace from a bundled synthetic roster and run the main job end to end."""

    def action() -> None:
        ws, roster_path = prepare_demo(directory)
        out.print(f"Demo workspace: {ws.root}")
        out.print(f"Synthetic roster (made-up names only): {roster_path}")
        today = date.today()
        loaded = read_roster(roster_path, ws.settings.roster, today=today)
        _print_roster_summary(loaded)
        result = engine.apply(ws, loaded, ws.connectors(), today, lambda the_plan: _print_plan(the_plan) or True)
        _print_issued(result, ws.root)
        if not result.batches:
            out.print("Nothing new to send: the demo was already applied. Every platform is up to date.")
        out.print("Try next:")
        out.print(f"  provisioner status --workspace {ws.root}")
        out.print(f"  provisioner plan {roster_path} --workspace {ws.root}")
        out.print(f"  provisioner register export --format pdf --workspace {ws.root}")

    _run(action)


@roster_app.command("check")
def roster_check(roster: RosterArg, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Validate and summarise a roster: counts per year and class, every problem with row and column."""

    def action() -> int:
        try:
            settings = find_workspace(workspace).settings.roster
        except WorkspaceNotFound:
            if workspace is not None:
                raise
            settings = RosterSettings()  # checking a file needs no workspace
        try:
            result = read_roster(roster, settings)
        except RosterError as exc:
            if not as_json:
                raise
            problems = exc.problems or []
            errors = [p.as_dict() for p in problems if p.severity == "error"] or [
                {"row": None, "column": None, "message": exc.message}
            ]
            _print_json({"pupils": 0, "invalid_rows": 0, "errors": errors, "warnings": [], "refused": exc.message})
            return ExitCode.INVALID_ROSTER
        if as_json:
            _print_json(
                {
                    "pupils": len(result.pupils),
                    "invalid_rows": result.invalid_rows,
                    "errors": [p.as_dict() for p in result.errors],
                    "warnings": [p.as_dict() for p in result.warnings],
                    "columns": result.columns,
                    "year_groups": result.counts_by_year_and_class(),
                }
            )
        else:
            _print_roster_summary(result)
        return ExitCode.INVALID_ROSTER if result.errors else ExitCode.OK

    _run(action)


def _print_roster_summary(roster: Roster) -> None:
    table = Table(title=f"{roster.source}: {len(roster.pupils)} pupils")
    table.add_column("Year group")
    table.add_column("Classes (pupils)")
    table.add_column("Pupils", justify="right")
    for year, classes in roster.counts_by_year_and_class().items():
        listed = ", ".join(f"{name} ({count})" for name, count in classes.items())
        table.add_row(year_group_label(year), listed, str(sum(classes.values())))
    out.print(table)
    out.print("Columns used: " + ", ".join(f"{field} <- '{header}'" for field, header in roster.columns.items()))
    _print_problems(roster.errors + roster.warnings, out)
    if roster.errors:
        out.print(
            f"[red]{len(roster.errors)} error(s) in {roster.invalid_rows} row(s)[/]: plan and apply will stop "
            "until they are fixed, or leave those rows out with --skip-invalid-rows.",
            markup=True,
        )
    else:
        out.print(f"[green]No errors.[/] {len(roster.warnings)} warning(s).", markup=True)


def _print_issued(result: engine.ApplyResult, root: Path) -> None:
    def shown(path: Path) -> str:
        return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)

    for batch in result.batches:
        resumed = " (finishing an interrupted apply)" if batch.resumed else ""
        if batch.path is None:
            out.print(f"{batch.platform}: {batch.rows} account(s) created or updated{resumed}")
        elif batch.path.is_dir():  # a set of files, uploaded together (School Data Sync)
            out.print(f"{batch.platform}: {batch.rows} change(s); upload every file in {shown(batch.path)}{resumed}",
                      soft_wrap=True)  # fmt: skip
        else:
            out.print(f"{batch.platform}: {batch.rows} row(s) in {shown(batch.path)}{resumed}", soft_wrap=True)
        if batch.slips:
            out.print(f"  login slips: {' and '.join(shown(path) for path in batch.slips)}", soft_wrap=True)
    for platform_id, count in result.recorded.items():
        out.print(f"{platform_id}: recorded {count} pupil(s) the platform reads from the MIS itself (nothing to upload)")
    if result.batches:
        out.print(f"Files are in {root / 'outbox'}.", soft_wrap=True)
    if any(batch.slips for batch in result.batches):
        out.print("The slips hold first passwords: print them, hand them out, then delete the files.")


def _print_plan(plan: engine.Plan) -> None:
    table = Table(title=f"Plan as of {plan.today.isoformat()} for {plan.pupils} pupils")
    for column in ("Platform", "Create", "Update", "Unchanged", "Leavers", "Fields sent"):
        table.add_column(column, justify="right" if column not in ("Platform", "Fields sent") else "left")
    for platform_plan in plan.platforms.values():
        counts = platform_plan.counts()
        fields = ", ".join(platform_plan.fields)
        changed = platform_plan.changed_fields()
        if changed:
            fields += "\nupdates change: " + ", ".join(f"{f} ({n})" for f, n in changed.items())
        table.add_row(
            platform_plan.name, str(counts["create"]), str(counts["update"]), str(counts["unchanged"]),
            str(counts["leavers"]), fields,
        )  # fmt: skip
    out.print(table)
    if plan.already_left:
        out.print(f"{plan.already_left} pupil(s) on the roster have a leaving date that has passed: no account is made.")
    if plan.withheld:
        out.print(f"{plan.withheld} pupil(s) on the roster are withheld by an erasure request: nothing is sent about them.")
    for platform_plan in plan.platforms.values():
        if platform_plan.mode == engine.MIS_SYNC and platform_plan.to_send:
            out.print(f"{platform_plan.name} reads the MIS itself and makes its own accounts: apply only records "
                      f"the {len(platform_plan.to_send)} pupil(s) it holds, so the register is true.")  # fmt: skip
        if platform_plan.resuming:
            out.print(f"{platform_plan.name}: {platform_plan.resuming} row(s) of an interrupted apply will be finished first.")
        fixes = platform_plan.fix_counts()
        if fixes:
            words = {"license": "licence(s) to assign", "join": "class group place(s) to add",
                     "leave": "class group place(s) to remove"}  # fmt: skip
            out.print(f"{platform_plan.name}: out of step with the roster: "
                      + ", ".join(f"{n} {words[kind]}" for kind, n in fixes.items()) + ".")  # fmt: skip
        if platform_plan.counts()["leavers"]:
            out.print(
                f"{platform_plan.name}: {platform_plan.counts()['leavers']} account(s) belong to pupils no longer on roll;"
                " the leaver cleanup acts on them."
            )


def _asker(command: str, question: str, show: Callable[[Any], None], yes: bool, as_json: bool):
    """The confirm callback of a command that changes things: show the plan, then ask (or not)."""
    if as_json and not yes:
        raise UsageError(f"{command} --json cannot ask for a yes", hint="add --yes, after checking the plan")

    def confirm(the_plan: Any) -> bool:
        if not as_json:
            show(the_plan)
        if yes:
            return True
        if not sys.stdin.isatty():
            raise UsageError(f"{command} needs a yes before it changes anything", hint="pass --yes to go ahead without asking")
        return typer.confirm(question, default=False)

    return confirm


def _job(workspace: Path | None, roster: Path, platform: list[str] | None, skip: bool, as_of: str | None):
    """What plan and apply both start from: the workspace, today, the roster, the connectors."""
    ws = find_workspace(workspace)
    today = _today(as_of)
    loaded = engine.load_roster(ws, roster, skip_invalid_rows=skip, today=today)
    return ws, today, loaded, ws.connectors(platform)


@app.command()
def plan(
    roster: RosterArg,
    workspace: WorkspaceOpt = None,
    platform: PlatformOpt = None,
    skip_invalid_rows: SkipOpt = False,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show what apply would do, per platform, with the fields each action sends. Changes nothing."""

    def action() -> None:
        ws, today, loaded, connectors = _job(workspace, roster, platform, skip_invalid_rows, as_of)
        with engine.open_state(ws) as state:
            result = engine.make_plan(ws, state, loaded, connectors, today)
        if as_json:
            _print_json(result.as_dict())
            return
        if loaded.errors:
            out.print(f"Left out {loaded.invalid_rows} row(s) with errors (see 'provisioner roster check').")
        _print_plan(result)
        if result.has_work:
            out.print(f"Next: provisioner apply {roster}" + (f" --workspace {ws.root}" if workspace else ""))
        else:
            out.print("Nothing to do: every platform is up to date.")

    _run(action)


@app.command()
def apply(
    roster: RosterArg,
    workspace: WorkspaceOpt = None,
    platform: PlatformOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    skip_invalid_rows: SkipOpt = False,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute the plan, show it, ask, then carry it out and record what was sent."""

    def action() -> None:
        ws, today, loaded, connectors = _job(workspace, roster, platform, skip_invalid_rows, as_of)
        confirm = _asker("apply", "Apply these changes?", _print_plan, yes, as_json)

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
            result = engine.apply(ws, loaded, connectors, today, confirm, progress)
        finally:
            bar.stop()
        if as_json:
            _print_json(result.as_dict())
            return
        _print_issued(result, ws.root)
        if not result.plan.has_work and not result.batches:
            out.print("Nothing to do: every platform is up to date.")
        elif result.batches:
            out.print(
                "Next: upload each file to its platform, then record it with "
                "'provisioner confirm PLATFORM uploaded'; 'provisioner status' lists what awaits upload."
            )

    _run(action)


@app.command("reset-passwords")
def reset_passwords(
    platform: Annotated[str, typer.Argument(help="The platform id, e.g. tt-rockstars.")],
    roster: RosterArg,
    class_name: Annotated[list[str] | None, typer.Option("--class", help="Every pupil in this class (repeatable).")] = None,
    pupil: Annotated[list[str] | None, typer.Option("--pupil", help="A pupil's MIS id or UPN (repeatable).")] = None,
    workspace: WorkspaceOpt = None,
    skip_invalid_rows: SkipOpt = False,
) -> None:
    """Reprint login slips: the next apply gives these pupils new passwords and new slips."""

    def action() -> None:
        ws, today, loaded, [connector] = _job(workspace, roster, [platform], skip_invalid_rows, None)
        count = engine.request_password_resets(ws, loaded, connector, class_name or [], pupil or [])
        out.print(f"{connector.name}: {count} password reset(s) recorded for the next apply.")
        where = f" --workspace \"{ws.root}\"" if workspace else ""
        out.print(f"Next: provisioner apply \"{roster}\"{where}, upload the file, then print the new slips.")

    _run(action)


class Confirmation(str, Enum):
    uploaded = "uploaded"
    deleted = "deleted"


@app.command()
def confirm(
    platform: Annotated[str, typer.Argument(help="The platform id, e.g. tt-rockstars.")],
    what: Annotated[Confirmation, typer.Argument(help="What you did with the batch's file.")],
    batch: Annotated[str | None, typer.Option("--batch", "-b", help="The batch id (needed when several await).")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record that you uploaded a batch's import file, or deleted a deletion list's accounts."""

    def action() -> None:
        ws = find_workspace(workspace)
        connector_class(platform)
        if what == Confirmation.deleted:
            confirmed, earlier = leavers.confirm_deleted(ws, platform, batch)
        else:
            confirmed, earlier = engine.confirm_uploaded(ws, platform, batch)
        if as_json:
            _print_json({"platform": platform, "confirmed": [b.id for b in confirmed],
                         "already_confirmed": [b.id for b in earlier]})  # fmt: skip
            return
        for done in confirmed:
            out.print(f"{platform}: batch {done.id} recorded as {what.value} ({done.file}).")
        for before in earlier:
            out.print(f"{platform}: batch {before.id} was already recorded as {before.status}; nothing changed.")

    _run(action)


@app.command()
def status(workspace: WorkspaceOpt = None, as_of: AsOfOpt = None, as_json: JsonOpt = False) -> None:
    """Overview: accounts per platform, files awaiting upload, deletions overdue, recent runs, audit log check."""

    def action() -> int:
        report = status_report(find_workspace(workspace), _today(as_of))
        if as_json:
            _print_json(report)
        else:
            table = Table(title=report["school"])
            for column in ("Platform", "Enabled", "Accounts", "Awaiting upload", "Deletions overdue"):
                table.add_column(column)
            interrupted = []
            for platform_id, info in report["platforms"].items():
                accounts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in info["accounts"].items()) or "none"
                awaiting = ", ".join(b["batch"] for b in info["awaiting_upload"]) or "-"
                late = info["overdue"]
                overdue_text = "-"
                if any(late.values()):
                    overdue_text = (f"[red]{late['unconfirmed_deletion_lists']} on unconfirmed lists, "
                                    f"{late['deletions_not_started']} not started[/]")  # fmt: skip
                table.add_row(info["name"], "yes" if info["enabled"] else "no", accounts, awaiting, overdue_text)
                if info["interrupted"]:
                    interrupted.append(platform_id)
            out.print(table)
            if interrupted:
                out.print(f"[yellow]An apply was interrupted[/] for {', '.join(interrupted)}: "
                          "run apply again with the same roster to finish it.", markup=True)  # fmt: skip
            for run in report["runs"]:
                out.print(f"run {run['id']}: {run['command']} {run['started_at']} {run['status']}")
            audit = report["audit"]
            verdict = "intact" if audit["intact"] else f"BROKEN at entry {audit['first_broken']}"
            out.print(f"Audit log: {audit['entries']} entries, hash chain {verdict}.")
        return ExitCode.OK if report["audit"]["intact"] else ExitCode.UNEXPECTED

    _run(action)


# The leaver cleanup

AllowLargeOpt = Annotated[bool, typer.Option(
    "--allow-large-cleanup", help="Go ahead although more than the set share of a platform's accounts would go.")]  # fmt: skip


def _cleanup_job(workspace, roster, platform, skip, as_of):
    """As _job, but an empty roster is the guard's to refuse (exit 6): it would remove everyone."""
    try:
        return _job(workspace, roster, platform, skip, as_of)
    except EmptyRosterError as exc:
        raise GuardRefused(f"{exc.message}; a cleanup from it would remove every account", exc.hint) from None


def _print_cleanup(plan: leavers.CleanupPlan) -> None:
    table = Table(title=f"Leaver cleanup as of {plan.today.isoformat()} for a roster of {plan.pupils} pupils")
    for column in ("Platform", "Disable", "Delete", "Restore", "In service", "Waiting", "Next due"):
        table.add_column(column, justify="left" if column == "Platform" else "right")
    for cleanup in plan.platforms.values():
        counts = cleanup.counts()
        table.add_row(cleanup.name, str(counts["disable"]), str(counts["delete"]), str(counts["restore"]),
                      str(cleanup.in_service), str(len(cleanup.waiting)), cleanup.next_due() or "-")  # fmt: skip
    out.print(table)
    if plan.absent_only:
        out.print(f"[yellow]{plan.absent_only} pupil(s) are leavers only because this roster does not list them[/]: "
                  "check it is the whole school before going on.", markup=True)  # fmt: skip


@leavers_app.command("plan")
def leavers_plan(
    roster: RosterArg,
    workspace: WorkspaceOpt = None,
    platform: PlatformOpt = None,
    skip_invalid_rows: SkipOpt = False,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show who would be disabled, deleted or restored on each platform, and what falls due later."""

    def action() -> None:
        ws, today, loaded, connectors = _cleanup_job(workspace, roster, platform, skip_invalid_rows, as_of)
        with engine.open_state(ws) as state:
            the_plan = leavers.plan_cleanup(ws, state, loaded, connectors, today)
        if as_json:
            _print_json(the_plan.as_dict())
        else:
            _print_cleanup(the_plan)
        leavers.guard(the_plan, ws.settings.leavers.max_share, allow_large=False)

    _run(action)


@leavers_app.command("apply")
def leavers_apply(
    roster: RosterArg,
    workspace: WorkspaceOpt = None,
    platform: PlatformOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Go ahead without asking.")] = False,
    allow_large_cleanup: AllowLargeOpt = False,
    skip_invalid_rows: SkipOpt = False,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Disable, delete and restore accounts as the plan says, checking each; write deletion lists."""

    def action() -> None:
        ws, today, loaded, connectors = _cleanup_job(workspace, roster, platform, skip_invalid_rows, as_of)
        confirm = _asker("leavers apply", "Carry out this cleanup?", _print_cleanup, yes, as_json)

        result = leavers.apply_cleanup(ws, loaded, connectors, today, confirm, allow_large=allow_large_cleanup)
        if as_json:
            _print_json(result.as_dict())
            return
        if not result.plan.has_work:
            out.print("Nothing is due: no account to disable, delete or restore today.")
        for platform_id, done in result.done.items():
            words = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in done.items()) or "nothing"
            out.print(f"{platform_id}: {words}")
        for batch in result.deletion_lists:
            shown = " and ".join(str(p.relative_to(ws.root)) for p in (batch.slips or [batch.path]))
            out.print(f"{batch.platform}: delete {batch.rows} account(s) as listed in {shown}, then run "
                      f"'provisioner confirm {batch.platform} deleted --batch {batch.batch_id}'", soft_wrap=True)  # fmt: skip
        for note in result.notes:
            out.print(note)

    _run(action)


@app.command()
def purge(workspace: WorkspaceOpt = None, as_of: AsOfOpt = None, as_json: JsonOpt = False) -> None:
    """Forget leavers whose accounts were all deleted longer ago than the retention period, and
    remove old outbox files of finished batches. The audit log keeps the events, unnamed."""

    def action() -> None:
        report = leavers.purge(find_workspace(workspace), _today(as_of))
        if as_json:
            _print_json(report)
            return
        out.print(f"Purged {report['pupils_purged']} leaver(s) (retention {report['retention_days']} days) and "
                  f"{len(report['files_removed'])} outbox file(s).")  # fmt: skip
        _print_kept(report["files_kept"])

    _run(action)


# The processor register

class ExportFormat(str, Enum):
    pdf = "pdf"
    html = "html"
    xlsx = "xlsx"
    md = "md"
    notice = "notice"


def _register(workspace: Path | None, as_of: str | None):
    ws = find_workspace(workspace)
    with engine.open_state(ws) as state:
        return ws, build_register(ws, state, _today(as_of))


def _print_findings(found: list) -> None:
    for problem in found:
        style = "red" if problem.severity == "error" else "yellow"
        out.print(f"[{style}]{problem.severity}[/] {problem.message}", markup=True, soft_wrap=True)
        if problem.hint and problem.severity == "error":
            out.print(f"  Next: {problem.hint}", soft_wrap=True)


@register_app.command("show")
def register_show(workspace: WorkspaceOpt = None, as_of: AsOfOpt = None, as_json: JsonOpt = False) -> None:
    """The register: each processor, the pupil data it holds, pupils held now, gaps and next review."""

    def action() -> None:
        _, register = _register(workspace, as_of)
        if as_json:
            _print_json(register.as_dict())
            return
        table = Table(title=f"{register.school}: processor register as of {register.today.isoformat()}")
        for column in ("Processor", "Role", "Pupil data", "Pupils held", "Gaps", "Next review"):
            table.add_column(column)
        for processor in register.processors:
            held = str(processor.evidence.pupils_held) if processor.evidence else "-"
            table.add_row(processor.name, processor.role_in_short, processor.fields_text(short=True), held,
                          str(len(processor.gaps())), processor.next_review or "never approved")  # fmt: skip
        out.print(table)
        errors = sum(1 for p in register.problems if p.severity == "error")
        out.print(f"{errors} problem(s) to fix: see 'provisioner register check'." if errors else
                  "Next: provisioner register export --format pdf (for the governors)")  # fmt: skip

    _run(action)


@register_app.command("check")
def register_check(workspace: WorkspaceOpt = None, as_of: AsOfOpt = None, as_json: JsonOpt = False) -> None:
    """Fail when a platform is sent fields its approved entry does not list, a required fact is
    missing, or a review date has passed; list the gaps to chase."""

    def action() -> int:
        _, register = _register(workspace, as_of)
        if as_json:
            _print_json({"ok": register.ok, "problems": [p.as_dict() for p in register.problems]})
        else:
            _print_findings(register.problems)
            errors = sum(1 for p in register.problems if p.severity == "error")
            warnings = len(register.problems) - errors
            verdict = "[green]The register is in order[/]" if register.ok else f"[red]{errors} problem(s)[/]"
            out.print(f"{verdict}; {warnings} entr{'y has' if warnings == 1 else 'ies have'} gaps to chase.", markup=True)
        return ExitCode.OK if register.ok else ExitCode.REGISTER_PROBLEMS

    _run(action)


@register_app.command("approve")
def register_approve(
    entry: Annotated[str, typer.Argument(help="The processor's id, e.g. purple-mash or dfe.")],
    by: Annotated[str, typer.Option("--by", help="Who approves (a name, printed on the register).")],
    role: Annotated[str, typer.Option("--role", help="Their role.")] = "platform admin",
    next_review: Annotated[str | None, typer.Option(
        "--next-review", help="When it is next reviewed (YYYY-MM-DD; default a year from today).", metavar="DATE")] = None,  # fmt: skip
    note: Annotated[str, typer.Option("--note", help="Why, e.g. the governors' meeting that agreed it.")] = "",
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record who approved the data a processor receives now (its field list before and after),
    or its periodic review; apply refuses a platform whose fields changed since their approval."""

    def action() -> None:
        ws = find_workspace(workspace)
        review = _today(next_review) if next_review else None
        with ws.lock():
            with engine.open_state(ws) as state:
                receipt = approve_entry(ws, state, entry, by, role, _today(as_of), review, note)
        if as_json:
            _print_json(receipt.__dict__)
            return
        before = ", ".join(receipt.fields_before) or "nothing"
        after = ", ".join(receipt.fields_after) or "nothing"
        out.print(f"Approved {entry} at {receipt.approved_at} by {receipt.approved_by} ({receipt.role}).")
        out.print(f"  fields before: {before}", soft_wrap=True)
        out.print(f"  fields now:    {after}", soft_wrap=True)
        out.print(f"  next review:   {receipt.next_review}")

    _run(action)


@register_app.command("export")
def register_export(
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="pdf for governors; html, xlsx, md; notice: "
                                              "the privacy notice's section.")] = ExportFormat.pdf,  # fmt: skip
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="The file to write (default: in reports/).")] = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Write the register for governors (PDF), as a web page, a spreadsheet, Markdown, or the
    privacy notice's section on the programs pupils use and who data is shared with."""
    from provisioner import reports as export

    def action() -> int:
        ws, register = _register(workspace, as_of)
        path = out_file or ws.reports / export.default_name(register, fmt.value)
        export.write_register(register, fmt.value, path)
        out.print(f"Wrote {path}", soft_wrap=True)
        errors = sum(1 for p in register.problems if p.severity == "error")
        if errors:
            out.print(f"[yellow]It shows {errors} problem(s)[/]: see 'provisioner register check'.", markup=True)
        return ExitCode.OK

    _run(action)


# A parent's requests

PupilArg = Annotated[str, typer.Argument(help="The pupil's MIS id (admission number), or UPN where there is none.")]


@pupil_app.command("show")
def pupil_show(
    pupil: PupilArg,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Also write the answer as a PDF (it holds pupil data).")] = None,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What every processor holds about one pupil: the exact values sent and when, and what
    was deleted and when (a subject access request)."""

    def action() -> None:
        ws = find_workspace(workspace)
        report = subject_requests.access_report(ws, pupil, _today(as_of))
        if pdf is not None:
            from provisioner.reports import access_pdf_bytes

            files.atomic_write_bytes(pdf, access_pdf_bytes(report))
        if as_json:
            _print_json(report)
            return
        if report["erasure_requested"]:
            out.print("[yellow]An erasure was requested for this pupil.[/]", markup=True)
        for platform_id, held in report["processors"].items():
            out.print(f"[bold]{held['name']}[/] ({held['status'].replace('_', ' ')}, since {held['since']})", markup=True)
            from_mis = held.get("read_from_mis", [])
            for name, value in held["fields"].items():
                shown = "(read by the platform from the MIS; this tool keeps no copy)" if name in from_mis else value
                out.print(f"  {name}: {shown}", soft_wrap=True)
            for name, why in held.get("not_kept", {}).items():
                out.print(f"  {name}: {why}", soft_wrap=True)
        for platform_id, gone in report["deleted"].items():
            out.print(f"{gone['name']}: deleted {gone['deleted']}")
        if not report["processors"]:
            out.print("No platform holds this pupil's data now.")
        names = ", ".join(r["name"] for r in report["other_recipients"])
        out.print(f"Shared outside this tool (see the register): {names}", soft_wrap=True)
        if pdf is not None:
            out.print(f"Wrote {pdf}: it holds the pupil's data, so give it only to the person who asked.", soft_wrap=True)

    _run(action)


def _print_erasure(the_plan: leavers.CleanupPlan) -> None:
    for cleanup in the_plan.platforms.values():
        how = {"api": "deleted now, then checked", "file": "put on a deletion list for you to carry out",
               "mis-sync": "recorded as removed (the platform reads the MIS)"}.get(cleanup.mode, cleanup.mode)  # fmt: skip
        out.print(f"{cleanup.name}: {len(cleanup.of(leavers.DELETE))} account {how}")
    if not the_plan.platforms:
        out.print("No platform holds this pupil's data now.")


@pupil_app.command("erase")
def pupil_erase(
    pupil: PupilArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Go ahead without asking.")] = False,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Erase one pupil from every platform at once, stop any later apply sending their data,
    then forget them here once every account is gone (the audit log keeps the events, unnamed)."""

    def action() -> None:
        ws = find_workspace(workspace)
        confirm = _asker("pupil erase", "Erase this pupil's data from every platform?", _print_erasure, yes, as_json)
        result = subject_requests.erase(ws, pupil, _today(as_of), confirm)
        if as_json:
            _print_json(result.as_dict())
            return
        cleanup = result.cleanup
        for batch in cleanup.deletion_lists if cleanup else []:
            shown = " and ".join(str(p.relative_to(ws.root)) for p in (batch.slips or [batch.path]))
            out.print(f"{batch.platform}: delete the account listed in {shown}, then run "
                      f"'provisioner confirm {batch.platform} deleted --batch {batch.batch_id}'", soft_wrap=True)  # fmt: skip
        for note in cleanup.notes if cleanup else []:
            out.print(note)
        _print_kept(result.kept_files)
        if result.purged:
            out.print("Every account is deleted and this tool has forgotten the pupil.")
        elif not result.plan.platforms:
            out.print("No platform held this pupil's data; no apply will send it.")
        else:
            out.print(f"Waiting for: {', '.join(result.waiting)}. Then run 'provisioner purge' to forget the pupil "
                      "here; no apply will send their data again.", soft_wrap=True)  # fmt: skip

    _run(action)


def _print_kept(paths: list[str]) -> None:
    for path in paths:
        out.print(f"[yellow]{path} is waiting for upload and holds an erased pupil's data[/]: take out their row "
                  "before uploading it, and delete the file once it is uploaded.", markup=True, soft_wrap=True)  # fmt: skip


@pupil_app.command("allow")
def pupil_allow(pupil: PupilArg, workspace: WorkspaceOpt = None) -> None:
    """Lift an erasure request (the parent has agreed to accounts again): the next apply makes new ones."""

    def action() -> None:
        if subject_requests.allow(find_workspace(workspace), pupil):
            out.print(f"Lifted the erasure request for {pupil}: the next apply makes their accounts.")
        else:
            out.print(f"No erasure request was recorded for {pupil}; nothing changed.")

    _run(action)


def main() -> None:
    app()
