"""Register benchmark: building the processor register and writing each format, for a trust.

    .venv/bin/python bench/register_export.py [--pupils 10000]

On bench/plan_scale.py's workspace (a trust of ``--pupils`` holding every pupil on seven
platforms, made once and cached in the temp directory), times building the register (the live
evidence reads every account) and each export, written to a temporary folder, and reports the
peak memory of the whole process.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apply_file import timed  # noqa: E402
from make_roster import TODAY  # noqa: E402
from plan_scale import workspace_for  # noqa: E402

from provisioner.register import build_register  # noqa: E402
from provisioner.reports import FORMATS, default_name, write_register  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=10_000)
    args = parser.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]), flush=True)
    workspace, _roster = workspace_for(args.pupils)
    with tempfile.TemporaryDirectory() as folder:
        state = workspace.open_state()
        try:
            register = timed("build the register", lambda: build_register(workspace, state, TODAY))
        finally:
            state.close()
        held = sum(p.evidence.pupils_held for p in register.processors if p.evidence)
        print(f"accounts held: {held} on {len(register.platforms())} platforms, {len(register.processors)} entries")
        for fmt in FORMATS:
            target = Path(folder) / default_name(register, fmt)
            timed(f"export {fmt}", lambda fmt=fmt, target=target: write_register(register, fmt, target))
            print(f"  {target.name}: {target.stat().st_size / 1024:.0f} KiB")
    if sys.platform != "win32":
        print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
