"""Finding the connectors: every ``Connector`` subclass defined in a module of the top-level
``connectors`` package, so adding a platform is adding a module there (and its register entry)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from functools import cache

from provisioner.connector.base import Connector


def _iter_connector_classes() -> Iterator[type[Connector]]:
    package = importlib.import_module("connectors")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"connectors.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Connector) and getattr(value, "id", None):
                if value.__module__.startswith(module.__name__):  # its own, not an imported base
                    yield value


@cache
def registry() -> dict[str, type[Connector]]:
    """Every connector class, by platform id."""
    found: dict[str, type[Connector]] = {}
    for cls in _iter_connector_classes():
        if cls.id in found and found[cls.id] is not cls:
            raise RuntimeError(f"two connectors claim the platform id '{cls.id}'")
        found[cls.id] = cls
    return found
