"""The command line: a thin front end over ``provisioner.facade``. Each command parses its
options, calls one facade method, and renders what comes back; ``common.run`` turns a domain
error into one message with the next step and a distinct exit code (``errors.ExitCode``).

``main`` is the ``provisioner`` command. It loads the tree of commands (``tree``: ``app``, and
``tree_for``, which hands Typer only the part a run names) after pausing the garbage collector
for the start (``collector.pause_while_starting``): loading the command line, Typer and, for a
command, the core makes tens of thousands of objects that live as long as the process and no
garbage, and the collector walked them 83 times in a ``status`` of the demo workspace, a
twentieth of its time. ``common.run`` loads the core and turns the collector back on as a
command's own work begins. So that importing this package (for ``common``, say) loads nothing
more, ``app`` and ``tree_for`` load on first use."""

from __future__ import annotations

import os
import sys

from provisioner import collector
from provisioner.exports import loaded_on_first_use

__getattr__ = loaded_on_first_use(__name__, {"tree": ("app", "tree_for")})


def main() -> None:
    collector.pause_while_starting()
    # Pupils' records pass through pydantic models: a pydantic plugin installed in the same
    # environment (an observability tool, say) would be handed every one. None is loaded, and
    # no start pays for looking for them (a scan of every installed package's metadata).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from provisioner.cli.tree import tree_for

    tree_for(sys.argv[1:])()
