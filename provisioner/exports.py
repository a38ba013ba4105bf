"""A package's public names, each loaded from its module when first asked for.

Every command imports a little of some packages (a connector reads its default scope from
``register.entries``, its settings clean a cell with ``roster.values``), and Python runs a
package's ``__init__`` first: one that imported all its modules made every command, ``status``
too, wait for the register's build and the roster reader to load. Such a package lists where
each name lives and hands ``__getattr__`` to this instead (PEP 562).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def loaded_on_first_use(package: str, homes: Mapping[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """The package's ``__getattr__``: ``homes`` maps each of its modules to the names it exports."""
    home_of = {name: module for module, names in homes.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = home_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__
