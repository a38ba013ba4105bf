"""The tree of commands, and the part of it a run needs.

Typer turns the whole tree of commands into click commands before it parses a word, reading
each command's signature as it goes (a few milliseconds for the forty of them, on every run).
``main`` hands it only what the command line names (``tree_for``): the command or group asked
for, or, for the top-level help, each command's name and help without its options. ``app`` is
the whole tree, as the tests and any other caller use it."""

from __future__ import annotations

import copy
from typing import Annotated

import typer
from typer.models import CommandInfo, DefaultPlaceholder, TyperInfo

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


def tree_for(args: list[str]) -> typer.Typer:
    """The part of ``app`` a run with these arguments needs. The first word that is not an
    option names a command (``status``) or a group (``register``): the tree holds that alone,
    so its options, help and errors are the ones ``app`` gives. No word (``--help``, or
    nothing): an outline of every command, which shows the same top-level help. A word that
    names nothing: the whole tree, so click says so and suggests the nearest command."""
    word = next((arg for arg in args if not arg.startswith("-")), None)
    if word is None:
        return _outline()
    for info in app.registered_groups:
        if _group_name(info) == word:
            return _root_with(info)
        if _group_name(info) is None:
            for command in info.typer_instance.registered_commands:
                if _name(command) == word:
                    commands = group()
                    commands.registered_commands = [command]
                    return _root_with(TyperInfo(commands))
    return app


def _root_with(*infos: TyperInfo) -> typer.Typer:
    """The top level (its help and --debug) over only these groups."""
    root = group(app.info.help)
    root.registered_callback = app.registered_callback
    root.registered_groups = list(infos)
    return root


def _outline() -> typer.Typer:
    """Every command and group with its name and help, none with its options: what the
    top-level help lists. A command run from it would be given no options, so it is only
    handed a run that names no command."""
    infos = []
    for info in app.registered_groups:
        if _group_name(info) is None:
            commands = group()
            commands.registered_commands = [_listed(command) for command in info.typer_instance.registered_commands]
            infos.append(TyperInfo(commands))
        else:
            infos.append(TyperInfo(group(info.typer_instance.info.help), name=_group_name(info)))
    return _root_with(*infos)


def _listed(command: CommandInfo) -> CommandInfo:
    listed = copy.copy(command)
    listed.name = _name(command)
    listed.callback = _listed_only
    return listed


def _listed_only() -> None:
    raise AssertionError("a command of the help's outline was run")


def _name(command: CommandInfo) -> str:
    """A command's name as Typer gives it: its own, else its function's with dashes."""
    return command.name or command.callback.__name__.lower().replace("_", "-")


def _group_name(info: TyperInfo) -> str | None:
    """A group's name; None for the commands added at the top level (``add_typer`` without one)."""
    return info.name.value if isinstance(info.name, DefaultPlaceholder) else info.name
