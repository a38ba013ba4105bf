"""Long work started from a page (an apply, a leaver cleanup), run in a thread of the server.

The page that starts it goes to the task's own page, which shows each platform's progress and
reloads itself until the work ends; the task lives in the server, not the page, so a reload or a
closed tab loses nothing and the result is there when the admin comes back. The workspace lock
is the facade's, as for a command: a second apply started meanwhile is refused in the same
words the command line uses.
"""

from __future__ import annotations

import secrets
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from provisioner.delivery import Progress
from provisioner.errors import ProvisionerError

RUNNING, DONE, FAILED = "running", "done", "failed"


@dataclass
class Task:
    id: str
    kind: str  # what the result page shows: "apply", "leavers"
    title: str
    state: str = RUNNING
    progress: dict[str, list[int]] = field(default_factory=dict)  # platform -> [done, total]
    result: Any = None
    error: ProvisionerError | None = None
    unexpected: str = ""  # the kind of an error nobody expected; its details stay out of the page

    def report(self, platform: str, done: int, total: int) -> None:
        self.progress[platform] = [done, total]


KEPT = 20  # finished tasks kept for their pages: a trust's apply result holds its whole plan


class Tasks:
    """The tasks started since the server started, by id: every one still running, and the last
    ``KEPT`` that ended."""

    def __init__(self) -> None:
        self._tasks: dict[str, Task] = {}
        self._lock = threading.Lock()

    def start(self, kind: str, title: str, work: Callable[[Progress], Any]) -> Task:
        task = Task(secrets.token_urlsafe(9), kind, title)
        with self._lock:
            ended = [key for key, old in self._tasks.items() if old.state != RUNNING]
            for key in ended[: max(0, len(ended) - KEPT + 1)]:
                del self._tasks[key]
            self._tasks[task.id] = task

        def run() -> None:
            try:
                task.result = work(task.report)
                task.state = DONE
            except ProvisionerError as exc:
                task.error, task.state = exc, FAILED
            except Exception as exc:  # noqa: BLE001 (shown as the command line shows it, without a traceback)
                task.unexpected, task.state = type(exc).__name__, FAILED
                print(f"provisioner serve: {task.title}: unexpected error ({type(exc).__name__})", file=sys.stderr)

        threading.Thread(target=run, name=f"task-{task.id}", daemon=True).start()
        return task

    def running(self) -> list[Task]:
        """The work still going: the Stop button waits for it rather than cut it short."""
        with self._lock:
            return [task for task in self._tasks.values() if task.state == RUNNING]

    def get(self, task_id: str) -> Task | None:
        with self._lock:
            return self._tasks.get(task_id)
