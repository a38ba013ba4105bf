"""Fault points for the crash-safety tests: a named place where a run may be killed, as a
SIGKILL or a power cut would, when ``PROVISIONER_CRASH_AT`` asks for it. Unset (always, outside
the tests) a point costs one dictionary look-up.

The points sit where a kill matters: between two documents of a batch, after a batch is
recorded, once a file is written but not yet in place, once the state committed but before the
audit log's head is written beside it, once Microsoft Graph has answered but before the answer
is recorded. They live here, at the bottom of the layers, so the file writer and the state can
hold them as well as the jobs and the strategies.

``PROVISIONER_CRASH_AT=name`` dies the first time the point is passed; ``name@3`` the third
(the third platform's file written, say). While the variable is set, every point passed is
counted, whatever its name (``passed``), so a test can list the places a command passes in
order to choose where to kill it.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

CRASH_ENV = "PROVISIONER_CRASH_AT"
_passed: Counter[str] = Counter()
_lock = threading.Lock()  # Graph is called from several threads: each point counted once


def crashpoint(name: str) -> None:
    """Die here when ``PROVISIONER_CRASH_AT`` names this point and this is its occurrence."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition("@")
    with _lock:
        _passed[name] += 1
        reached = point == name and _passed[name] == int(nth or 1)
    if reached:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


def passed() -> Counter[str]:
    """How often each point was passed since ``forget_passed`` (counted only while the variable is set)."""
    with _lock:
        return Counter(_passed)


def forget_passed() -> None:
    with _lock:
        _passed.clear()
