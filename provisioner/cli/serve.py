"""``provisioner serve``: the web interface on this computer, for those who would rather not use
a terminal. The command only starts it; every page calls the same facade the commands do."""

from __future__ import annotations

from typing import Annotated

import typer

from provisioner.cli.common import WorkspaceOpt, command, err, find_provisioner, flag, group, out, run
from provisioner.errors import Interrupted

app = group()


@command(app, help="Open the web interface for this workspace in your browser: the whole termly job from a page "
         "(with --workspace naming a folder that is not one yet, its first page makes the workspace). It listens on "
         "this computer only; stop it with Ctrl-C or its Stop button.")  # fmt: skip
def serve(
    workspace: WorkspaceOpt = None,
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="The port to listen on (default: a free one).")] = 0,
    host: Annotated[str, typer.Option(
        "--host", metavar="ADDRESS", help="A loopback address to listen on (default 127.0.0.1).")] = "127.0.0.1",  # fmt: skip
    no_browser: Annotated[bool, flag("--no-browser", "Print the address without opening the browser.")] = False,
) -> None:
    def action() -> None:
        from provisioner.facade import is_workspace
        from provisioner.web.server import Server  # the web libraries load only when it starts

        if workspace is not None and not is_workspace(workspace):
            root = workspace.resolve()  # a new workspace: the first page asks for the school's details
            out.print(f"There is no workspace in {root} yet: the page asks for the school's details to make one.")
        else:
            root = find_provisioner(workspace).workspace.root
        server = Server(root, host, port)

        def ready(address: str) -> None:
            out.print(f"The interface for {root} is at:")
            out.print(f"  {address}")
            out.print("The address holds a one-time key: keep it to yourself. Stop with Ctrl-C or the page's Stop "
                      "button.")  # fmt: skip

        server.run(ready, open_browser=not no_browser)
        cut_short = server.cut_short()
        if cut_short:
            work = " and ".join(title[0].lower() + title[1:] for title in cut_short)  # "applying the roster"
            raise Interrupted(f"the interface stopped while {work}: that did not finish",
                              hint="start the interface again and do it again with the same roster: it finishes "
                                   "what was begun")  # fmt: skip
        err.print("Stopped.")

    run(action)
