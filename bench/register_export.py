"""Register benchmark: building the processor register and writing each format, for a trust.

    .venv/bin/python bench/register_export.py [--pupils 10000]

On a fresh workspace with every offline platform applied (so each holds the pupils), times
building the register (the live evidence reads every account) and each export, and reports
the peak memory of the whole process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apply_file import timed  # noqa: E402
from roster_load import TODAY, roster_file  # noqa: E402 (the same cached synthetic workbook)

from provisioner.connector import registry  # noqa: E402
from provisioner.facade import Provisioner  # noqa: E402
from provisioner.register import build_register  # noqa: E402
from provisioner.reports import FORMATS, default_name, write_register  # noqa: E402
from provisioner.jobs.create import init_workspace  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=10_000)
    args = parser.parse_args()
    path = roster_file(args.pupils)
    with tempfile.TemporaryDirectory() as folder:
        offline = [p for p, cls in registry().items() if cls().delivery.works_offline]
        workspace = init_workspace(Path(folder) / "ws", "Bench Trust", "bench.sch.uk", offline, "Bench Admin")
        Provisioner(workspace).apply(path, confirm=lambda plan: True, today=TODAY)
        state = workspace.open_state()
        try:
            register = timed("build the register", lambda: build_register(workspace, state, TODAY))
        finally:
            state.close()
        held = sum(p.evidence.pupils_held for p in register.processors if p.evidence)
        print(f"accounts held: {held} on {len(register.platforms())} platforms, {len(register.processors)} entries")
        for fmt in FORMATS:
            target = workspace.reports / default_name(register, fmt)
            timed(f"export {fmt}", lambda fmt=fmt, target=target: write_register(register, fmt, target))
            print(f"  {target.name}: {target.stat().st_size / 1024:.0f} KiB")
    if sys.platform != "win32":
        print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
