"""How each deletion is known: on the admin's word (a confirmed deletion list) or proved by the
platform's own pupil export, which no longer holds the account.

A reconcile reads a platform's export and records what it shows, each change one named
operation with its audit event in the same transaction: an account on an unconfirmed deletion
list that the export no longer holds is deleted (``account.delete``, proved by the export); a
deletion already confirmed is proved (``account.deletion_proved``); an account the export
still holds is never counted deleted, and its deletion list's row remembers the day, so the
list cannot then be confirmed on the admin's word alone (``still_present_on_list``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from provisioner.state.records import AccountStatus, Batch, BatchKind, BatchStatus, SendStatus, now

ADMIN = "admin"  # the admin confirmed the deletion list
EXPORT = "export"  # the platform's own export no longer held the account
STILL_PRESENT = "still_present"  # confirmed deleted, but the platform's export still held it


@dataclass(frozen=True)
class DeletionProofs:
    """How one platform's deleted accounts are known to be gone, for status and the register."""

    proved_by_export: int = 0  # deleted, and the platform's export no longer holds them
    last_export: str | None = None  # the day of the latest export that proved a deletion
    confirmed_by_admin: int = 0  # deleted on the admin's word (a confirmed deletion list)
    still_in_export: int = 0  # confirmed deleted, yet the platform's latest export still held them
    awaiting_still_present: int = 0  # on a deletion list not confirmed, and an export since still held them

    def as_dict(self) -> dict:
        return {"proved_by_export": self.proved_by_export, "last_export": self.last_export,
                "confirmed_by_admin": self.confirmed_by_admin, "still_in_export": self.still_in_export,
                "awaiting_still_present": self.awaiting_still_present}  # fmt: skip


class ProofLedger:
    """Mixed into ``State``: needs ``db``, ``transaction``, ``audit``, ``_set_status``,
    ``_set_batch`` and ``batches``."""

    db: sqlite3.Connection

    def deletion_proofs(self, platform: str) -> DeletionProofs:
        rows = self.db.execute(
            "SELECT deletion_proof, COUNT(*), MAX(deletion_proof_on) FROM accounts WHERE platform = ? AND status = ?"
            " GROUP BY deletion_proof",
            (platform, AccountStatus.DELETED),
        ).fetchall()
        found = {proof: (count, last) for proof, count, last in rows}
        awaiting = self.db.execute(
            # From the deletion lists (a few) to their rows, not from every send of the platform.
            "SELECT COUNT(*) FROM batches b CROSS JOIN sends s ON s.platform = b.platform AND s.batch_id = b.id"
            " JOIN accounts a ON a.platform = s.platform AND a.pupil_key = s.pupil_key"
            " WHERE b.platform = ? AND b.kind = ? AND s.action = 'delete' AND s.status = ?"
            " AND s.still_present_on IS NOT NULL AND a.status = ?",
            (platform, BatchKind.DELETION, SendStatus.PENDING, AccountStatus.DELETION_REQUESTED),
        ).fetchone()[0]
        return DeletionProofs(
            awaiting_still_present=awaiting,
            proved_by_export=found.get(EXPORT, (0, None))[0],
            last_export=found.get(EXPORT, (0, None))[1],
            confirmed_by_admin=found.get(ADMIN, (0, None))[0],
            still_in_export=found.get(STILL_PRESENT, (0, None))[0],
        )

    def deletion_proof(self, platform: str, pupil_key: str) -> tuple[str | None, str | None]:
        """(how the account's deletion is known, the day), for one account."""
        row = self.db.execute(
            "SELECT deletion_proof, deletion_proof_on FROM accounts WHERE platform = ? AND pupil_key = ?",
            (platform, pupil_key),
        ).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def still_present_on_list(self, batch: Batch) -> int:
        """How many accounts of this deletion list, awaiting deletion, a platform export read
        since the list was issued still held."""
        return self.db.execute(
            "SELECT COUNT(*) FROM sends s JOIN accounts a ON a.platform = s.platform AND a.pupil_key = s.pupil_key"
            " WHERE s.platform = ? AND s.batch_id = ? AND s.status = ? AND s.still_present_on IS NOT NULL"
            " AND a.status = ?",
            (batch.platform, batch.id, SendStatus.PENDING, AccountStatus.DELETION_REQUESTED),
        ).fetchone()[0]

    def record_export_proof(self, run_id: int, platform: str, export_date: str, gone: Iterable[str],
                            present: Iterable[str]) -> int:  # fmt: skip
        """What the platform's export of ``export_date`` showed of the accounts whose deletion
        was asked or confirmed: ``gone`` (keys it no longer held) and ``present`` (keys it still
        held). Returns how many deletions it proved."""
        detail = {"proved_by": EXPORT, "export_date": export_date}
        stamp, proved, lists = now(), 0, set()
        with self.transaction() as db:
            statuses = dict(db.execute("SELECT pupil_key, status FROM accounts WHERE platform = ?", (platform,)))
            for key in gone:
                status = statuses.get(key)
                if status == AccountStatus.DELETION_REQUESTED:
                    for send_id, batch_id in db.execute(
                        "SELECT id, batch_id FROM sends WHERE platform = ? AND pupil_key = ? AND action = 'delete'"
                        " AND status = ?", (platform, key, SendStatus.PENDING)).fetchall():  # fmt: skip
                        db.execute("UPDATE sends SET status = ?, sent_at = ? WHERE id = ?", (SendStatus.DONE, stamp, send_id))
                        lists.add(batch_id)
                    self._set_status(run_id, platform, key, AccountStatus.DELETED, "delete", detail, history=False)
                elif status == AccountStatus.DELETED:
                    self.audit(run_id, "account.deletion_proved", platform, key, detail=detail)
                else:
                    continue
                db.execute("UPDATE accounts SET deletion_proof = ?, deletion_proof_on = ? WHERE platform = ? AND pupil_key = ?",
                           (EXPORT, export_date, platform, key))  # fmt: skip
                proved += 1
            for key in present:
                status = statuses.get(key)
                if status == AccountStatus.DELETION_REQUESTED:
                    db.execute("UPDATE sends SET still_present_on = ? WHERE platform = ? AND pupil_key = ?"
                               " AND action = 'delete' AND status = ?",
                               (export_date, platform, key, SendStatus.PENDING))  # fmt: skip
                elif status == AccountStatus.DELETED:
                    db.execute("UPDATE accounts SET deletion_proof = ?, deletion_proof_on = ? WHERE platform = ?"
                               " AND pupil_key = ?", (STILL_PRESENT, export_date, platform, key))  # fmt: skip
                else:
                    continue
                self.audit(run_id, "account.still_present", platform, key, detail={"export_date": export_date})
            self._finish_proved_lists(run_id, platform, lists, stamp)
        return proved

    def _finish_proved_lists(self, run_id: int, platform: str, batch_ids: set[str], stamp: str) -> None:
        """A deletion list whose every row is now done is carried out: the export proved it."""
        for batch in self.batches(platform, status=BatchStatus.ISSUED):
            if batch.id not in batch_ids or batch.kind is not BatchKind.DELETION:
                continue
            left = self.db.execute("SELECT COUNT(*) FROM sends WHERE platform = ? AND batch_id = ? AND status = ?",
                                   (platform, batch.id, SendStatus.PENDING)).fetchone()[0]  # fmt: skip
            if not left:
                self._set_batch(batch, BatchStatus.DELETED, confirmed_at=stamp)
                self.audit(run_id, "batch.deleted", platform, detail={"batch": batch.id, "proved_by": EXPORT})

    def record_admin_proof(self, platform: str, pupil_keys: Iterable[str]) -> None:
        """These deletions are known on the admin's word. Call inside the confirming transaction."""
        for key in pupil_keys:
            self.db.execute(
                "UPDATE accounts SET deletion_proof = ?, deletion_proof_on = ? WHERE platform = ? AND pupil_key = ?",
                (ADMIN, now()[:10], platform, key),
            )
