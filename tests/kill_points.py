"""Where a command can be killed, for the seeded kill tests (tests/test_faults.py,
tests/test_m365_faults.py): every fault point of provisioner/faults.py that the command passes,
found by running it once uninterrupted, and the order in which the seeds take them.

A command passes a point placed by hand in its job once a platform or once a run ("prepared",
"between-documents", "deletion-list", "pushing", "cleaning-up"...), and the points any command
passes many times once each: each file written before it is put in place, each commit of the
state before the audit log's head moves on, each file removed, each answer from Microsoft Graph.
Killing at the nth occurrence of a point (``name@n``) makes each of those a place of its own.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pytest

from provisioner.faults import CRASH_ENV, forget_passed, passed

ANYWHERE = ("state-committed", "temporary-written", "file-removed", "graph-answered")  # not one job's own
BYTECODE = Path(tempfile.gettempdir()) / "provisioner-tests-bytecode"


def command_env(env: dict | None = None) -> dict:
    """The environment of a command run in a subprocess: this one's and ``env``, with the tool's
    compiled modules kept in one folder outside the source tree (PYTHONPYCACHEPREFIX), so that
    the hundreds of commands these tests run do not each compile the tool again where
    PYTHONDONTWRITEBYTECODE is set (about a third of a second each)."""
    ours = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**ours, "PYTHONPYCACHEPREFIX": str(BYTECODE), **(env or {})}


def points_passed(command: Callable[[], object]) -> Counter[str]:
    """How often ``command``, run here uninterrupted, passes each fault point (they count while
    PROVISIONER_CRASH_AT is set: here to a point that does not exist)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CRASH_ENV, "nowhere")
        forget_passed()
        command()
        return passed()


def kill_order(counts: Counter[str], label: str) -> list[str]:
    """Every occurrence of every point passed, as ``name@n``, in the order the seeds take them:
    the points placed by hand in the jobs first, then the others, each group in an order drawn
    from ``label``. Seed s kills at the (s mod length)th, so as many seeds as points kill at as
    many different places."""
    rng = random.Random(label)
    occurrences = [f"{name}@{n}" for name in sorted(counts) for n in range(1, counts[name] + 1)]
    by_hand = [p for p in occurrences if p.partition("@")[0] not in ANYWHERE]
    anywhere = [p for p in occurrences if p.partition("@")[0] in ANYWHERE]
    rng.shuffle(by_hand)
    rng.shuffle(anywhere)
    return by_hand + anywhere


def kill_points_of(workspace_root: Path, args: Sequence[str], label: str, placed: Iterable[str]) -> list[str]:
    """Where a command can be killed, in seed order (``kill_order``): listed by running it once,
    uninterrupted and in this process, on a copy of the workspace beside it, which is then
    removed. Each point placed in its job (``placed``: ``name`` or ``name@n``) must be passed."""
    from conftest import Cli
    from provisioner.workspace import Workspace

    trial = Workspace(shutil.copytree(workspace_root, workspace_root.parent / "trial"))

    def uninterrupted() -> None:
        result = Cli(trial)(*args)
        assert result.exit_code == 0, result.output

    points = kill_order(points_passed(uninterrupted), label)
    shutil.rmtree(trial.root)
    missing = [p for p in placed if (p if "@" in p else f"{p}@1") not in points]
    assert missing == [], f"{label} passes every point placed in its job"
    return points
