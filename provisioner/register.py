"""Processor register entries: the shipped ones in ``registers/``, by processor id."""

from __future__ import annotations

import tomllib
from importlib import resources


def shipped_entries() -> dict[str, dict]:
    """Every register entry shipped with the tool, keyed by its id."""
    entries = {}
    for item in resources.files("registers").iterdir():
        if item.name.endswith(".toml"):
            entry = tomllib.loads(item.read_text(encoding="utf-8"))
            entries[entry["id"]] = entry
    return entries
