"""What a command loads before it answers: a person waits for every module imported.

``provisioner --help`` should show the commands without loading the core (the facade, pydantic,
the document and network libraries), and ``status`` should not load the libraries only a
document, a roster or Microsoft Graph needs. Each runs as a person runs it, in a fresh Python,
and reports which of those modules it loaded; the time itself is measured by bench/startup.py,
not here, since a shared machine's timings are no test. A run hands Typer only the command it
names (``cli.tree_for``): every help and usage error must still read as the whole tree's.
"""

from __future__ import annotations

import json
import subprocess
import sys

import typer
from typer.testing import CliRunner

from provisioner.cli import app, tree_for
from provisioner.cli.common import DEBUG

# Imported only where they are used: the PDF library and its font reader (slips, checklists,
# the register), the xlsx writer and reader, and Microsoft's token library and HTTP client.
DOCUMENT_AND_NETWORK = ("fpdf", "fontTools", "openpyxl", "python_calamine", "msal", "requests")
# What --help needs none of: the core and the validation library its settings are built on.
CORE = ("provisioner.facade", "provisioner.delivery", "provisioner.state", "pydantic")  # pydantic last
# What status and audit verify need none of: the other jobs, the planning, the register's build
# and check, the roster reader, the paper writers (slips, cards, checklists, xlsx) and the settings
# editor's TOML library.
OTHER_JOBS = ("provisioner.jobs.provisioning", "provisioner.jobs.cleanup", "provisioner.jobs.configure",
              "provisioner.jobs.requests", "provisioner.jobs.retention", "provisioner.planning.provisioning",
              "provisioner.planning.cleanup", "provisioner.planning.reconcile", "provisioner.register.build",
              "provisioner.register.check", "provisioner.register.gaps", "provisioner.roster.read",
              "provisioner.roster.rows", "provisioner.roster.decode", "provisioner.slips",
              "provisioner.cards", "provisioner.card_batches", "provisioner.checklist", "provisioner.xlsx",
              "tomlkit")  # fmt: skip

# Runs the command line as the `provisioner` script does, then writes the modules asked about
# that it loaded as the last line of stderr.
PROBE = """
import json, sys
asked = json.loads(sys.argv[1])
sys.argv = ["provisioner", *sys.argv[2:]]
from provisioner.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
loaded = sorted(name for name in asked if name in sys.modules)
sys.stderr.write("\\n" + json.dumps({"exit_code": code, "loaded": loaded}) + "\\n")
"""


def run_cold(*args: str, asked=DOCUMENT_AND_NETWORK + CORE) -> tuple[dict, str]:
    """Run ``provisioner ARGS`` in a new Python; what it loaded of ``asked``, and its stdout."""
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(asked), *args], capture_output=True,
                            text=True)  # fmt: skip
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return report, result.stdout


def test_help_lists_the_commands_without_loading_the_core():
    report, output = run_cold("--help")
    assert report["exit_code"] == 0
    assert "status" in output and "apply" in output and "register" in output
    assert report["loaded"] == []


def test_a_commands_help_loads_none_of_the_core_either():
    """(Typer itself loads pydantic to read a command's options, so that is not asked about.)"""
    report, output = run_cold("apply", "--help", asked=DOCUMENT_AND_NETWORK + CORE[:-1])
    assert report["exit_code"] == 0
    assert "ROSTER" in output
    assert report["loaded"] == []


def test_status_loads_no_document_roster_or_network_library(workspace):
    report, output = run_cold("status", "--workspace", str(workspace.root), asked=DOCUMENT_AND_NETWORK)
    assert report["exit_code"] == 0
    assert "Purple Mash" in output
    assert report["loaded"] == []


def test_status_and_audit_verify_load_none_of_the_other_jobs(workspace, roster_file):
    """They open the workspace and the state, and build the connectors (whose strategies take
    the plans' words from planning/actions.py), and plan, print and edit nothing."""
    run_cold("apply", str(roster_file), "--yes", "--workspace", str(workspace.root))  # a log to check
    for command in (["status"], ["audit", "verify"]):
        report, output = run_cold(*command, "--workspace", str(workspace.root), asked=OTHER_JOBS)
        assert report["exit_code"] == 0, output
        assert report["loaded"] == [], command


def test_the_libraries_still_load_where_they_are_used(workspace, roster_file):
    """The other side: an apply that writes an import file and login slips loads what it needs
    and works (a lazy import that named the wrong module would fail here, not in a school)."""
    report, output = run_cold("apply", str(roster_file), "--yes", "--workspace", str(workspace.root))
    assert report["exit_code"] == 0, output
    # The cards' PDF and xlsx are written by the tool itself (pdfpages, xlsx streamed): fontTools
    # subsets their fonts; fpdf2 and openpyxl are for the per-platform slips and the reports.
    assert {"fontTools", "python_calamine"} <= set(report["loaded"])
    assert list(workspace.outbox.glob("login-slips-*.pdf")), "one card per child, for every platform"
    report, _ = run_cold("apply", str(roster_file), "--yes", "--workspace", str(workspace.root), asked=OTHER_JOBS)
    assert {"provisioner.planning.provisioning", "provisioner.jobs.provisioning"} <= set(report["loaded"])


# The command line builds only what it runs (cli.tree_for): each answer must be the one the
# whole tree gives.


def all_command_lines() -> list[list[str]]:
    """Every command and group of the whole tree, as typed: ["status"], ["register"], ["register", "show"]..."""
    found = []
    for name, command in typer.main.get_command(app).commands.items():
        found.append([name])
        found += [[name, sub] for sub in getattr(command, "commands", {})]
    return found


def test_the_top_level_help_is_the_whole_trees(monkeypatch):
    monkeypatch.setitem(DEBUG, "on", False)  # --debug sets it for the process: put back after
    for args in (["--help"], [], ["--debug"]):
        whole, built = CliRunner().invoke(app, args), CliRunner().invoke(tree_for(args), args)
        assert (built.exit_code, built.output) == (whole.exit_code, whole.output), args
    assert "reset-passwords" in CliRunner().invoke(tree_for(["--help"]), ["--help"]).output


def test_each_commands_help_and_usage_errors_are_the_whole_trees(monkeypatch):
    monkeypatch.setitem(DEBUG, "on", False)  # --debug sets it for the process: put back after
    lines = all_command_lines()
    assert ["status"] in lines and ["register", "export"] in lines and ["audit", "verify"] in lines
    for words in lines:
        for args in ([*words, "--help"], [*words, "--no-such-option"], ["--debug", *words, "--help"]):
            whole, built = CliRunner().invoke(app, args), CliRunner().invoke(tree_for(args), args)
            assert (built.exit_code, built.output) == (whole.exit_code, whole.output), args


def test_a_run_builds_only_the_command_it_names_and_a_mistyped_one_gets_the_nearest():
    assert list(typer.main.get_command(tree_for(["status", "--json"])).commands) == ["status"]
    assert list(typer.main.get_command(tree_for(["--debug", "register", "show"])).commands) == ["register"]
    report, _ = run_cold("stauts")
    assert report["exit_code"] == 2
    result = subprocess.run([sys.executable, "-m", "provisioner", "stauts"], capture_output=True, text=True)
    assert "No such command 'stauts'" in result.stderr and "status" in result.stderr.split("No such command")[1]


def test_a_command_runs_from_the_tree_built_for_it(workspace):
    report, output = run_cold("--debug", "status", "--json", "--workspace", str(workspace.root))
    assert report["exit_code"] == 0
    assert json.loads(output)["audit"]["intact"] is True


# The collector is paused while a command starts (provisioner/collector.py) and must be running
# again for the command's own work: an API's push or a server would otherwise pile up garbage.

COLLECTOR_PROBE = """
import gc, sys
sys.argv = ["provisioner", *sys.argv[1:]]
from provisioner.cli import main
from provisioner.facade import Provisioner
seen = []
status = Provisioner.status
def watched(self, *args, **kwargs):
    seen.append(gc.isenabled())
    return status(self, *args, **kwargs)
Provisioner.status = watched
try:
    main()
except SystemExit as exc:
    sys.stderr.write(f"\\n{seen} {gc.isenabled()} {exc.code}\\n")
"""


def test_a_command_starts_with_the_collector_paused_and_works_with_it_running(workspace):
    result = subprocess.run([sys.executable, "-c", COLLECTOR_PROBE, "status", "--workspace", str(workspace.root)],
                            capture_output=True, text=True)  # fmt: skip
    assert result.stderr.strip().splitlines()[-1] == "[True] True 0", result.stderr


def test_the_collector_is_resumed_only_where_the_start_paused_it():
    import gc

    from provisioner import collector

    assert gc.isenabled()
    try:
        gc.disable()  # paused by something else: the start leaves it as it is
        collector.pause_while_starting()
        collector.resume_after_starting()
        assert not gc.isenabled()
        gc.enable()
        collector.pause_while_starting()
        assert not gc.isenabled()
        collector.resume_after_starting()
        assert gc.isenabled()
        collector.resume_after_starting()  # twice: nothing more
        assert gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()  # what resuming froze: this test process's objects, collected as before


def test_the_command_line_package_loads_its_tree_only_when_asked():
    """``provisioner.cli`` is the script's entry point: importing it for ``main`` loads neither
    Typer nor the tree of commands, so the collector is paused before they load (and importing
    ``common`` loads no tree either); ``app`` and ``tree_for`` are still there to import."""
    probe = ("import sys\nfrom provisioner.cli import main\n"
             "print('typer' in sys.modules, 'provisioner.cli.tree' in sys.modules)\n"
             "from provisioner.cli import common\nprint('provisioner.cli.tree' in sys.modules)\n"
             "from provisioner.cli import app, tree_for\nprint(app.info.help.split()[0], callable(tree_for))")  # fmt: skip
    lines = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines == ["False False", "False", "Create True"]


ENTRY_PROBE = PROBE + """
import tokenize
entries = sys.modules.get("provisioner.register.entries")
sys.stderr.write(json.dumps({"entry_built": entries.Entry.__pydantic_complete__,
                             "tokenize_compiled": tokenize._compile.cache_info().currsize > 0}) + "\\n")
"""


def test_status_builds_no_register_entry_validator_and_parses_no_signature_text(workspace):
    """Every connector loads register.entries for its default scope; status reads no entry, so
    the entries' validator is not built (``defer_build``) until a register command reads one.
    Nor does building the settings' validators parse a builtin's signature from its text, whose
    first use compiles tokenize's pattern (``settings.empty_list``)."""
    result = subprocess.run([sys.executable, "-c", ENTRY_PROBE, json.dumps([]), "status", "--workspace",
                             str(workspace.root)], capture_output=True, text=True)  # fmt: skip
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report == {"entry_built": False, "tokenize_compiled": False}, result.stderr
    result = subprocess.run([sys.executable, "-c", ENTRY_PROBE, json.dumps([]), "register", "check", "--workspace",
                             str(workspace.root)], capture_output=True, text=True)  # fmt: skip
    assert json.loads(result.stderr.strip().splitlines()[-1])["entry_built"] is True, result.stderr
