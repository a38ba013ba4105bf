"""Start-up benchmark: how long a person waits for `provisioner --help` and `provisioner status`.

    .venv/bin/python bench/startup.py [--runs 21] [--checkout DIR ...] [--workspace DIR]

Each command runs in a new Python process, as from the terminal, so every import counts. The
anchor, `python -c pass`, runs in the same rounds: a shared machine's load moves every figure,
and the difference from the anchor moves less. So does a second reference: the help of a
two-command Typer app, the floor under ours. The rounds interleave the commands (anchors, help,
status, then again), so a busy moment slows all of them, not one.

Python runs with its bytecode cache, as an installed tool does (pip compiles it at install),
in a temporary folder (PYTHONPYCACHEPREFIX) so nothing is written beside the code; the first,
unmeasured, run of each command fills it. `--no-bytecode-cache` times what
PYTHONDONTWRITEBYTECODE=1 does to a checkout instead: the installed libraries' bytecode is still
read from their own caches, but the tool's modules are compiled from source on every run.

Each command's CPU time (user and system, from the child's own accounting) is printed beside
its wall time: on a shared machine the wall time moves with everyone else's load, the CPU time
much less.

`--checkout` times another copy of the code in the same rounds (e.g. the main branch beside a
change: `--checkout ../main --checkout .`); each runs with its folder first on PYTHONPATH.
`status` runs on the demo workspace (`provisioner demo`, 400 synthetic pupils), made once in
the temp directory unless `--workspace` names one.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The floor under `provisioner --help`: the help of a two-command Typer app, which loads Typer,
# click and the rich help formatter as ours does, and nothing else.
TYPER_HELP = """
import typer
app = typer.Typer(add_completion=False)
@app.command()
def one() -> None: ...
@app.command()
def other() -> None: ...
app(["--help"])
"""


def environment(checkout: Path | None, pycache: Path | None) -> dict[str, str]:
    """The environment that makes ``python -m provisioner`` run ``checkout``'s code, with its
    bytecode cached in ``pycache`` (None: compiled from source on every run)."""
    env = dict(os.environ)
    if checkout is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(checkout), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))])
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def demo_workspace(checkout: Path) -> Path:
    """The demo workspace, made once (it takes a few seconds) and reused."""
    path = Path(tempfile.gettempdir()) / "provisioner-bench-startup-demo"
    if not (path / "provisioner.toml").exists():
        subprocess.run([sys.executable, "-m", "provisioner", "demo", str(path)], env=environment(checkout, None),
                       stdout=subprocess.DEVNULL, check=True)  # fmt: skip
    return path


def cold_run(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Seconds from starting ``command`` in a new process to its exit, and the CPU seconds it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed ({result.returncode}): {result.stderr.decode()[-500:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="rounds (each runs every command once)")
    parser.add_argument("--checkout", type=Path, action="append",
                        help="a copy of the code to time (repeatable; default: this one)")  # fmt: skip
    parser.add_argument("--workspace", type=Path, help="the workspace for status (default: the demo's)")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="compile the tool's modules from source on every run")  # fmt: skip
    args = parser.parse_args()

    checkouts = [path.resolve() for path in args.checkout or [REPO]]
    workspace = (args.workspace or demo_workspace(checkouts[-1])).resolve()
    # Run from an empty folder: `python -c` and `-m` put the current folder first on sys.path,
    # and Python lists it to look for each module (in a crowded /tmp that alone takes 0.3 s).
    cwd = Path(tempfile.mkdtemp(prefix="provisioner-bench-startup-"))
    pycache = None if args.no_bytecode_cache else Path(tempfile.mkdtemp(prefix="provisioner-bench-pycache-"))
    python = sys.executable
    commands: dict[str, tuple[list[str], dict[str, str]]] = {
        "python -c pass": ([python, "-c", "pass"], environment(None, pycache)),
        "typer app --help": ([python, "-c", TYPER_HELP], environment(None, pycache)),
    }
    for checkout in checkouts:
        label = f" [{checkout}]" if len(checkouts) > 1 else ""
        env = environment(checkout, pycache)
        commands[f"provisioner --help{label}"] = ([python, "-m", "provisioner", "--help"], env)
        commands[f"provisioner status{label}"] = ([python, "-m", "provisioner", "status", "--workspace",
                                                   str(workspace)], env)  # fmt: skip

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
          f"{platform.platform()}")  # fmt: skip
    print(f"{args.runs} rounds, each command in a new process; status on {workspace}; "
          + ("no bytecode cache" if pycache is None else "bytecode cached"))  # fmt: skip
    for name, (command, _env) in commands.items():
        shown = [python, "-c", "<TYPER_HELP in bench/startup.py>"] if command[-1] == TYPER_HELP else command
        print(f"  {name}: {shlex.join(shown)}")
    for command, env in commands.values():  # once, unmeasured: bytecode compiled, files in the page cache
        cold_run(command, env, cwd)

    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, (command, env) in commands.items():
            elapsed, used = cold_run(command, env, cwd)
            times[name].append(elapsed)
            cpu[name].append(used)

    cwd.rmdir()
    if pycache is not None:
        shutil.rmtree(pycache)

    anchor = statistics.median(times["python -c pass"])
    print(f"{'command':<{max(map(len, times))}}  {'median':>7}  {'best':>7}  {'median - anchor':>15}  "
          f"{'CPU median':>10}  {'CPU best':>8}")  # fmt: skip
    for name, measured in times.items():
        median = statistics.median(measured)
        print(f"{name:<{max(map(len, times))}}  {median:6.3f}s  {min(measured):6.3f}s  {median - anchor:14.3f}s  "
              f"{statistics.median(cpu[name]):9.3f}s  {min(cpu[name]):7.3f}s")  # fmt: skip


if __name__ == "__main__":
    main()
