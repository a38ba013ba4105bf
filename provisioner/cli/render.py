"""How results are shown in the terminal: the roster summary, plans, what was issued, cleanups.
Field names appear in people's words (``Legal surname``, not ``legal_surname``)."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from rich.table import Table

from provisioner.cli.common import out, print_problems, print_table, shown_path
from provisioner.delivery import ApplyResult, IssuedBatch
from provisioner.fields import short_label, short_labels
from provisioner.models import Roster, year_group_label
from provisioner.planning.cleanup import DELETE, CleanupPlan
from provisioner.planning.provisioning import Plan
from provisioner.roster import LABELS

FIX_WORDS = {"license": "licence(s) to assign", "join": "class group place(s) to add",
             "leave": "class group place(s) to remove"}  # fmt: skip


def roster_summary(roster: Roster) -> None:
    table = Table(title=f"{roster.source}: {len(roster.pupils)} pupils")
    table.add_column("Year group")
    table.add_column("Classes (pupils)")
    table.add_column("Pupils", justify="right")
    for year, classes in roster.counts_by_year_and_class().items():
        listed = ", ".join(f"{name} ({count})" for name, count in classes.items())
        table.add_row(year_group_label(year), listed, str(sum(classes.values())))
    print_table(table)
    out.print("Columns used: " + ", ".join(f"{LABELS.get(field, field)} <- '{header}'"
                                           for field, header in roster.columns.items()))  # fmt: skip
    for decision in roster.decisions:  # how the file was read, so the school can check it
        out.print(f"[cyan]decided[/] {escape(str(decision))}", markup=True)
    print_problems(roster.errors + roster.warnings, out)
    if roster.errors:
        out.print(
            f"[red]{len(roster.errors)} error(s) in {roster.invalid_rows} row(s)[/]: plan and apply will stop "
            "until they are fixed, or leave those rows out with --skip-invalid-rows.",
            markup=True,
        )
    else:
        out.print(f"[green]No errors.[/] {len(roster.warnings)} warning(s).", markup=True)


def plan(the_plan: Plan) -> None:
    table = Table(title=f"Plan as of {the_plan.today.isoformat()} for {the_plan.pupils} pupils")
    for column in ("Platform", "Create", "Update", "Unchanged", "Leavers", "Fields sent"):
        table.add_column(column, justify="right" if column not in ("Platform", "Fields sent") else "left")
    for platform_plan in the_plan.platforms.values():
        counts = platform_plan.counts()
        fields = short_labels(platform_plan.fields)
        changed = platform_plan.changed_fields()
        if changed:
            fields += "\nupdates change: " + ", ".join(f"{short_label(f)} ({n})" for f, n in changed.items())
        table.add_row(
            platform_plan.name, str(counts["create"]), str(counts["update"]), str(counts["unchanged"]),
            str(counts["leavers"]), fields,
        )  # fmt: skip
    print_table(table)
    if the_plan.left_out:  # --skip-invalid-rows: said by plan, and by apply before it asks
        out.print(f"Left out {the_plan.left_out} row(s) with errors (see 'provisioner roster check').")
    if the_plan.already_left:
        out.print(f"{the_plan.already_left} pupil(s) on the roster have a leaving date that has passed: no account is "
                  "made.")  # fmt: skip
    if the_plan.withheld:
        out.print(f"{the_plan.withheld} pupil(s) on the roster are withheld by an erasure request: nothing is sent "
                  "about them.")  # fmt: skip
    for platform_plan in the_plan.platforms.values():
        if not platform_plan.makes_accounts and platform_plan.to_send:
            out.print(f"{platform_plan.name} reads the MIS itself and makes its own accounts: apply only records "
                      f"the {len(platform_plan.to_send)} pupil(s) it holds, so the register is true.")  # fmt: skip
        if platform_plan.resuming:
            out.print(f"{platform_plan.name}: {platform_plan.resuming} row(s) of an interrupted apply will be "
                      "finished first.")  # fmt: skip
        fixes = platform_plan.fix_counts()
        if fixes:
            out.print(f"{platform_plan.name}: out of step with the roster: "
                      + ", ".join(f"{n} {FIX_WORDS[kind]}" for kind, n in fixes.items()) + ".")  # fmt: skip
        if platform_plan.counts()["leavers"]:
            out.print(f"{platform_plan.name}: {platform_plan.counts()['leavers']} account(s) belong to pupils no "
                      "longer on roll; the leaver cleanup acts on them.")  # fmt: skip


def issued(result: ApplyResult, root: Path) -> None:
    for batch in result.batches:
        resumed = " (finishing an interrupted apply)" if batch.resumed else ""
        if batch.path is None:
            out.print(f"{batch.platform}: {batch.rows} account(s) created or updated{resumed}")
        elif batch.path.is_dir():  # a set of files, uploaded together (School Data Sync)
            out.print(f"{batch.platform}: {batch.rows} change(s); upload every file in "
                      f"{shown_path(batch.path, root)}{resumed}")  # fmt: skip
        else:
            out.print(f"{batch.platform}: {batch.rows} row(s) in {shown_path(batch.path, root)}{resumed}")
        if batch.slips:
            out.print(f"  login slips: {' and '.join(shown_path(path, root) for path in batch.slips)}")
    for platform_id, count in result.recorded.items():
        out.print(f"{platform_id}: recorded {count} pupil(s) the platform reads from the MIS itself (nothing to upload)")
    if result.batches:
        out.print(f"Files are in {root / 'outbox'}.")
    if any(batch.slips for batch in result.batches):
        out.print("The slips hold first passwords: print them, hand them out, then delete the files.")


def cleanup(the_plan: CleanupPlan) -> None:
    table = Table(title=f"Leaver cleanup as of {the_plan.today.isoformat()} for a roster of {the_plan.pupils} pupils")
    for column in ("Platform", "Disable", "Delete", "Restore", "In service", "Waiting", "Next due"):
        table.add_column(column, justify="left" if column == "Platform" else "right")
    for platform in the_plan.platforms.values():
        counts = platform.counts()
        table.add_row(platform.name, str(counts["disable"]), str(counts["delete"]), str(counts["restore"]),
                      str(platform.in_service), str(len(platform.waiting)), platform.next_due() or "-")  # fmt: skip
    print_table(table)
    if the_plan.absent_only:
        out.print(f"[yellow]{the_plan.absent_only} pupil(s) are leavers only because this roster does not list "
                  "them[/]: check it is the whole school before going on.", markup=True)  # fmt: skip


def deletion_lists(batches: list[IssuedBatch], root: Path, accounts: str) -> None:
    """Where each deletion list is and the command that records it done. ``accounts`` says which
    in words, with ``{rows}`` for the count: "{rows} account(s) as", "the account"."""
    for batch in batches:
        files = " and ".join(shown_path(p, root) for p in (batch.slips or [batch.path]))
        out.print(f"{batch.platform}: delete {accounts.format(rows=batch.rows)} listed in {files}, then run "
                  f"'provisioner confirm {batch.platform} deleted --batch {batch.batch_id}'")  # fmt: skip


def erasure(the_plan: CleanupPlan) -> None:
    """What an erasure will do on each platform, before the admin agrees."""
    for platform in the_plan.platforms.values():
        out.print(f"{platform.name}: {len(platform.of(DELETE))} account {platform.erasure_effect}")
    if not the_plan.platforms:
        out.print("No platform holds this pupil's data now.")


def kept_files(paths: list[str]) -> None:
    for path in paths:
        out.print(f"[yellow]{path} is waiting for upload and holds an erased pupil's data[/]: take out their row "
                  "before uploading it, and delete the file once it is uploaded.", markup=True)  # fmt: skip
