"""Python's cyclic garbage collector, paused while a command builds many long-lived objects.

Reading a roster and planning make hundreds of thousands of objects that live until the command
ends (rows, pupils, accounts, each pupil's change on each platform) and next to no garbage.
Left on, the collector rescans all of them again and again as they pile up: about 10% of a
50,000-pupil roster read, and a third of a plan of 50,000 pupils on seven platforms
(bench/plan_scale.py). Reference counting still frees everything that is let go; only the
search for reference cycles waits until the block ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
