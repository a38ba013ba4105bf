"""Every benchmark under bench/ runs once at 1,000 pupils, so a change that breaks one is caught
here and not on the day someone measures. These tests assert that each script runs to the end
and prints its figures; the figures themselves are for bench/RESULTS.md, never for a test (a
shared CI machine's times say nothing).

Each script runs in a new process with the temp directory pointed into the test's own folder,
so the rosters and workspaces the scripts cache are made here and thrown away after.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
NUMBER = r"\d+(\.\d+)?"

# (script, arguments, what the output must show): the figure each script exists to print.
SCRIPTS = [
    ("make_roster.py", ["1000", "--format", "csv"], r"1000 pupils in \d+ schools"),
    ("roster_load.py", ["--pupils", "1000", "--runs", "1", "--openpyxl-runs", "1"],
     rf"python-calamine alone .*median {NUMBER} s"),
    ("apply_file.py", ["--pupils", "1000"], rf"first apply \(\d+ creates on \d+ platform\(s\)\): {NUMBER} s"),
    ("plan_scale.py", ["--pupils", "1000", "--runs", "1"], rf"plan, 1000 pupils, 7 platforms: median {NUMBER} s.*peak memory"),
    ("leavers_scale.py", ["--pupils", "1000"], r"leavers apply, a year later \(50 leavers\).*\n  done: \{'"),
    ("slips_scale.py", ["--children", "1000"], rf"1000 children \(6000 rows\): +{NUMBER} s"),
    ("register_export.py", ["--pupils", "1000"], rf"export pdf: {NUMBER} s"),
    # The Graph stand-in's limits raised: a smoke test of the script, not a measure of the ceiling.
    ("m365_throughput.py", ["--pupils", "1000", "--tenant-users", "100", "--leavers", "50", "--latency-ms", "1",
                            "--writes-per-second", "60"],
     r"accounts made: 1000.*\n.*pupils/s.*\n429s received: \d+; requests sent while told to wait: 0"),
    ("startup.py", ["--runs", "1"], rf"provisioner status.*{NUMBER}"),
    # Two runs, one on each kind of platform: each a workspace killed at a seeded point and run again.
    ("fault_soak.py", ["--runs", "2", "--pupils", "20"],
     r"runs: 2 .*\nfaults injected: \d+.*\nduplicates found: 0\norphans found: 0\ntracebacks seen: 0"),
]


def test_every_benchmark_is_smoke_tested():
    """A new script under bench/ gets a line above."""
    assert sorted(p.name for p in BENCH.glob("*.py")) == sorted(script for script, _, _ in SCRIPTS)


@pytest.mark.parametrize(("script", "args", "shows"), SCRIPTS, ids=[s for s, _, _ in SCRIPTS])
def test_benchmark_runs_at_a_thousand_pupils(tmp_path, script, args, shows):
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, str(BENCH / script), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert re.search(shows, done.stdout), done.stdout[-3000:]
