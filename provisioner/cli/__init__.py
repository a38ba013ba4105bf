"""The command line: a thin front end over ``provisioner.facade``. Each command parses its
options, calls one facade method, and renders what comes back; ``common.run`` turns a domain
error into one message with the next step and a distinct exit code (``errors.ExitCode``)."""

from __future__ import annotations

import os
from typing import Annotated

from provisioner.cli import audit, leavers, provisioning, pupil, register, serve, workspace
from provisioner.cli.common import DEBUG, flag, group

app = group("Create minimal-data pupil accounts on EdTech platforms and keep the register of what each holds.")


@app.callback()
def _root(debug: Annotated[bool, flag("--debug", "Show a traceback on errors.")] = False) -> None:
    if debug:
        DEBUG["on"] = True


# The order of the help's command list: the job from start to finish.
app.add_typer(workspace.app)
app.add_typer(provisioning.app)
app.add_typer(leavers.app)
app.add_typer(workspace.roster_app, name="roster")
app.add_typer(leavers.leavers_app, name="leavers")
app.add_typer(register.register_app, name="register")
app.add_typer(pupil.pupil_app, name="pupil")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(serve.app)


def main() -> None:
    # Pupils' records pass through pydantic models: a pydantic plugin installed in the same
    # environment (an observability tool, say) would be handed every one. None is loaded, and
    # no start pays for looking for them (a scan of every installed package's metadata).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    app()
