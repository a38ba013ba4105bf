"""What every command shares: the consoles, the options, the one place errors become a message
and an exit code, and the question a command asks before it changes anything."""

from __future__ import annotations

import importlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import traceback
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from typer.core import TyperCommand, TyperGroup

from provisioner import collector
from provisioner.errors import Aborted, ExitCode, ProvisionerError, RosterError, UsageError, os_fault

if TYPE_CHECKING:
    from provisioner.facade import Provisioner
    from provisioner.models import Problem

# The command line loads the core (the facade, and with it pydantic and every module of the
# job) only when a command runs, not to show --help: the modules under cli/ import it in the
# functions that call it (tests/test_startup.py holds --help to loading none of it).

# Soft wrapping: a line is never broken by the tool, only by the terminal, so what a script or
# a test reads does not depend on the terminal's width. Tables are laid out at least
# TABLE_MIN_WIDTH wide (a narrower terminal wraps their lines) and never cut a cell short.
TABLE_MIN_WIDTH = 80
# Markup off unless a call asks for it (markup=True, its values escaped): what is printed names
# settings sections ("[platforms.ixl]") and holds pupils' names and classes, none of it markup.
# Emoji codes off too: a class named ":star: group" is shown as typed, not as a star (and rich's
# table of emoji codes is not loaded).
# Control characters never reach the terminal (``TerminalConsole``).


def visible(text: str) -> str:
    """Text with every character a terminal would act on (an escape sequence clears the screen,
    sets the window's title or makes a link; a C1 code does the same in one byte; a direction
    override reverses what follows) shown as a symbol of the same length: U+241B for ESC and
    the control pictures for the other C0 codes, U+FFFD for the rest. Tab and newline stay."""
    if text.isprintable():
        return text
    return text.translate(_CONTROL_PICTURES)


_CONTROL_PICTURES = {code: 0x2400 + code for code in range(0x20) if code not in (0x09, 0x0A)}
_CONTROL_PICTURES |= {0x7F: 0x2421} | {code: 0xFFFD for code in range(0x80, 0xA0)}
_CONTROL_PICTURES |= {code: 0xFFFD for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


class TerminalConsole(Console):
    """A console that turns every text it is given (a line, a table's cell, a title) into
    ``visible`` text before it is styled: a roster's cell or a settings value with an escape
    sequence in it is shown, never run. Rich's own styling is added after, so it still works."""

    def render_str(self, text: str, **kwargs) -> Text:
        return super().render_str(visible(text), **kwargs)


out = TerminalConsole(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = TerminalConsole(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)
for _console in (out, err):
    _console.width = max(_console.width, TABLE_MIN_WIDTH)
DEBUG = {"on": bool(os.environ.get("PROVISIONER_DEBUG"))}


# Typer's parameter classes come from click (vendored in newer Typer), so they are known here
# by what they do, not imported.


def _plain_help_option(option):
    if option is not None:
        option.metavar = ""  # "--help  Show this message and exit.", without a <bool>
    return option


class Command(TyperCommand):
    """Usage lines in plain words: ``plan [OPTIONS] ROSTER``, not ``{roster}``; an argument's
    name (ROSTER, DIR) says what it is, with no ``<path>`` beside it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.param_type_name == "argument":
                param.display_type_rich = lambda ctx=None: None

    def make_context(self, info_name, args, parent=None, **extra):
        """A mistyped option or a missing argument is click's usage error (exit 2, usage on stderr);
        given --json, it is answered on stdout as JSON too, as every other failure is."""
        wants_json = "--json" in args
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except Exception as exc:
            if wants_json and getattr(exc, "exit_code", None) == ExitCode.USAGE and hasattr(exc, "format_message"):
                path = f"{parent.command_path} {info_name}" if parent is not None else info_name
                _json_error(True, exc.format_message(), f"see '{path} --help'", ExitCode.USAGE)
            raise

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = param.metavar or (param.name or "").upper()
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def get_help_option(self, ctx):
        return _plain_help_option(super().get_help_option(ctx))


class Group(TyperGroup):
    def get_help_option(self, ctx):
        return _plain_help_option(super().get_help_option(ctx))


def group(help: str | None = None) -> typer.Typer:
    """A command group whose help and usage read as a person's (see ``Command``)."""
    return typer.Typer(cls=Group, help=help, no_args_is_help=True, pretty_exceptions_enable=False,
                       add_completion=False)  # fmt: skip


def command(app: typer.Typer, name: str | None = None, **kwargs):
    return app.command(name, cls=Command, **kwargs)


# Options. Each has a metavar, so help shows DIR, FILE, ID or nothing rather than <path> or <bool>.

WorkspaceOpt = Annotated[Path | None, typer.Option(
    "--workspace", "-w", metavar="DIR", help="The workspace folder (else $PROVISIONER_WORKSPACE, else here).")]  # fmt: skip
JsonOpt = Annotated[bool, typer.Option("--json", metavar="", help="Print machine-readable JSON instead of tables.")]
RosterArg = Annotated[Path, typer.Argument(metavar="ROSTER", help="The roster exported from the MIS (xlsx or csv).")]
PlatformOpt = Annotated[list[str] | None, typer.Option(
    "--platform", "-p", metavar="ID", help="Only this platform, e.g. purple-mash (repeatable).")]  # fmt: skip
SkipOpt = Annotated[bool, typer.Option(
    "--skip-invalid-rows", metavar="", help="Leave out rows with errors (they are listed) instead of stopping.")]  # fmt: skip
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", metavar="DATE", help="Act as if today were this date (YYYY-MM-DD).")]  # fmt: skip
YesOpt = Annotated[bool, typer.Option("--yes", "-y", metavar="", help="Go ahead without asking.")]
DetailsOpt = Annotated[bool, typer.Option(
    "--details", metavar="", help="List every pupil affected: name, class, action and what changes.")]  # fmt: skip
PartialOpt = Annotated[bool, typer.Option(
    "--partial-roster", metavar="",
    help="The file lists only some pupils on purpose: nobody it leaves out is counted as absent.")]  # fmt: skip
DifferentOpt = Annotated[bool, typer.Option(
    "--different-pupils", metavar="",
    help="The new pupils the plan pairs with held pupils under other ids are other children: new accounts.")]  # fmt: skip
AllowLargeOpt = Annotated[bool, typer.Option(
    "--allow-large-cleanup", metavar="",
    help="Go ahead although more than the set share of a platform's pupils would be leavers at once.")]  # fmt: skip


def flag(name: str, help: str, short: str | None = None) -> Any:
    return typer.Option(name, *([short] if short else []), metavar="", help=help)


def run(action: Callable[[], int | None], as_json: bool = False) -> None:
    """Call the core; map expected errors to one message and an exit code, never a traceback.
    With ``as_json`` the error is also answered on stdout as JSON, for a script to read.
    Every command's action calls the core: it loads here, as the last of the start, and then the
    garbage collector, paused for the start, is back on (``collector.pause_while_starting``)."""
    importlib.import_module("provisioner.facade")
    collector.resume_after_starting()
    try:
        code = action() or ExitCode.OK
    except Aborted as exc:
        err.print(f"Stopped: {exc.message}.")
        code = exc.exit_code
        _json_error(as_json, exc.message, exc.hint, code)
    except (ProvisionerError, OSError) as raised:
        exc = os_fault(raised) if isinstance(raised, OSError) else raised  # a full disk, a folder it cannot write
        problems = exc.problems if isinstance(exc, RosterError) and exc.problems else []
        if problems:
            # The rows' problems; a problem with the file as a whole is the message below.
            print_problems([p for p in problems if p.row is not None], err, 20)
        # Escaped: a message names settings sections ("[platforms.ixl]"), which are not markup.
        err.print(f"[bold red]Error:[/] {escape(exc.message)}.", markup=True)
        if exc.hint:
            err.print(f"Next: {exc.hint}.")  # not markup: a section name such as [roster.columns] stays as written
        if DEBUG["on"]:
            traceback.print_exc()
        code = exc.exit_code
        _json_error(as_json, exc.message, exc.hint, code, problems)
    except KeyboardInterrupt:
        err.print("Interrupted. Run the same command again to finish: it picks up where it stopped.")
        code = ExitCode.INTERRUPTED
    except typer.Abort:  # Ctrl-C (or the end of input) at a question: asked before anything changes
        err.print("Stopped at the question: nothing was changed.")
        code = ExitCode.INTERRUPTED
    except Exception as exc:  # noqa: BLE001 (the last line of defence)
        if DEBUG["on"]:
            traceback.print_exc()
        err.print(f"[bold red]Unexpected error[/] ({type(exc).__name__}). It stopped there: what was finished "
                  "before it is recorded.", markup=True)  # fmt: skip
        err.print("Next: run again with --debug for the details, and report them.")
        code = ExitCode.UNEXPECTED
        _json_error(as_json, f"unexpected error ({type(exc).__name__})", "run again with --debug for the details",
                    code)  # fmt: skip
    raise typer.Exit(int(code))


def _json_error(as_json: bool, message: str, hint: str | None, code: int, problems: Sequence = ()) -> None:
    """The failure as one JSON object on stdout: ``code`` names the exit status (``exit_code``),
    ``next`` says what to do (``hint``, its older name, kept for scripts that read it)."""
    if as_json:
        print_json({"error": {"code": ExitCode(code).name.lower(), "message": message, "next": hint, "hint": hint,
                              "exit_code": int(code), "problems": [p.as_dict() for p in problems]}})  # fmt: skip


def today(as_of: str | None) -> date | None:
    """The day given by --as-of; without it None, which the facade takes as today on the school's clock."""
    if as_of is None:
        return None
    try:
        return date.fromisoformat(as_of)
    except ValueError:
        raise UsageError(f"--as-of {as_of!r} is not a date", hint="write it as YYYY-MM-DD, e.g. 2026-09-01") from None


def find_provisioner(workspace: Path | None) -> Provisioner:
    """The workspace named by --workspace, else $PROVISIONER_WORKSPACE, else the current folder."""
    from provisioner.facade import Provisioner

    found = Provisioner.find(workspace)
    for notice in found.check_access():
        err.print(f"Warning: {notice}.")
    return found


def print_json(data: Any) -> None:
    # ASCII with \u escapes: valid JSON whatever code page a redirected Windows console uses.
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def print_table(table: Table) -> None:
    """A table whose every cell is shown whole: never cut short with an ellipsis, whatever the width."""
    for column in table.columns:
        column.overflow = "fold"
    out.print(table)


def print_problems(problems: Sequence[Problem], console: Console, limit: int | None = None) -> None:
    """Each kind of problem once: the problems with the same severity, column and message are
    one line with their count and first rows, so a letter lost in 57 names is one line to read,
    not 57. ``limit`` counts lines.

    The cells themselves (``Problem.value``, e.g. '?ukasz') are shown here, on the admin's own
    terminal, as the quickest way to find and fix them; JSON and logs never carry them."""
    groups: dict[tuple, list[Problem]] = {}
    for problem in problems:
        groups.setdefault((problem.severity, problem.column, problem.message), []).append(problem)
    lines = list(groups.values())
    for group in lines if limit is None else lines[:limit]:
        style = "red" if group[0].severity == "error" else "yellow"
        console.print(f"[{style}]{group[0].severity}[/] {escape(problem_line(group))}", markup=True)
    if limit is not None and len(lines) > limit:
        more = sum(len(group) for group in lines[limit:])
        console.print(f"... and {more} more (see 'provisioner roster check FILE').")


def problem_line(group: Sequence[Problem]) -> str:
    """One line for problems of one kind: where (the row, or the count and the first rows), what,
    and the cells' values where known."""
    from provisioner.models import rows_text

    first = group[0]
    rows = [p.row for p in group if p.row is not None]
    where = []
    if len(group) == 1:
        if first.row is not None:
            where.append(f"row {first.row}")
    if first.column:
        where.append(f"column '{first.column}'")
    if len(group) > 1:
        where.append(f"{len(group)} rows ({rows_text(rows)})" if rows else f"{len(group)} times")
    line = f"{', '.join(where)}: {first.message}" if where else first.message
    values = list(dict.fromkeys(shown_value(p.value) for p in group if p.value))
    if values:
        listed = ", ".join(values[:3]) + (", ..." if len(values) > 3 else "")
        line += f" (the cell: {listed})" if len(group) == 1 else f" (e.g. {listed})"
    return line


def shown_value(text: str, width: int = 30) -> str:
    """A cell's text for the terminal, quoted: control and invisible characters written as escapes
    (a bell or a zero-width space would otherwise print as nothing, or ring), long text cut."""
    visible = "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch)[0] == "C" else ch
        for ch in text
    )
    if len(visible) > width:
        visible = visible[: width - 3] + "..."
    return f"'{visible}'"


def can_ask() -> bool:
    """Whether someone is there to answer a question (stdin is a terminal). A test stands in
    for a terminal by replacing this."""
    return sys.stdin.isatty()


def asker(command: str, question: str, show: Callable[[Any], None], yes: bool, as_json: bool,
          ask: Callable[[Any], bool] | None = None):  # fmt: skip
    """The confirm callback of a command that changes things: show the plan, then ask (or not).
    ``ask(plan)`` asks a question of its own in place of a yes/no one."""
    if as_json and not yes:
        raise UsageError(f"{command} --json cannot ask for a yes", hint="add --yes, after checking the plan")

    def confirm(the_plan: Any) -> bool:
        if not as_json:
            show(the_plan)
        if yes:
            return True
        if not can_ask():
            raise UsageError(f"{command} needs a yes before it changes anything",
                             hint="pass --yes to go ahead without asking")  # fmt: skip
        return ask(the_plan) if ask else typer.confirm(question, default=False)

    return confirm


def typed_back_asker(command: str, show: Callable[[Any], None], yes: bool, as_json: bool):
    """The confirm callback of a command that acts on one named person and cannot be undone:
    show the plan (it states its own question), then the admin types back what it names. A
    y at a y/N question goes ahead whichever child a mistyped number found; typing the name
    does not. The plan carries the rule (``type_back``, the prompt; ``confirmed_by(text)``,
    whether the text names them), so every front end asks the same."""

    def typed_back(the_plan: Any) -> bool:
        typed = typer.prompt(visible(the_plan.type_back), default="", show_default=False)
        if the_plan.confirmed_by(typed):
            return True
        err.print(f"'{typed.strip()}' is not the name or id asked for." if typed.strip() else "Nothing was typed.")
        return False

    return asker(command, "", show, yes, as_json, typed_back)


def shown_path(path: Path, root: Path) -> str:
    """A path as the admin finds it: relative to the workspace where it is inside it."""
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def open_in_editor(path: Path) -> None:
    """Open a file in the person's editor and return once it is closed: $VISUAL, else $EDITOR
    (a command, with its options), else Notepad on Windows, else the first of sensible-editor,
    nano and vi found. (Typer's own copy of click has no ``edit``.)"""
    command = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if command:
        argv = shlex.split(command, posix=os.name != "nt")
    elif os.name == "nt":
        argv = ["notepad"]
    else:
        found = next((shutil.which(name) for name in ("sensible-editor", "nano", "vi") if shutil.which(name)), None)
        if found is None:
            raise UsageError("no editor was found", hint=f"set EDITOR to your editor's command, or edit {path} yourself")
        argv = [found]
    try:
        finished = subprocess.run([*argv, str(path)], check=False)
    except OSError:
        raise UsageError(f"the editor '{argv[0]}' could not be started",
                         hint=f"set EDITOR to your editor's command, or edit {path} yourself") from None  # fmt: skip
    if finished.returncode != 0:
        raise UsageError(f"the editor '{argv[0]}' stopped with an error (exit status {finished.returncode})",
                         hint=f"what was saved is kept in {path}; run the same command again")  # fmt: skip
