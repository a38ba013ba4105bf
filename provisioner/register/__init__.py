"""The processor register: who holds which pupil data, why, where, under which agreement, for
how long, and how many pupils each holds now.

An entry is data (``registers/<id>.toml``, shipped; a school adds or overrides entries in its
workspace's ``registers/`` folder). For a connected platform the fields held are never typed in
the entry: they come from the connector's declarations, the same ones that decide what is sent,
so the register cannot drift from what the tool does. The live evidence (pupils held, last runs,
deletions overdue) comes from the state, and the approvals (who agreed each field list, and
when it is next reviewed) are recorded there too.

An entry is written as the school's statements. What is not known yet is a question for the
supplier ("Question for Pearson: ...?") or a fact the school records ("To record: ..."); both
show as gaps (``gap_kind``), never as guesses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provisioner.exports import loaded_on_first_use

if TYPE_CHECKING:
    from provisioner.register.build import approve, approve_all, build_register
    from provisioner.register.check import Verdict, check_processor, require_approved, verdict
    from provisioner.register.entries import (
        ITEMS, MANDATORY, NOT_FOUND, SCHOOL_TO_RECORD, DefaultScope, Entry, default_scope, gap_kind, gap_kinds,
        load_entries, shipped_entries,
    )  # fmt: skip
    from provisioner.register.model import Evidence, Problem, Processor, Register

# Where each public name lives. They are loaded when first asked for, not with the package:
# every connector reads its entry's default scope (register.entries) on every command, and
# `status` should not wait for the register's build and check to load as well.
_HOMES = {
    "build": ("approve", "approve_all", "build_register"),
    "check": ("Verdict", "check_processor", "require_approved", "verdict"),
    "entries": ("ITEMS", "MANDATORY", "NOT_FOUND", "SCHOOL_TO_RECORD", "DefaultScope", "Entry", "default_scope",
                "gap_kind", "gap_kinds", "load_entries", "shipped_entries"),
    "model": ("Evidence", "Problem", "Processor", "Register"),
}  # fmt: skip
__getattr__ = loaded_on_first_use(__name__, _HOMES)

__all__ = [
    "ITEMS", "MANDATORY", "NOT_FOUND", "SCHOOL_TO_RECORD", "DefaultScope", "Entry", "Evidence", "Problem", "Processor",
    "Register", "Verdict", "approve", "approve_all", "build_register", "check_processor", "default_scope", "gap_kind",
    "gap_kinds", "load_entries", "require_approved", "shipped_entries", "verdict",
]  # fmt: skip
