"""Python's cyclic garbage collector, paused while a command builds many long-lived objects.

Reading a roster and planning make hundreds of thousands of objects that live until the command
ends (rows, pupils, accounts, each pupil's change on each platform) and next to no garbage.
Left on, the collector rescans all of them again and again as they pile up: about 10% of a
50,000-pupil roster read, and a third of a plan of 50,000 pupils on seven platforms
(bench/plan_scale.py). Reference counting still frees everything that is let go; only the
search for reference cycles waits until the block ends.

Starting a command is the same: the command line, Typer, pydantic and, for most commands, the
core load a few hundred modules, tens of thousands of functions, classes and dictionaries that
live as long as the process. ``pause_while_starting`` pauses the collector from the first line
of ``provisioner`` until ``resume_after_starting`` (``cli.common.run``, once the core has loaded
and a command's own work begins), so a command that talks to Graph for minutes, or a server,
still has it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_STARTING = {"paused": False}  # paused by pause_while_starting, not yet resumed


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block; as it was after (a nested block leaves it paused)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def pause_while_starting() -> None:
    """Pause the collector until ``resume_after_starting``; where something else already paused
    it, leave it as it is."""
    if gc.isenabled():
        gc.disable()
        _STARTING["paused"] = True


def resume_after_starting() -> None:
    """The collector back on if ``pause_while_starting`` paused it; otherwise nothing. What the
    start made is frozen first (``gc.freeze``): left for the collector, every object of it would
    be walked again by the next few collections (in ``status``, for longer than the pause saved),
    and none of it is garbage."""
    if _STARTING["paused"]:
        _STARTING["paused"] = False
        gc.freeze()
        gc.enable()


@contextmanager
def running() -> Iterator[None]:
    """The collector on inside the block, within a paused one: for work that leaves garbage of its
    own as it goes (an API's requests and answers); as it was after."""
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was_enabled:
            gc.disable()
