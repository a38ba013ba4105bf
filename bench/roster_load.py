"""Roster load benchmark: read_roster on a 50,000-pupil SIMS-style xlsx (a large trust).

    .venv/bin/python bench/roster_load.py [--pupils 50000] [--runs 5]

The synthetic workbook is generated once and cached in the system temp directory (writing it
with openpyxl takes a while). For comparison, it also times openpyxl's read-only reader just
iterating the same file's cell values, which is what a pure-openpyxl reader would have to do
before any checking.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from provisioner.roster import read_roster
from provisioner.synthetic import synthetic_pupils, write_roster_xlsx

TODAY = date(2026, 1, 15)  # fixed, so the cached file and the results do not depend on the day
SEED = 2026


def roster_file(pupils: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"provisioner-bench-roster-{pupils}-{SEED}-{TODAY:%Y%m%d}.xlsx"
    if not path.exists():
        started = time.perf_counter()
        rows = synthetic_pupils(pupils, seed=SEED, today=TODAY, leavers=pupils // 200)
        partial = path.with_suffix(".partial.xlsx")
        write_roster_xlsx(partial, rows)
        partial.replace(path)
        print(f"generated {path} in {time.perf_counter() - started:.1f} s")
    return path


def calamine_rows(path: Path) -> int:
    import python_calamine

    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    return len(workbook.get_sheet_by_index(0).to_python(skip_empty_area=False))


def openpyxl_iterate(path: Path) -> int:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    cells = 0
    for row in wb.worksheets[0].iter_rows(values_only=True):
        cells += len(row)
    wb.close()
    return cells


def timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def cpu_timed(fn, runs: int) -> list[float]:
    """CPU seconds of each run: what to compare on a machine others share, whose load stretches
    the wall-clock time of one run and not of the next."""
    times = []
    for _ in range(runs):
        started = time.process_time()
        fn()
        times.append(time.process_time() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--openpyxl-runs", type=int, default=3)
    args = parser.parse_args()

    path = roster_file(args.pupils)
    roster = read_roster(path, today=TODAY)  # warm-up, and a check that the file is what we think
    assert len(roster.pupils) == args.pupils and not roster.errors, (len(roster.pupils), roster.errors[:3])

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"file: {path.name} ({path.stat().st_size / 1e6:.1f} MB, {args.pupils} pupils)")
    ours = timed(lambda: read_roster(path, today=TODAY), args.runs)
    print(
        f"read_roster (calamine + checks), {args.runs} runs: "
        f"best {min(ours):.2f} s, median {statistics.median(ours):.2f} s"
    )
    floor = timed(lambda: calamine_rows(path), args.runs)
    print(
        f"python-calamine alone (open + to_python), {args.runs} runs: "
        f"best {min(floor):.2f} s, median {statistics.median(floor):.2f} s"
    )
    print(f"ratio read_roster / calamine alone (medians): {statistics.median(ours) / statistics.median(floor):.2f}")
    # CPU time, the two taking turns, so that both see the same load.
    ours_cpu, floor_cpu = [], []
    for _ in range(args.runs):
        ours_cpu += cpu_timed(lambda: read_roster(path, today=TODAY), 1)
        floor_cpu += cpu_timed(lambda: calamine_rows(path), 1)
    print(
        f"CPU, taking turns, {args.runs} runs each: read_roster median {statistics.median(ours_cpu):.2f} s, "
        f"calamine alone median {statistics.median(floor_cpu):.2f} s, "
        f"ratio {statistics.median(ours_cpu) / statistics.median(floor_cpu):.2f}"
    )
    if not args.openpyxl_runs:
        return
    theirs = timed(lambda: openpyxl_iterate(path), args.openpyxl_runs)
    print(
        f"openpyxl read-only, iterate values only, {args.openpyxl_runs} runs: "
        f"best {min(theirs):.2f} s, median {statistics.median(theirs):.2f} s "
        f"({statistics.median(theirs) / statistics.median(ours):.1f}x read_roster)"
    )


if __name__ == "__main__":
    main()
