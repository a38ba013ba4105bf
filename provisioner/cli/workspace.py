"""Commands about the workspace itself: make one, run the demo, check a roster, the overview."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from provisioner import times
from provisioner.cli import common, render
from provisioner.cli.common import (
    AsOfOpt, JsonOpt, PlatformOpt, RosterArg, WorkspaceOpt, command, flag, group, out, print_json, print_table,
    find_provisioner, run, today,
)  # fmt: skip
from provisioner.errors import ExitCode, RosterError, UsageError

app = group()
roster_app = group("Check a roster exported from the MIS.")


@command(app, help="Create a workspace: settings, state, the school's secret, the outbox, the first register.")
def init(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="The folder to create the workspace in.")],
    school: Annotated[str | None, typer.Option(metavar="NAME", help="The school's name.")] = None,
    domain: Annotated[str | None, typer.Option(
        metavar="DOMAIN", help="The domain for pupils' accounts, e.g. example.sch.uk.")] = None,  # fmt: skip
    platform: PlatformOpt = None,
    approved_by: Annotated[str | None, typer.Option(
        "--approved-by", metavar="NAME", help="Who approves the platforms' field lists (else your login name).")] = None,  # fmt: skip
    yes: Annotated[bool, flag("--yes", "Do not ask; use the options given.", "-y")] = False,
) -> None:
    def action() -> None:
        nonlocal school, domain, platform, approved_by
        from provisioner.facade import Provisioner, platforms  # when the command runs (see cli/common.py)

        if not yes and common.can_ask():  # without a terminal nobody can answer: the options given are used
            school = school or typer.prompt("School name")
            domain = domain or typer.prompt("Domain for pupils' accounts (e.g. example.sch.uk)")
            if not platform:
                known = ", ".join(platforms())
                answer = typer.prompt(f"Platforms to enable, separated by commas ({known})", default="")
                platform = [p.strip() for p in answer.split(",") if p.strip()]
            approved_by = approved_by or typer.prompt("Your name (recorded as approving the data each platform is sent)")
        if not school or not domain:
            raise UsageError("a school name and a domain are needed; nothing was made",
                             hint="pass --school and --domain" + (", or leave out --yes to be asked" if yes and common.can_ask() else ""))
        workspace = Provisioner.create(directory, school, domain, platform or [], approved_by or "").workspace
        out.print(f"Created the workspace {workspace.root}")
        out.print(f"  settings: {workspace.settings_path}")
        out.print(f"  school secret (back it up; never share it): {workspace.secret_path}")
        out.print("  register: approved as it stands; see it with 'provisioner register show'")
        out.print(f"Next: provisioner roster check FILE --workspace {workspace.root}")

    run(action)


@command(app, help="Build a workspace from a bundled synthetic roster and run the main job end to end.")
def demo(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Where to build the demo workspace.")] = Path(
        "provisioner-demo"),  # fmt: skip
) -> None:
    def action() -> None:
        from provisioner.facade import Provisioner  # when the command runs (see cli/common.py)

        the_demo, roster_path = Provisioner.demo(directory)
        root = the_demo.workspace.root
        out.print(f"Demo workspace: {root}")
        out.print(f"Synthetic roster (made-up names only): {roster_path}")
        when = date.today()
        render.roster_summary(the_demo.read_roster(roster_path, today=when))
        result = the_demo.apply(roster_path, today=when, confirm=lambda the_plan: render.plan(the_plan) or True)
        render.issued(result, root)
        if not result.batches:
            out.print("Nothing new to send: the demo was already applied. Every platform is up to date.")
        out.print(f"In your browser: provisioner serve --workspace {root}")
        out.print("Try next:")
        out.print(f"  provisioner status --workspace {root}")
        out.print(f"  provisioner confirm purple-mash uploaded --workspace {root}   (after uploading a file: until "
                  "then the register counts its pupils as issued, not held)")  # fmt: skip
        out.print(f"  provisioner plan {roster_path} --workspace {root}")
        out.print(f"  provisioner register export --format pdf --workspace {root}")

    run(action)


@command(roster_app, "check", help="Validate and summarise a roster: counts per year and class, every problem with "
         "its row and column.")  # fmt: skip
def roster_check(roster: RosterArg, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    def action() -> int:
        from provisioner.facade import check_roster  # when the command runs (see cli/common.py)

        try:
            result, matching = check_roster(roster, workspace)
        except RosterError as exc:
            if not as_json:
                raise
            problems = exc.problems or []
            errors = [p.as_dict() for p in problems if p.severity == "error"] or [
                {"row": None, "column": None, "message": exc.message}
            ]
            print_json({"pupils": 0, "invalid_rows": 0, "errors": errors, "warnings": [], "decisions": [],
                        "refused": exc.message})  # fmt: skip
            return ExitCode.INVALID_ROSTER
        if as_json:
            print_json({
                "pupils": len(result.pupils),
                "invalid_rows": result.invalid_rows,
                "errors": [p.as_dict() for p in result.errors],
                "warnings": [p.as_dict() for p in result.warnings],
                "unlisted_errors": result.unlisted_errors,  # past the reader's cap: the last error says so
                "unlisted_warnings": result.unlisted_warnings,
                "decisions": [d.as_dict() for d in result.decisions],
                "columns": result.columns,
                "year_groups": result.counts_by_year_and_class(),
                "matching": matching,
            })  # fmt: skip
        else:
            render.roster_summary(result)
            if matching:
                render.matching(matching)
        return ExitCode.INVALID_ROSTER if result.errors else ExitCode.OK

    run(action, as_json)


@command(app, help="Overview: accounts per platform, files awaiting upload, deletions overdue, recent runs, and a "
         "check of the audit log.")  # fmt: skip
def status(workspace: WorkspaceOpt = None, as_of: AsOfOpt = None, as_json: JsonOpt = False) -> None:
    def action() -> int:
        report = find_provisioner(workspace).status(today(as_of))
        if as_json:
            print_json(report)
        else:
            _print_status(report)
        return ExitCode.OK if report["audit"]["intact"] else ExitCode.AUDIT_BROKEN

    run(action, as_json)


_STATUS_WORDS = {"platform_hold": "held by the platform until it deletes them",
                 "issued_not_uploaded": "issued, not yet uploaded"}  # fmt: skip


def _print_status(report: dict) -> None:
    table = Table(title=report["school"])
    for column in ("Platform", "Enabled", "Accounts", "Awaiting upload", "Deletions overdue"):
        table.add_column(column)
    interrupted, kept = [], []
    for platform_id, info in report["platforms"].items():
        accounts = ", ".join(f"{n} {_STATUS_WORDS.get(s, s.replace('_', ' '))}"
                             for s, n in info["accounts"].items()) or "none"  # fmt: skip
        if info.get("held_by_platform"):
            kept.append(info)
        awaiting = ", ".join(b["batch"] for b in info["awaiting_upload"]) or "-"
        late = info["overdue"]
        overdue_text = "-"
        if any(late.values()):
            overdue_text = (f"[red]{late['unconfirmed_deletion_lists']} on unconfirmed lists, "
                            f"{late['deletions_not_started']} not started[/]")  # fmt: skip
        table.add_row(info["name"], "yes" if info["enabled"] else "no", accounts, awaiting,
                      Text.from_markup(overdue_text))  # fmt: skip
        if info["interrupted"]:
            interrupted.append(platform_id)
    print_table(table)
    for info in report["platforms"].values():
        proofs = _deletion_proofs(info["deletions"])
        if proofs:
            out.print(f"{info['name']} deletions: {proofs}.", markup=True)
    for info in kept:
        hold = info["held_by_platform"]
        first, last = hold["until"]
        until = f"until {last}" if first == last else f"until dates from {first} to {last}"
        out.print(f"{info['name']}: {hold['accounts']} account(s) removed from use are still held in {hold['where']} "
                  f"{until}, when the platform deletes them.")  # fmt: skip
    if interrupted:
        out.print(f"[yellow]An apply was interrupted[/] for {', '.join(interrupted)}: "
                  "run apply again with the same roster to finish it.", markup=True)  # fmt: skip
    for info in report["platforms"].values():
        for slips in info["unnamed_slips"]:
            out.print(f"{info['name']}: login slips of batch {slips['batch']}, from an apply that stopped before it "
                      f"finished (their passwords are set on the platform): {' and '.join(slips['slips'])}. "
                      "Print them and hand them out.")  # fmt: skip
    for past in report["runs"]:
        out.print(f"run {past['id']}: {past['command']} {times.shown(past['started_at'])} {past['status']}")
    render.audit_check(report["audit"])


def _deletion_proofs(deletions: dict) -> str:
    parts = []
    if deletions["proved_by_export"]:
        parts.append(f"{deletions['proved_by_export']} deletion(s) proved by the platform's export of "
                     f"{deletions['last_export']}")  # fmt: skip
    if deletions["confirmed_by_admin"]:
        parts.append(f"{deletions['confirmed_by_admin']} confirmed by the admin")
    if deletions["awaiting_still_present"]:
        parts.append(f"[yellow]{deletions['awaiting_still_present']} awaiting deletion still in the platform's "
                     "export[/]: confirm deleted refuses them until a later export proves them gone")  # fmt: skip
    if deletions["still_in_export"]:
        parts.append(f"[red]{deletions['still_in_export']} confirmed by the admin but still in the platform's "
                     "latest export[/]: delete them there, then reconcile again")  # fmt: skip
    return "; ".join(parts)
