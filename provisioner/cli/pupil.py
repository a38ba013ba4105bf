"""A parent's requests about one pupil: what every processor holds, erasure, and lifting it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from provisioner.cli import render
from provisioner.cli.common import (
    AsOfOpt, JsonOpt, WorkspaceOpt, YesOpt, command, group, out, print_json, find_provisioner, run, today,
    typed_back_asker,
)  # fmt: skip
from provisioner.fields import short_label

pupil_app = group("A parent's requests about one pupil: what is held, erasure.")

PupilArg = Annotated[str, typer.Argument(
    metavar="PUPIL", help="The pupil's MIS id (admission number, leading zeros optional), UPN, or name: the whole "
    "name, or a surname or forename only one pupil has (several matches are listed with their ids).")]  # fmt: skip


@command(pupil_app, "show", help="What every processor holds about one pupil: the exact values sent and when, and "
         "what was deleted and when (a subject access request).")  # fmt: skip
def pupil_show(
    pupil: PupilArg,
    pdf: Annotated[Path | None, typer.Option(
        "--pdf", metavar="FILE", help="Also write the answer as a PDF (it holds pupil data).")] = None,  # fmt: skip
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    def action() -> None:
        the_provisioner = find_provisioner(workspace)
        report = the_provisioner.pupil_report(pupil, today(as_of))
        if pdf is not None:
            the_provisioner.write_pupil_report_pdf(report, pdf)
        if as_json:
            print_json(report)
            return
        out.print(f"[bold]{escape(render.pupil_heading(report))}[/]", markup=True)
        if report["erasure_requested"]:
            out.print("[yellow]An erasure was requested for this pupil.[/]", markup=True)
        for held in report["processors"].values():
            status = held.get("awaiting_upload") or held["status"].replace("_", " ")
            out.print(f"[bold]{escape(held['name'])}[/] ({escape(status)}, since {escape(str(held['since']))})",
                      markup=True)  # fmt: skip
            from_mis = held.get("read_from_mis", [])
            copied = f"(copied from the MIS by {held.get('copied_by') or 'the platform'}; this tool keeps no copy)"
            for name, value in held["fields"].items():
                out.print(f"  {short_label(name)}: {copied if name in from_mis else value}")
            for name, why in held.get("not_kept", {}).items():
                out.print(f"  {short_label(name)}: {why}")
        for gone in report["deleted"].values():
            out.print(f"{gone['name']}: deleted {gone['deleted']}")
        if not report["processors"]:
            out.print("No platform holds this pupil's data now.")
        names = ", ".join(r["name"] for r in report["other_recipients"])
        out.print(f"Shared outside this tool (see the register): {names}")
        suppliers = sorted({held["supplier"] for held in report["processors"].values() if held.get("supplier")})
        if suppliers:
            out.print(f"The platforms may also hold the pupil's work, scores and activity: ask {', '.join(suppliers)} "
                      "for a copy (the answer tells the parent you are asking, and that it will follow).")  # fmt: skip
        if pdf is not None:
            out.print(f"Wrote {pdf}: it holds the pupil's data, so give it only to the person who asked.")

    run(action, as_json)


@command(pupil_app, "erase", help="Erase one pupil from every platform at once, stop any later apply sending their "
         "data, then forget them here once every account is gone (the audit log keeps the events, unnamed).")  # fmt: skip
def pupil_erase(
    pupil: PupilArg,
    letter: Annotated[Path | None, typer.Option(
        "--letter", metavar="FILE", help="Also write a PDF letter for the parent saying what was done on each "
        "platform (it names the pupil).")] = None,  # fmt: skip
    yes: YesOpt = False,
    workspace: WorkspaceOpt = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    def action() -> None:
        from provisioner.jobs.requests import describe  # loaded by the command (see cli/common.py)

        the_provisioner = find_provisioner(workspace)
        confirm = typed_back_asker("pupil erase", render.erasure, yes, as_json)
        result = the_provisioner.erase_pupil(pupil, confirm=confirm, today=today(as_of))
        if letter is not None:
            the_provisioner.write_erasure_letter(result, letter)
        if as_json:
            print_json(result.as_dict())
            return
        cleanup = result.cleanup
        render.deletion_lists(cleanup.deletion_lists if cleanup else [], the_provisioner.workspace.root, "the account")
        for note in cleanup.notes if cleanup else []:
            out.print(note)
        render.kept_files(result.kept_files)
        who = describe(result.pupil)
        if result.purged:
            out.print(f"Every account of {who} is deleted and this tool has forgotten them.")
        elif not result.plan.platforms:
            out.print(f"No platform held the data of {who}; no apply will send it.")
        else:
            out.print(f"Waiting for: {', '.join(result.waiting)}. Then run 'provisioner purge' to forget {who} "
                      "here; no apply will send their data again. To give the parent a letter saying every account "
                      f"is gone, run 'provisioner pupil erase {result.pupil.shown_id} --letter FILE' again before "
                      "the purge.")  # fmt: skip
        if letter is not None:
            out.print(f"Wrote {letter}: the letter for the parent; it names the pupil, so give it only to them.")

    run(action, as_json)


@command(pupil_app, "allow", help="Lift an erasure request (the parent has agreed to accounts again): the next apply "
         "makes new ones.")  # fmt: skip
def pupil_allow(pupil: PupilArg, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    def action() -> None:
        from provisioner.jobs.requests import describe  # loaded by the command (see cli/common.py)

        allowed = find_provisioner(workspace).allow_pupil(pupil)
        if as_json:
            print_json({"pupil": allowed.pupil.shown_id if allowed.pupil else pupil.strip(), "lifted": allowed.lifted})
            return
        who = describe(allowed.pupil) if allowed.pupil else f"pupil {pupil.strip()}"
        if allowed.lifted:
            out.print(f"Lifted the erasure request for {who}: the next apply makes their accounts.")
        else:
            out.print(f"No erasure request was recorded for {who}; nothing changed.")

    run(action, as_json)
