"""Plan at trust scale: `plan` against a state that already holds every pupil on seven platforms.

    .venv/bin/python bench/plan_scale.py [--pupils 50000] [--runs 5]

The workspace: a trust of ``--pupils`` (bench/make_roster.py, csv) applied once on the six
file platforms (Purple Mash, IXL, Times Tables Rock Stars, Bug Club, EducationCity, and
Microsoft 365 through School Data Sync files) and LGfL's USO-AutoUpdate, which reads the MIS:
seven platforms, each holding every pupil its scope serves. That first apply takes minutes, so
the workspace is kept in the temp directory's ``provisioner-bench-plan/``, one folder per size,
and reused after (delete the folder after changing what apply records).

Then it times ``Provisioner.plan`` on the same roster, in this process, through the facade a
front end calls (reading the roster included), ``--runs`` times: the median and the best. A
plan with nothing to do is what a school sees on most days, and what every apply computes
first. Last, the peak memory of one plan: a new process runs it once and reports its maximum
resident size (the interpreter and the imports included).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from make_roster import TODAY, trust_roster  # noqa: E402

from provisioner.facade import Provisioner  # noqa: E402
from provisioner.jobs.create import init_workspace  # noqa: E402
from provisioner.register.build import approve_all  # noqa: E402
from provisioner.state import MIGRATIONS  # noqa: E402
from provisioner.workspace import Workspace  # noqa: E402

PLATFORMS = ("purple-mash", "ixl", "tt-rockstars", "bug-club", "education-city", "microsoft-365", "lgfl")
CACHE = Path(tempfile.gettempdir()) / "provisioner-bench-plan"
# Bump when what the cached workspace holds changes, so an old one is not reused. The folder
# also names the state's schema version: a workspace another schema wrote is never reused (one
# opened by newer code would be migrated in place, and older code could not read it after).
VERSION = 2


def set_platform(settings: Path, platform: str, key: str, value: str) -> None:
    """One key of a platform's section of provisioner.toml (as tests/conftest.py does)."""
    lines = settings.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"[platforms.{platform}]") + 1
    lines.insert(start, f"{key} = {value}")
    settings.write_text("\n".join(lines) + "\n", encoding="utf-8")


def workspace_for(pupils: int) -> tuple[Workspace, Path]:
    """The cached workspace holding ``pupils`` on the seven platforms, and its roster; made by one
    apply the first time (built beside the cache folder, then renamed, so a killed build is not reused)."""
    roster = trust_roster(pupils, "csv")
    folder = CACHE / f"trust-{pupils}-v{VERSION}-schema{len(MIGRATIONS)}"
    if folder.exists():
        return Workspace(folder), roster
    CACHE.mkdir(exist_ok=True)
    building = CACHE / f"building-{folder.name}"
    shutil.rmtree(building, ignore_errors=True)
    started = time.perf_counter()
    workspace = init_workspace(building, "Bench Trust", "bench.sch.uk", list(PLATFORMS), approved_by="Bench Admin")
    set_platform(workspace.settings_path, "microsoft-365", "provisioning", '"sds-files"')
    set_platform(workspace.settings_path, "microsoft-365", "domain", '"pupils.bench.sch.uk"')
    workspace = Workspace(building)
    with workspace.open_state() as state:
        # The register changed (Microsoft 365 is sent files), so it is approved again.
        approve_all(workspace, state, "Bench Admin", "platform admin", TODAY, note="School Data Sync files")
    result = Provisioner(workspace).apply(roster, confirm=lambda _plan: True, today=TODAY)
    for batch in result.batches:
        Provisioner(workspace).confirm_uploaded(batch.platform, batch.batch_id, today=TODAY)
    print(f"built the workspace ({pupils} pupils, {len(PLATFORMS)} platforms) in "
          f"{time.perf_counter() - started:.0f} s: {folder}")  # fmt: skip
    building.rename(folder)
    return Workspace(folder), roster


def plan_once(workspace: Workspace, roster: Path) -> tuple[float, float]:
    """(seconds, CPU seconds) of one plan. The CPU time is what to compare on a shared machine:
    other people's work stretches the wall-clock time, much less the CPU time of this process."""
    started, cpu_started = time.perf_counter(), time.process_time()
    the_plan = Provisioner(workspace).plan(roster, today=TODAY)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    assert not the_plan.has_work, "the cached workspace should hold every pupil already"
    return elapsed, cpu


def own_peak_kib() -> float:
    """This process's peak resident size. Linux's VmHWM is the program's own; ru_maxrss keeps the
    resident size of the process it was forked from (this bench, after its own plans), so after
    a plan of 100,000 pupils a new process planning 50,000 reported the 100,000's peak."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return float(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def peak_memory(pupils: int) -> float:
    """MiB: the maximum resident size of a new process running one plan."""
    answer = subprocess.run([sys.executable, __file__, "--pupils", str(pupils), "--memory-child"],
                            check=True, capture_output=True, text=True)  # fmt: skip
    return json.loads(answer.stdout.splitlines()[-1])["peak_mib"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, nargs="+", default=[50_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory run")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        workspace, roster = workspace_for(args.pupils[0])
        plan_once(workspace, roster)
        print(json.dumps({"peak_mib": own_peak_kib() / 1024}))
        return
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]), flush=True)
    for pupils in args.pupils:
        workspace, roster = workspace_for(pupils)
        runs = [plan_once(workspace, roster) for _ in range(args.runs)]
        times, cpu = [wall for wall, _ in runs], [cpu for _, cpu in runs]
        line = f"plan, {pupils} pupils, {len(PLATFORMS)} platforms: median {statistics.median(times):.2f} s, " \
               f"best {min(times):.2f} s; CPU median {statistics.median(cpu):.2f} s, best {min(cpu):.2f} s " \
               f"({args.runs} runs)"  # fmt: skip
        if not args.no_memory:
            line += f"; peak memory {peak_memory(pupils):.0f} MiB"
        print(line, flush=True)


if __name__ == "__main__":
    main()
