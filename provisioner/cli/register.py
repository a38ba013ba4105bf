"""The processor register's commands: show it, check it, record approvals, fill its gaps, export
it (and the letters asking suppliers for what is missing)."""

from __future__ import annotations

from enum import Enum
from itertools import groupby
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from provisioner import times
from provisioner.cli import render
from provisioner.cli.common import (
    AsOfOpt, JsonOpt, WorkspaceOpt, command, group, open_in_editor, out, print_json, print_table, find_provisioner, run,
    shown_path, today,
)  # fmt: skip
from provisioner.errors import ExitCode
from provisioner.fields import short_labels

register_app = group("The processor register for governors: check, approve, fill its gaps, export.")


@command(register_app, "show", help="The register: each processor, the pupil data it holds, pupils held now, gaps "
         "and next review.")  # fmt: skip
def register_show(workspace: WorkspaceOpt = None, as_of: AsOfOpt = None, as_json: JsonOpt = False) -> None:
    def action() -> None:
        register, found = find_provisioner(workspace).check_register(today(as_of))
        if as_json:
            print_json(register.as_dict())
            return
        table = Table(title=f"{register.school}: processor register as of {register.today.isoformat()}")
        for column in ("Processor", "Role", "Pupil data", "Pupils held", "Gaps", "Next review"):
            table.add_column(column)
        for processor in register.processors:
            evidence = processor.evidence
            held = str(evidence.pupils_held) if evidence else "-"
            if processor.scope is not None and processor.scope.limited:  # which pupils it is limited to
                held += f" ({processor.scope.describe()})"
            if evidence and evidence.awaiting_upload:
                held += f"; {evidence.awaiting_upload} issued, not yet uploaded"
            table.add_row(processor.name, processor.role_in_short, processor.fields_text(short=True), held,
                          str(len(processor.gaps())), processor.next_review or "never approved")  # fmt: skip
        print_table(table)
        out.print(found.headline())
        out.print("Next: provisioner register check (the errors to fix)" if found.errors else
                  "Next: provisioner register export --format pdf (for the governors)")  # fmt: skip

    run(action, as_json)


@command(register_app, "check", help="Fail when the register is wrong or out of date (a platform sent fields its "
         "approved entry does not list, a required fact missing, a review date passed); count the facts still to "
         "collect from suppliers or to record, which do not fail it.")  # fmt: skip
def register_check(workspace: WorkspaceOpt = None, as_of: AsOfOpt = None, as_json: JsonOpt = False) -> None:
    def action() -> int:
        register, found = find_provisioner(workspace).check_register(today(as_of))
        if as_json:
            print_json({**found.as_dict(), "problems": [p.as_dict() for p in register.problems]})
        else:
            for problem in register.problems:
                style = "red" if problem.severity == "error" else "yellow"
                out.print(f"[{style}]{problem.severity}[/] {escape(problem.message)}", markup=True)
                if problem.hint and problem.severity == "error":
                    out.print(f"  Next: {problem.hint}")
            style = "green" if found.ok else "red"
            out.print(f"[{style}]{escape(found.headline())}[/]", markup=True)
        return ExitCode.OK if found.ok else ExitCode.REGISTER_PROBLEMS

    run(action, as_json)


@command(register_app, "approve", help="Record who approved the data a processor receives now (its field list before "
         "and after), or its periodic review; apply refuses a platform whose fields changed since their approval.")  # fmt: skip
def register_approve(
    entry: Annotated[str, typer.Argument(metavar="ID", help="The processor's id, e.g. purple-mash or dfe.")],
    by: Annotated[str, typer.Option("--by", metavar="NAME", help="Who approves (a name, printed on the register).")],
    role: Annotated[str, typer.Option("--role", metavar="ROLE", help="Their role.")] = "platform admin",
    next_review: Annotated[str | None, typer.Option(
        "--next-review", metavar="DATE", help="When it is next reviewed (YYYY-MM-DD; default a year from today).")] = None,  # fmt: skip
    note: Annotated[str, typer.Option(
        "--note", metavar="TEXT", help="Why, e.g. the governors' meeting that agreed it.")] = "",  # fmt: skip
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    def action() -> None:
        review = today(next_review) if next_review else None
        receipt = find_provisioner(workspace).approve(entry, by, role=role, today=today(as_of), next_review=review, note=note)
        if as_json:
            print_json(receipt.__dict__)
            return
        out.print(f"Approved {entry} at {times.shown(receipt.approved_at)} by {receipt.approved_by} ({receipt.role}).")
        out.print(f"  fields before: {short_labels(receipt.fields_before) or 'nothing'}")
        out.print(f"  fields now:    {short_labels(receipt.fields_after) or 'nothing'}")
        out.print(f"  next review:   {receipt.next_review}")

    run(action, as_json)


ProcessorArg = Annotated[str, typer.Argument(metavar="PROCESSOR", help="The processor's id, e.g. purple-mash or dfe.")]
ByOpt = Annotated[str | None, typer.Option(
    "--by", metavar="NAME", help="Who sets it, for the register's history (default: this computer's login name).")]  # fmt: skip


@command(register_app, "gaps", help="Every open question of the register: what to ask each supplier, and what the "
         "school records.")  # fmt: skip
def register_gaps(workspace: WorkspaceOpt = None, as_of: AsOfOpt = None, as_json: JsonOpt = False) -> None:
    def action() -> None:
        gaps = find_provisioner(workspace).register_gaps(today(as_of))
        if as_json:
            print_json({"gaps": [gap.as_dict() for gap in gaps]})
            return
        if not gaps:
            out.print("No open questions: every fact in the register is recorded.")
            return
        for name, of_one in groupby(gaps, key=lambda gap: gap.name):
            out.print(f"[bold]{escape(name)}[/]", markup=True)
            for gap in of_one:
                who = f"ask {gap.supplier}" if gap.who == "supplier" else "the school records it"
                out.print(f"  {gap.key} ({escape(who)}): {escape(gap.missing)}", markup=True)
        out.print(f"{len(gaps)} open question(s). Next: provisioner register set PROCESSOR KEY \"WHAT YOU LEARNED\", "
                  "or provisioner register export --format questions (letters to the suppliers)")  # fmt: skip

    run(action, as_json)


@command(register_app, "set", help="Record a fact in a register entry (the workspace's registers/PROCESSOR.toml), "
         "e.g. where a supplier stores pupils' data; checked as the register is, and kept in its history.")  # fmt: skip
def register_set(
    entry: ProcessorArg,
    key: Annotated[str, typer.Argument(metavar="KEY", help="The entry's key, e.g. hosting, contract or needs.FIELD "
                                       "('provisioner register gaps' shows the key of each gap).")],  # fmt: skip
    value: Annotated[str, typer.Argument(metavar="VALUE", help="What to record (a field list: names separated by "
                                         "commas).")],  # fmt: skip
    by: ByOpt = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    def action() -> None:
        provisioner = find_provisioner(workspace)
        edited = provisioner.set_register_value(entry, key, value, by=by)
        if as_json:
            print_json(edited.as_dict())
            return
        _show_edited(edited, provisioner.workspace.root)

    run(action, as_json)


@command(register_app, "edit", help="Open the workspace's registers/PROCESSOR.toml in your editor ($VISUAL or "
         "$EDITOR; Notepad on Windows), made from a template of the entry's keys first; checked when it closes.")  # fmt: skip
def register_edit(entry: ProcessorArg, by: ByOpt = None, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    def action() -> None:
        provisioner = find_provisioner(workspace)
        edited = provisioner.edit_register_entry(entry, open_editor=open_in_editor, by=by)
        if as_json:
            print_json(edited.as_dict())
            return
        _show_edited(edited, provisioner.workspace.root)

    run(action, as_json)


def _show_edited(edited, root: Path) -> None:
    where = shown_path(edited.path, root)
    if not edited.changes:
        out.print(f"Nothing changed in {edited.name}'s entry ({where}).")
        return
    for change in edited.changes:
        out.print(f"Set {change.key} of {edited.name} in {where} (by {change.changed_by}).")
    out.print(f"Open questions for {edited.name}: {edited.gaps_before} before, {edited.gaps_left} now.")
    if edited.fields_changed:
        out.print(f"[yellow]Its field list changed[/]: approve it again with 'provisioner register approve "
                  f"{edited.entry_id} --by \"YOUR NAME\"'.", markup=True)  # fmt: skip


class ExportFormat(str, Enum):
    pdf = "pdf"
    html = "html"
    xlsx = "xlsx"
    md = "md"
    notice = "notice"
    notice_docx = "notice-docx"
    questions = "questions"


@command(register_app, "export", help="Write the register for governors (PDF), as a web page, a spreadsheet, "
         "Markdown, or the privacy notice's section on the programs pupils use and who data is shared with "
         "(Markdown, or a Word document to paste in), or a letter to each supplier asking for the facts the register "
         "lacks.")  # fmt: skip
def register_export(
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", metavar="pdf|html|xlsx|md|notice|notice-docx|questions", help=(
        "pdf for governors; html, xlsx, md; notice: the privacy notice's section (notice-docx: as a Word "
        "document); questions: a letter (docx) to each supplier, in a folder."))] = ExportFormat.pdf,  # fmt: skip
    out_file: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="FILE", help="The file to write (default: in reports/).")] = None,  # fmt: skip
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    def action() -> int:
        provisioner = find_provisioner(workspace)
        path, register = provisioner.export_register(fmt.value, out=out_file, today=today(as_of))
        errors = sum(1 for p in register.problems if p.severity == "error")
        # Every export gives the audit log's head, for whoever keeps the register to keep with it.
        audit = provisioner.verify_audit().as_dict()
        if as_json:
            written = sorted(path.glob("*.docx")) if fmt is ExportFormat.questions else [path]
            print_json({"format": fmt.value, "path": str(path), "files": [str(p) for p in written], "errors": errors,
                        "audit": audit})  # fmt: skip
            return ExitCode.OK
        if fmt is ExportFormat.questions:
            letters = sorted(path.glob("*.docx"))
            out.print(f"Wrote {len(letters)} letter(s) in {path}" if letters else
                      "No letters to write: no supplier has a fact to ask for.")  # fmt: skip
            for letter in letters:
                out.print(f"  {letter.name}")
        else:
            out.print(f"Wrote {path}")
        render.audit_check(audit)
        if errors:
            out.print(f"[yellow]It shows {errors} error(s)[/]: see 'provisioner register check'.", markup=True)
        return ExitCode.OK

    run(action, as_json)


@command(register_app, "dpia", help="Write a draft DPIA for one platform on the ICO's seven steps: what the tool "
         "knows filled in (the data sent and why, pupils held, year groups, leavers, where the data goes, the "
         "contract), the school's judgements marked 'To decide', questions for the supplier, and sign-off boxes "
         "for the DPO and the headteacher.")  # fmt: skip
def register_dpia(
    platform: Annotated[str, typer.Argument(metavar="PLATFORM", help="The platform's id, e.g. tt-rockstars.")],
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="pdf|docx", help=(
        "pdf to print; docx (Word) to complete on screen."))] = "pdf",  # fmt: skip
    out_file: Annotated[Path | None, typer.Option(
        "--output", "--out", "-o", metavar="FILE", help="The file to write (default: in reports/).")] = None,  # fmt: skip
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    def action() -> None:
        path, draft = find_provisioner(workspace).write_dpia(platform, fmt=fmt, out=out_file, today=today(as_of))
        if as_json:
            print_json({"path": str(path), **draft.as_dict()})
            return
        out.print(f"Wrote {path}")
        out.print(f"  {len(draft.to_decide)} question(s) marked 'To decide' for the school; "
                  f"{len(draft.questions)} to send {draft.supplier} (step 3).")  # fmt: skip
        out.print("Next: complete it with your data protection officer; the headteacher signs it off (step 7).")

    run(action, as_json)
