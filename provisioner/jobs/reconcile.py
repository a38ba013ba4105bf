"""Reconcile: a platform's own pupil export as proof of what it holds.

``planning/reconcile.py`` compares the export with the accounts the tool made there; this
records what it proves (``State.record_export_proof``) as one run. The proof is dated the day
the export was read (``today``), not the file's modification time, which a copy or a download
folder's sync may change: the admin reads an export the day they download it.

An export that cannot be a whole picture of the platform proves nothing: one with no pupil
rows, one matching none of the accounts the tool holds there (another platform's export, or
another school's), or one lacking more of the accounts in use than the leaver guard's share
(a filtered export: one class, one year) would otherwise "prove" deletions it never looked
at. Its report is still shown; no deletion is recorded from it.
"""

from __future__ import annotations

from datetime import date

from provisioner.connector import Connector
from provisioner.errors import GuardRefused
from provisioner.planning.reconcile import IN_USE, Reconciliation, reconcile
from provisioner.roster.platform_export import PlatformExport
from provisioner.state import RunStatus, State
from provisioner.workspace import Workspace


def reconcile_export(workspace: Workspace, state: State, connector: Connector, export: PlatformExport,
                     today: date) -> Reconciliation:  # fmt: skip
    """Compare the platform's export with the accounts held, and record the deletions it proves."""
    accounts = state.accounts(connector.id)
    result = reconcile(connector, export, accounts, state.identities(), today.isoformat(),
                       workspace.settings.school.domain)  # fmt: skip
    in_use = sum(1 for a in accounts.values() if a.status in IN_USE)
    result.withheld = _withheld(result, in_use, workspace.settings.leavers.max_share)
    run_id = state.begin_run("reconcile", None)
    if not result.withheld:
        result.proved = state.record_export_proof(
            run_id, connector.id, result.export_date,
            gone=[f.pupil_key for f in result.proved_gone if f.pupil_key],
            present=[f.pupil_key for f in result.still_present if f.pupil_key],
        )  # fmt: skip
    state.finish_run(run_id, RunStatus.OK, {"platform": connector.id, **result.counts(), "proved": result.proved})
    return result


def _withheld(result: Reconciliation, in_use: int, max_share: float) -> str:
    """Why this export cannot prove a deletion ("" when it can)."""
    where = f"{result.name}'s export"
    if not result.rows:
        return f"{where} has no pupil rows; an empty export is never taken to prove a deletion"
    matched = in_use - len(result.missing)
    if in_use and not matched:
        return (f"{where} holds none of the {in_use} account(s) the tool holds in use there; check it is "
                f"{result.name}'s pupil export for this school")
    if in_use and len(result.missing) > max_share * in_use:
        return (f"{where} lacks {len(result.missing)} of the {in_use} account(s) in use, more than "
                f"{max_share:.0%}; an export of only some classes cannot prove the others' deletion: download "
                "the export of every pupil, and upload first any import file 'provisioner status' lists as "
                "awaiting upload")
    return ""


def refuse_if_withheld(result: Reconciliation) -> None:
    """For a front end that must fail when no proof was recorded (the report is shown first)."""
    if result.withheld:
        raise GuardRefused(f"no deletion was recorded: {result.withheld}",
                           hint=f"download {result.name}'s full pupil export and run 'provisioner reconcile "
                           f"{result.platform} FILE' again")  # fmt: skip
