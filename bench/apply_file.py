"""Plan and apply benchmark: a trust-size roster through the file connectors, end to end.

    .venv/bin/python bench/apply_file.py [--pupils 50000] [--no-cards]

Times, on a fresh workspace: reading the roster, planning, the first apply (intent records,
the import file, the audit log), and a second apply (which must send nothing); then the size of
the state file for each account it holds. ``--no-cards`` leaves the login cards out of the apply
(bench/slips_scale.py times them), to time the rest: the state and the import files.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from roster_load import TODAY, roster_file  # noqa: E402 (the same cached synthetic workbook)

from provisioner.connector import registry  # noqa: E402
from provisioner.facade import Provisioner  # noqa: E402
from provisioner.jobs import provisioning  # noqa: E402
from provisioner.jobs.create import init_workspace  # noqa: E402


def timed(label: str, action):
    """Run ``action``, print its wall-clock time and this process's CPU time (on a machine others
    share, the CPU time moves less; the card workers' time is not in it)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = action()
    print(f"{label}: {time.perf_counter() - started:.2f} s (CPU {time.process_time() - cpu_started:.2f} s)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=50_000)
    parser.add_argument("--no-cards", action="store_true", help="draw no login cards (bench/slips_scale.py times them)")
    args = parser.parse_args()
    if args.no_cards:
        provisioning.print_cards = lambda job, owed: {}
        provisioning.early_cards = lambda job, connectors, plan: contextlib.nullcontext(None)
    path = roster_file(args.pupils)
    with tempfile.TemporaryDirectory() as folder:
        offline = [p for p, cls in registry().items() if cls().delivery.works_offline]  # Graph has its own bench
        workspace = init_workspace(Path(folder) / "ws", "Bench Trust", "bench.sch.uk", offline)
        connectors = workspace.connectors()
        roster = timed("read roster", lambda: Provisioner(workspace).read_roster(path, today=TODAY))

        # The jobs layer under the facade, so the roster read above is not timed again.
        def plan():
            with workspace.open_state() as state:
                return provisioning.plan(workspace, state, roster, connectors, TODAY)

        def apply():
            with workspace.lock(), workspace.open_state() as state:
                return provisioning.apply(workspace, state, roster, connectors, TODAY, confirm=lambda p: True)

        the_plan = timed("plan", plan)
        creates = sum(p.counts()["create"] for p in the_plan.platforms.values())
        del the_plan  # the apply makes its own: a command holds one plan, so its peak memory is the command's
        first = timed(f"first apply ({creates} creates on {len(connectors)} platform(s))",
                      apply)  # fmt: skip
        assert sum(b.rows for b in first.batches) + sum(first.recorded.values()) == creates
        del first
        second = timed("second apply", apply)
        assert second.batches == [] and not second.plan.has_work
        with workspace.open_state() as state:
            accounts = sum(len(state.accounts(c.id)) for c in connectors)
        size = os.path.getsize(workspace.state_path)
        print(f"state file: {size / 2**20:.1f} MiB, {size / accounts:.0f} bytes for each of {accounts} accounts")


if __name__ == "__main__":
    main()
