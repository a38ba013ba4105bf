"""The audit log's command: check it against a head kept outside the workspace (on paper, with
a printed register), or against the head written after the last change."""

from __future__ import annotations

from typing import Annotated

import typer

from provisioner.cli import render
from provisioner.cli.common import (
    JsonOpt, WorkspaceOpt, YesOpt, can_ask, command, find_provisioner, group, out, print_json, run,
)  # fmt: skip
from provisioner.errors import Aborted, ExitCode, UsageError

audit_app = group("The audit log: check that nothing in it was changed or removed.")


@command(audit_app, "verify", help="Check the audit log: every event's MAC under the workspace's audit key, and that "
         "the log still passes through a head kept before (by default the one written after the last change).")  # fmt: skip
def audit_verify(
    head: Annotated[str | None, typer.Option(
        "--head", metavar="HEAD", help="A head kept before, as printed on the register or by status "
        "(e.g. 5123:9f3a-b1c2-d4e5-f607-1829).")] = None,  # fmt: skip
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    def action() -> int:
        check = find_provisioner(workspace).verify_audit(head).as_dict()
        if as_json:
            print_json(check)
        else:
            render.audit_check(check)
        return ExitCode.OK if check["intact"] else ExitCode.AUDIT_BROKEN

    run(action, as_json)


@command(audit_app, "reanchor", help="Anchor the audit log again when it no longer reaches its head file because the "
         "state was restored from a backup without that backup's audit-head.txt, or the file was lost. Recorded as "
         "an event; refused while an event itself does not verify.")  # fmt: skip
def audit_reanchor(workspace: WorkspaceOpt = None, yes: YesOpt = False, as_json: JsonOpt = False) -> None:
    def action() -> None:
        if not yes:
            if as_json or not can_ask():
                raise UsageError("audit reanchor needs a yes", hint="check why the log lost its head first, then "
                                 "pass --yes")  # fmt: skip
            if not typer.confirm("The events since the recorded head are not in this log. Anchor it again?",
                                 default=False):  # fmt: skip
                raise Aborted("nothing was changed")
        before, after = find_provisioner(workspace).reanchor_audit()
        if as_json:
            print_json({"recorded_head": before.text if before else None, "head": after.text})
            return
        out.print(f"Anchored the audit log again: the head recorded was {before.text if before else 'missing'}; "
                  f"its head now is {after.text} (an audit.reanchored event says so). A head kept on paper that counts "
                  "more events than the log holds will not verify again: tell whoever keeps it.")  # fmt: skip

    run(action, as_json)
