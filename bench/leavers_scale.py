"""The termly leaver cleanup at trust scale: `leavers apply` when 5% of a trust has left.

    .venv/bin/python bench/leavers_scale.py [--pupils 50000] [--share 0.05]

The workspace is bench/plan_scale.py's (a trust of ``--pupils`` holding every pupil on seven
platforms, cached in the temp directory), copied so the cached one stays as it is. The roster
is the same trust's with every twentieth pupil left out (``--share`` of them): those pupils have
left. Times, wall and CPU, through the facade a front end calls (reading the roster included):
the leavers' plan, then `leavers apply` (the deletion lists written, every account's status
recorded, the audit), and, as the anchor in the same run, a `plan` of the full roster (nothing to
do), which reads the same roster and state.
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from make_roster import TODAY  # noqa: E402
from plan_scale import PLATFORMS, workspace_for  # noqa: E402

from provisioner.facade import Provisioner  # noqa: E402
from provisioner.workspace import Workspace  # noqa: E402


def without_leavers(roster: Path, share: float, into: Path) -> tuple[Path, int]:
    """The roster with ``share`` of its pupils (spread evenly) left out, and how many were."""
    with roster.open(encoding="utf-8-sig", newline="") as source:
        rows = list(csv.reader(source))
    header, pupils = rows[0], rows[1:]
    step = round(1 / share)
    kept = [row for number, row in enumerate(pupils) if number % step != step - 1]
    target = into / roster.name
    with target.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows([header, *kept])
    return target, len(pupils) - len(kept)


def timed(label: str, action):
    """Run ``action``, printing its wall time and this process's CPU time (the machine is shared:
    the CPU time is what compares runs made under different loads)."""
    started, cpu = time.perf_counter(), time.process_time()
    result = action()
    print(f"{label}: {time.perf_counter() - started:.2f} s (CPU {time.process_time() - cpu:.2f} s)", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=50_000)
    parser.add_argument("--share", type=float, default=0.05, help="the share of pupils who have left")
    args = parser.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]), flush=True)
    cached, full_roster = workspace_for(args.pupils)
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "ws"
        shutil.copytree(cached.root, copy)
        provisioner = Provisioner(Workspace(copy))
        roster, leavers = without_leavers(full_roster, args.share, Path(folder))
        timed(f"anchor: plan of the full roster ({args.pupils} pupils, {len(PLATFORMS)} platforms)",
              lambda: provisioner.plan(full_roster, today=TODAY))  # fmt: skip
        # Missing from a complete roster, a pupil's clock starts on the day of the first cleanup
        # that misses them; the deletions fall due a retention period later.
        for label, day in (("the day they are first missed", TODAY), ("a year later", TODAY + timedelta(days=365))):
            plan = timed(f"leavers plan, {label} ({leavers} leavers)",
                         lambda day=day: provisioner.plan_leavers(roster, today=day))  # fmt: skip
            assert plan.refusal is None, plan.refusal
            result = timed(f"leavers apply, {label} ({leavers} leavers)",
                           lambda day=day: provisioner.apply_leavers(roster, confirm=lambda _plan: True, today=day))
            done = Counter()
            for counts in result.done.values():
                done.update(counts)
            print(f"  done: {dict(done) or 'nothing'}; deletion lists written: {len(result.deletion_lists)}, "
                  f"rows {sum(batch.rows for batch in result.deletion_lists)}", flush=True)
    if sys.platform != "win32":
        print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
