"""How results are shown in the terminal: the roster summary, plans, what was issued, cleanups.
Field names appear in people's words (``Legal surname``, not ``legal_surname``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from provisioner.cli.common import out, print_problems, print_table, shown_path
from provisioner.fields import short_label, short_labels

# The core's words and types are imported in the functions that show them, so that --help
# loads none of the core (see cli/common.py); a command has loaded it by the time it renders.
if TYPE_CHECKING:
    from provisioner.delivery import ApplyResult, IssuedBatch
    from provisioner.jobs.requests import ErasureRequest
    from provisioner.models import Roster
    from provisioner.planning.cleanup import CleanupPlan
    from provisioner.planning.provisioning import Plan
    from provisioner.planning.reconcile import Reconciliation

ACTION_WORDS = {"create": "new account", "update": "update", "leaver": "leaver", "disable": "disable",
                "delete": "delete", "restore": "restore"}  # fmt: skip
FEW = 5  # names shown per platform and action before the question; --details shows them all

FIX_WORDS = {"license": "licence(s) to assign", "join": "class group place(s) to add",
             "leave": "class group place(s) to remove"}  # fmt: skip


def roster_summary(roster: Roster) -> None:
    from provisioner.models import year_group_label
    from provisioner.roster import LABELS

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
            f"[red]{roster.error_count} error(s) in {roster.invalid_rows} row(s)[/]: plan and apply will stop "
            "until they are fixed, or leave those rows out with --skip-invalid-rows.",
            markup=True,
        )
    else:
        out.print(f"[green]No errors.[/] {roster.warning_count} warning(s).", markup=True)


def matching(counts: dict[str, int]) -> None:
    """How a roster's pupils match the pupils the workspace holds (roster check)."""
    parts = [f"{counts['same_id']} by MIS id"]
    if counts["other_padding"]:
        parts.append(f"{counts['other_padding']} by MIS id written another way (zero-padding)")
    if counts["by_upn"]:
        parts.append(f"{counts['by_upn']} by UPN (a new MIS id, or none: re-linked at the next apply)")
    out.print("Against the pupils this workspace holds: " + "; ".join(parts) + f"; {counts['new']} not held yet; "
              f"{counts['not_listed']} held but not on this roster.")  # fmt: skip


def who(name: str, class_name: str) -> str:
    return f"{name} ({class_name})" if class_name else name or "(no name recorded)"


def _change_detail(change) -> str:
    """What happens to one pupil, in words: the fields an update changes, a leaver's reason."""
    from provisioner.planning.cleanup import REASON_WORDS

    if change.action == "update":
        return "changes " + short_labels(change.changed)
    reason = getattr(change, "reason", "")
    due = getattr(change, "due", None)
    words = REASON_WORDS.get(reason, reason)
    if due is not None and change.action in ("disable", "delete"):
        words += f"; due {due.isoformat()}"
    return words


def affected(title: str, changes: list, *, limit: int | None = None) -> None:
    """Every pupil a platform's changes affect (or the first ``limit`` of each action)."""
    if not changes:
        return
    if limit is None:
        table = Table(title=title)
        for column in ("Action", "Pupil", "Class", "What changes"):
            table.add_column(column)
        for change in changes:
            table.add_row(ACTION_WORDS.get(change.action, change.action), change.name or "(no name recorded)",
                          change.class_name, _change_detail(change))  # fmt: skip
        print_table(table)
        return
    by_action: dict[str, list] = {}
    for change in changes:
        by_action.setdefault(change.action, []).append(change)
    for action, listed in by_action.items():
        names = ", ".join(who(c.name, c.class_name) for c in listed[:limit])
        more = f" and {len(listed) - limit} more" if len(listed) > limit else ""
        out.print(f"{title}: {ACTION_WORDS.get(action, action)}: {names}{more}")


def plan_details(the_plan: Plan) -> None:
    """The plan, then every pupil each platform's changes affect."""
    plan(the_plan)
    if the_plan.relinked:
        relinked(the_plan.relinked)
    for platform_plan in the_plan.platforms.values():
        affected(platform_plan.name, platform_plan.affected)


def _first_names(by_platform: dict[str, list], every: str) -> None:
    """The first few pupils of each kind per platform, and the command that lists them all."""
    for name, changes in by_platform.items():
        affected(name, changes, limit=FEW)
    if any(len(changes) > FEW for changes in by_platform.values()):
        out.print(f"Every pupil: {every} --details")


def plan_question(roster: Path) -> Callable[[Plan], None]:
    """The plan as shown before apply asks: the counts and the first few names of each kind."""

    def show(the_plan: Plan) -> None:
        plan(the_plan)
        _first_names({p.name: p.affected for p in the_plan.platforms.values()}, f'provisioner plan "{roster}"')

    return show


def relinked(pairs: list, what: str = "held under other ids") -> None:
    """Pupils matched (or to be matched) to accounts held under other ids, one line each with both ids."""
    out.print(f"{len(pairs)} pupil(s) of this roster are {what}:")
    for pair in pairs:
        out.print(f"  row {pair.row}: {who(pair.name, pair.class_name)}, id {pair.roster_id} = held as "
                  f"{who(pair.held_name, pair.held_class)}, id {pair.held_id} (same {pair.by})")  # fmt: skip


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
    for warning in (w for p in the_plan.platforms.values() for w in p.warnings):
        out.print(f"Warning: {warning}.")
    if the_plan.left_out:  # --skip-invalid-rows: said by plan, and by apply before it asks
        out.print(f"Left out {the_plan.left_out} row(s) with errors (see 'provisioner roster check').")
    scopes(the_plan)
    if the_plan.relinked:
        out.print(f"{len(the_plan.relinked)} pupil(s) are matched by UPN to the accounts they hold (their MIS id "
                  "changed, or this export has none): their accounts are kept and take the new id at apply "
                  "(--details lists them).")  # fmt: skip
    if the_plan.pairable:
        relinked(the_plan.pairable, "new on this roster, and pair with a held pupil it does not list")
    if the_plan.doubtful:
        relinked(the_plan.doubtful, "matched by MIS id, but their legal name or date of birth is not the one "
                                    "recorded: check each is the same child before going on")  # fmt: skip
    if the_plan.partial:
        out.print("This roster is taken as partial: pupils it leaves out are not counted as absent.")
    if the_plan.already_left:
        out.print(f"{the_plan.already_left} pupil(s) on the roster have a leaving date that has passed: no account is "
                  "made.")  # fmt: skip
    if the_plan.withheld:
        out.print(f"{the_plan.withheld} pupil(s) on the roster are withheld by an erasure request: nothing is sent "
                  "about them.")  # fmt: skip
    for platform_plan in the_plan.platforms.values():
        if not platform_plan.makes_accounts and platform_plan.to_send:
            out.print(f"{platform_plan.name}: sent by {platform_plan.sent_by}: recorded, nothing sent (apply "
                      f"records the {len(platform_plan.to_send)} pupil(s) it holds, so the register is true).",
                      markup=False)  # fmt: skip
        if platform_plan.resuming:
            out.print(f"{platform_plan.name}: {platform_plan.resuming} row(s) of an interrupted apply will be "
                      "finished first.")  # fmt: skip
        if platform_plan.slips_lack:
            out.print(platform_plan.slips_lack, markup=False)
        fixes = platform_plan.fix_counts()
        if fixes:
            out.print(f"{platform_plan.name}: out of step with the roster: "
                      + ", ".join(f"{n} {FIX_WORDS[kind]}" for kind, n in fixes.items()) + ".")  # fmt: skip
        leavers = platform_plan.counts()["leavers"]
        if leavers:
            outside = platform_plan.scope_leavers
            whose = (f"pupils no longer on roll ({leavers - outside}) or on roll but outside its scope ({outside})"
                     if 0 < outside < leavers else "pupils on roll outside its scope" if outside
                     else "pupils no longer on roll")  # fmt: skip
            out.print(f"{platform_plan.name}: {leavers} account(s) belong to {whose}; the leaver cleanup acts on "
                      "them.")  # fmt: skip
        if not platform_plan.makes_accounts and platform_plan.out_of_scope:
            out.print(f"{platform_plan.name} takes its pupils from the MIS through {platform_plan.sent_by}: its "
                      f"scope changes only what this tool records, so make {platform_plan.sent_by} share the same "
                      "pupils.", markup=False)  # fmt: skip


def scopes(the_plan: Plan) -> None:
    """Which pupils each platform serves, and how many on roll it does not, under the plan's table."""
    from provisioner.connector import ALL_YEAR_GROUPS

    everyone = [p.name for p in the_plan.platforms.values() if p.scope == ALL_YEAR_GROUPS and not p.out_of_scope]
    for platform_plan in the_plan.platforms.values():
        if platform_plan.name in everyone:
            continue
        outside = (f": {platform_plan.out_of_scope} pupil(s) on roll are outside it and get no account there"
                   if platform_plan.out_of_scope else "")  # fmt: skip
        out.print(f"{platform_plan.name} serves {platform_plan.scope} ({platform_plan.scope_source}){outside}.")
    if everyone:
        out.print(f"Serving all year groups: {', '.join(everyone)}.")


def issued(result: ApplyResult, root: Path) -> None:
    shown: set[tuple[Path, ...]] = set()  # combined cards: every platform's batch names the same files
    for batch in result.batches:
        resumed = " (finishing an interrupted apply)" if batch.resumed else ""
        if batch.path is None:
            out.print(f"{batch.platform}: {batch.rows} account(s) created or updated{resumed}")
        elif batch.path.is_dir():  # a set of files, uploaded together (School Data Sync)
            out.print(f"{batch.platform}: {batch.rows} change(s); upload every file in "
                      f"{shown_path(batch.path, root)}{resumed}")  # fmt: skip
        else:
            out.print(f"{batch.platform}: {batch.rows} row(s) in {shown_path(batch.path, root)}{resumed}")
        if batch.slips and tuple(batch.slips) not in shown:
            shown.add(tuple(batch.slips))
            out.print(f"  login slips: {' and '.join(shown_path(path, root) for path in batch.slips)}")
        elif batch.slips:
            out.print("  login slips: on the same cards as above, one per child")
    for platform_id, count in result.recorded.items():
        out.print(f"{platform_id}: recorded {count} pupil(s) the platform reads from the MIS itself (nothing to upload)")
    for earlier in result.earlier_slips:
        out.print(f"{earlier.platform}: login slips of batch {earlier.batch_id}, from an apply that stopped before it "
                  "finished (their passwords are set on the platform): "
                  f"{' and '.join(shown_path(path, root) for path in earlier.files)}")  # fmt: skip
    if result.batches:
        out.print(f"Files are in {root / 'outbox'}.")
    if result.earlier_slips or any(batch.slips for batch in result.batches):
        out.print("The slips hold first passwords: print them, hand them out, then delete the files.")


def cleanup_details(the_plan: CleanupPlan) -> None:
    """The cleanup, then every pupil it acts on now and each waiting leaver's next step."""
    cleanup(the_plan)
    for platform in the_plan.platforms.values():
        affected(platform.name, platform.steps)
        affected(f"{platform.name}, later", platform.waiting)


def cleanup_question(roster: Path) -> Callable[[CleanupPlan], None]:
    """The cleanup as shown before leavers apply asks: the counts and the first few names."""

    def show(the_plan: CleanupPlan) -> None:
        cleanup(the_plan)
        _first_names({p.name: p.steps for p in the_plan.platforms.values()}, f'provisioner leavers plan "{roster}"')

    return show


def cleanup(the_plan: CleanupPlan) -> None:
    from provisioner.planning.cleanup import OUT_OF_SCOPE, REASON_WORDS

    table = Table(title=f"Leaver cleanup as of {the_plan.today.isoformat()} for a roster of {the_plan.pupils} pupils")
    for column in ("Platform", "Disable", "Delete", "Restore", "In service", "Waiting", "Next due"):
        table.add_column(column, justify="left" if column == "Platform" else "right")
    for platform in the_plan.platforms.values():
        counts = platform.counts()
        table.add_row(platform.name, str(counts["disable"]), str(counts["delete"]), str(counts["restore"]),
                      str(platform.in_service), str(len(platform.waiting)), platform.next_due() or "-")  # fmt: skip
    print_table(table)
    for platform in the_plan.platforms.values():
        due, waiting = platform.reasons(), platform.reasons(waiting=True)
        for when, reasons in (("due now", due), ("waiting", waiting)):
            if reasons:
                out.print(f"{platform.name}, {when}: " + ", ".join(f"{n} {REASON_WORDS.get(reason, reason)}"
                                                                    for reason, n in reasons.items()) + ".")  # fmt: skip
        if due.get(OUT_OF_SCOPE) or waiting.get(OUT_OF_SCOPE):
            out.print(f"  Its scope: {platform.scope}. A pupil back in scope before deletion gets the account back.")
        if platform.leaver_effect and (platform.counts()["delete"] or platform.waiting):
            out.print(f"  {platform.leaver_effect}.", markup=False)
    if the_plan.partial:
        out.print("This roster is taken as partial: pupils it leaves out are not counted as absent.")
    if the_plan.absent_only:
        out.print(f"[yellow]{the_plan.absent_only} pupil(s) are leavers only because this roster does not list "
                  "them[/]: check it is the whole school before going on.", markup=True)  # fmt: skip


def deletion_lists(batches: list[IssuedBatch], root: Path, accounts: str) -> None:
    """Where each deletion list is and the command that records it done. ``accounts`` says which
    in words, with ``{rows}`` for the count: "{rows} account(s) as", "the account"."""
    for batch in batches:
        files = " and ".join(shown_path(p, root) for p in (batch.slips or [batch.path]))
        if batch.leaver_upload:
            out.print(f"{batch.platform}: upload the folder {files}, which leaves out {batch.rows} account(s) to be "
                      f"marked inactive (not deleted), then run 'provisioner confirm {batch.platform} uploaded --batch "
                      f"{batch.batch_id}': a deletion list for them follows")  # fmt: skip
            continue
        out.print(f"{batch.platform}: delete {accounts.format(rows=batch.rows)} listed in {files}, then run "
                  f"'provisioner confirm {batch.platform} deleted --batch {batch.batch_id}'")  # fmt: skip


def erasure(request: ErasureRequest) -> None:
    """Which child, and what an erasure will do on each platform, before the admin agrees."""
    from provisioner.planning.cleanup import DELETE

    out.print(f"[bold]{escape(request.question)}[/]", markup=True)
    for platform in request.plan.platforms.values():
        if not platform.of(DELETE):  # an erasure run again: its deletion list was issued the first time
            out.print(f"  {platform.name}: already on a deletion list, waiting for you to confirm it")
            continue
        out.print(f"  {platform.name}: {len(platform.of(DELETE))} account {platform.erasure_effect}")
    if request.known and not request.plan.platforms:
        out.print("  No platform holds this pupil's data now.")


def pupil_heading(report: dict) -> str:
    """The child an answer is about: "Ava Ali (Oak), id 003337, Year 3"."""
    from provisioner.models import year_group_label

    if not report.get("name"):
        return f"Pupil {report.get('id')} (no name recorded)"
    year = f", {year_group_label(report['year_group'])}" if report.get("year_group") else ""
    return f"{who(report['name'], report.get('class', ''))}, id {report.get('id')}{year}"


def kept_files(paths: list[str]) -> None:
    for path in paths:
        out.print(f"[yellow]{escape(path)} is waiting for upload and holds an erased pupil's data[/]: take out their "
                  "row before uploading it, and delete the file once it is uploaded.", markup=True)  # fmt: skip


RECONCILE_LISTS = (
    ("still_present", "Still on {name} although their deletion was asked (not counted deleted)"),
    ("unknown", "In the export but not made by this tool (look at these on {name})"),
    ("differences", "Name or class differ from what the tool last sent"),
    ("missing", "Held by the tool as in use but not in the export"),
)


def reconciliation(result: Reconciliation) -> None:
    """A reconcile's four lists (names and usernames, on the admin's own terminal), what the
    export proved, and what to do next."""
    counts = result.counts()
    out.print(f"{result.name}: {counts['rows']} row(s) in the export of {result.export_date}, read from "
              + ", ".join(f"'{header}'" for header in result.columns.values()))  # fmt: skip
    for key, title in RECONCILE_LISTS:
        found = getattr(result, key)
        if not found:
            continue
        out.print(f"[bold]{escape(title.format(name=result.name))}: {len(found)}[/]", markup=True)
        for item in found:
            line = who(item.name, item.class_name) if item.name else "(no name)"
            line += f", username {item.username}" if item.username else ""
            line += f", row {item.row}" if item.row else ""
            if item.changes:
                line += ": " + "; ".join(f"{short_label(field)} sent '{sent}', export '{now}'"
                                         for field, (sent, now) in item.changes.items())  # fmt: skip
            out.print(f"  {line}")
    if result.withheld:
        out.print(f"[yellow]No deletion recorded[/]: {escape(result.withheld)}.", markup=True)
    elif result.proved:
        out.print(f"Recorded: {result.proved} deletion(s) proved by {result.name}'s export of {result.export_date}.")
    if not any(counts[key] for key, _ in RECONCILE_LISTS):
        out.print(f"The export matches: every account the tool holds on {result.name} is there as sent, and "
                  "every account it asked to delete is gone.")  # fmt: skip
    if result.still_present:
        out.print(f"Next: delete the {len(result.still_present)} account(s) still there on {result.name}, download "
                  f"its pupil export again and run 'provisioner reconcile {result.platform} FILE'.")  # fmt: skip
    if result.unknown:
        out.print(f"Next: look at the {len(result.unknown)} account(s) this tool did not make: made by hand, by "
                  "another tool, or for a pupil already forgotten. Delete any for a child who has left.")  # fmt: skip
    if result.differences or result.missing:
        out.print("Next: 'provisioner status' lists import files awaiting upload; one not uploaded explains missing "
                  f"accounts and old names or classes. Otherwise they were changed on {result.name} by hand.")  # fmt: skip


def audit_check(check: dict) -> None:
    """The audit log's verdict (``ChainCheck.as_dict``): intact with the head to keep, or what is wrong."""
    for rechained in check["rechained"]:
        if rechained.get("old_chain") != "intact":
            out.print(f"[yellow]Before the log was keyed, its old chain was {escape(rechained['old_chain'])}[/] "
                      f"(of {rechained['events']} events): that part of the record was changed before it was "
                      "moved.", markup=True)  # fmt: skip
    for again in check["reanchored"]:
        out.print(f"The log was anchored again after {again['events']} events, when its head file recorded "
                  f"{again['recorded_head'] or 'nothing'}: the events between are not in it.")  # fmt: skip
    if check["intact"]:
        kept = check["checked_against"]
        against = f", and it passes through the head {kept}" if kept and kept != check["head"] else ""
        out.print(f"Audit log: {check['entries']} entries, the chain intact{against}.")
        out.print(f"Audit log head: {check['head']} (keep it: 'provisioner audit verify --head {check['head']}' "
                  "checks later that nothing before it was changed or removed).")  # fmt: skip
    else:
        out.print(f"[bold red]Audit log: BROKEN[/]: {escape(check['problem'])}. Keep a copy of the workspace as it "
                  "is and tell your data protection officer.", markup=True)  # fmt: skip
        out.print(f"Audit log head now: {check['head']}.")
