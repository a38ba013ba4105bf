"""Processes on the other core for a trust's paper: the login cards' parts and xlsx (``cards``:
gathered from the plain data an apply hands over and drawn while it writes its files, and kept in
the worker's memory until the apply writes them) and the deletion lists (``checklist``).

Each worker is a fresh interpreter, not a fork: a fork would inherit the workspace lock and the
state's open file, and a run killed mid-draw would leave the workspace locked until its workers
finished. Each ends when the process that started it has gone (killed, or the window closed),
rather than wait for work for ever with a child's password in its memory. Each leaves a Ctrl-C
to the process that started it: the terminal sends it to every process of the command, and a
worker stopped by it would print its own traceback over the command's "Interrupted" (the
command then ends its workers itself). Starting one takes about half a second.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor


def spawned_pool(workers: int, warm_up: Callable[[], None] | None = None) -> ProcessPoolExecutor:
    """A pool of ``workers`` fresh interpreters, each running ``warm_up`` (a module-level
    function: it is sent to them by name) as it starts."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start, initargs=(os.getpid(), warm_up))  # fmt: skip


def _start(parent: int, warm_up: Callable[[], None] | None) -> None:
    """In a worker, as it starts: a Ctrl-C left to the process that started it, and an end with
    that process; then ``warm_up``."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _end_with_parent(parent)
    if warm_up is not None:
        warm_up()


def _end_with_parent(parent: int) -> None:
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
