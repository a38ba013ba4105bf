"""The audit log's command: check it against a head kept outside the workspace (on paper, with
a printed register), or against the head written after the last change."""

from __future__ import annotations

from typing import Annotated

import typer

from provisioner.cli import render
from provisioner.cli.common import JsonOpt, WorkspaceOpt, command, find_provisioner, group, print_json, run
from provisioner.errors import ExitCode

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
