"""Batches: the import files, API runs and deletion lists the tool issues, what each holds,
and what the admin confirms was done with them (uploaded, or the accounts deleted)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import date

from provisioner.state.records import (
    AccountStatus, Batch, BatchKind, BatchStatus, PendingSend, SendStatus, now,
)  # fmt: skip

_BATCH_COLUMNS = "id, platform, run_id, file, status, created_at, issued_at, kind, due"


def _batch(row: tuple) -> Batch:
    id_, platform, run_id, file, status, created_at, issued_at, kind, due = row
    return Batch(id_, platform, run_id, file, BatchStatus(status), created_at, issued_at, BatchKind(kind), due)


class BatchLedger:
    """Mixed into ``State``: needs ``db``, ``transaction``, ``audit`` and ``_set_status``."""

    db: sqlite3.Connection

    def batches(self, platform: str | None = None, status: BatchStatus | None = None) -> list[Batch]:
        query = f"SELECT {_BATCH_COLUMNS} FROM batches WHERE 1=1"  # noqa: S608
        args: list = []
        if platform:
            query += " AND platform = ?"
            args.append(platform)
        if status:
            query += " AND status = ?"
            args.append(status)
        return [_batch(row) for row in self.db.execute(query + " ORDER BY created_at, id", args)]

    def pending_sends(self, platform: str, batch_id: str) -> list[PendingSend]:
        rows = self.db.execute(
            "SELECT id, pupil_key, action, fields, changed FROM sends"
            " WHERE platform = ? AND batch_id = ? AND status = ? ORDER BY id",
            (platform, batch_id, SendStatus.PENDING),
        )
        return [PendingSend(id_, key, action, json.loads(f), json.loads(c)) for id_, key, action, f, c in rows]

    def batch_pupils(self, platform: str, batch_id: str) -> set[str]:
        """The pupil keys a batch was recorded to send to (whether sent yet or not)."""
        rows = self.db.execute("SELECT pupil_key FROM sends WHERE platform = ? AND batch_id = ?", (platform, batch_id))
        return {key for (key,) in rows}

    def next_batch_id(self, today: str) -> str:
        """Batches are numbered by day: 20261122-001, 20261122-002..."""
        stem = today.replace("-", "")
        last = self.db.execute(
            "SELECT MAX(CAST(substr(id, 10) AS INTEGER)) FROM batches WHERE id LIKE ?", (f"{stem}-%",)
        ).fetchone()[0]
        return f"{stem}-{(last or 0) + 1:03d}"

    def _set_batch(self, batch: Batch, status: BatchStatus, *, issued_at: str | None = None,
                   confirmed_at: str | None = None) -> None:  # fmt: skip
        self.db.execute(
            "UPDATE batches SET status = ?, issued_at = COALESCE(?, issued_at), confirmed_at = COALESCE(?, confirmed_at)"
            " WHERE platform = ? AND id = ?",
            (status, issued_at, confirmed_at, batch.platform, batch.id),
        )

    def confirm_upload(self, batch: Batch) -> None:
        """The admin uploaded an issued import."""
        with self.transaction():
            self._set_batch(batch, BatchStatus.UPLOADED, confirmed_at=now())
            self.audit(None, "batch.uploaded", batch.platform, detail={"batch": batch.id})

    # Deletion lists

    def issue_deletion_list(self, batch: Batch, reasons: Mapping[str, str]) -> None:
        """A list asking the admin to delete these accounts (``reasons``: pupil key -> why), each
        now awaiting deletion until the admin confirms it."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO batches (id, platform, run_id, kind, file, status, created_at, issued_at, due)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (batch.id, batch.platform, batch.run_id, BatchKind.DELETION, batch.file, BatchStatus.ISSUED, batch.created_at,
                 batch.issued_at, batch.due),
            )  # fmt: skip
            for key, reason in reasons.items():
                db.execute(
                    "INSERT INTO sends (run_id, platform, batch_id, pupil_key, action, fields, changed, status)"
                    " VALUES (?, ?, ?, ?, 'delete', '{}', '[]', ?)",
                    (batch.run_id, batch.platform, batch.id, key, SendStatus.PENDING),
                )
                self._set_status(batch.run_id, batch.platform, key, AccountStatus.DELETION_REQUESTED, "deletion_requested",
                                 {"reason": reason, "batch": batch.id}, history=False)  # fmt: skip

    def confirm_deletion_list(self, run_id: int, batch: Batch) -> int:
        """The admin deleted the accounts on a deletion list: each is deleted now, but a returner
        taken off the list meanwhile. Returns how many rows the list held."""
        stamp = now()
        with self.transaction() as db:
            rows = db.execute(
                "SELECT s.id, s.pupil_key, a.status FROM sends s LEFT JOIN accounts a"
                " ON a.platform = s.platform AND a.pupil_key = s.pupil_key"
                " WHERE s.platform = ? AND s.batch_id = ? AND s.status = ?",
                (batch.platform, batch.id, SendStatus.PENDING),
            ).fetchall()
            for send_id, key, status in rows:
                db.execute("UPDATE sends SET status = ?, sent_at = ? WHERE id = ?", (SendStatus.DONE, stamp, send_id))
                if status == AccountStatus.DELETION_REQUESTED:
                    self._set_status(run_id, batch.platform, key, AccountStatus.DELETED, "delete", {"batch": batch.id},
                                     history=False)  # fmt: skip
            self._set_batch(batch, BatchStatus.DELETED, confirmed_at=stamp)
            self.audit(run_id, "batch.deleted", batch.platform, detail={"batch": batch.id, "accounts": len(rows)})
        return len(rows)

    def overdue(self, platform: str, today: date) -> dict[str, int]:
        """Deletions past their due date on one platform: rows of deletion lists not confirmed in
        time, and leavers' accounts whose deletion fell due but no cleanup has acted on."""
        lists = self.db.execute(
            "SELECT COUNT(*) FROM sends s JOIN batches b ON b.platform = s.platform AND b.id = s.batch_id"
            " WHERE s.platform = ? AND s.status = ? AND b.kind = ? AND b.status = ? AND b.due IS NOT NULL AND b.due < ?",
            (platform, SendStatus.PENDING, BatchKind.DELETION, BatchStatus.ISSUED, today.isoformat()),
        ).fetchone()[0]
        waiting = self.db.execute(
            "SELECT COUNT(*) FROM accounts WHERE platform = ? AND status IN (?, ?)"
            " AND delete_due IS NOT NULL AND delete_due < ?",
            (platform, AccountStatus.ACTIVE, AccountStatus.DISABLED, today.isoformat()),
        ).fetchone()[0]
        return {"unconfirmed_deletion_lists": lists, "deletions_not_started": waiting}

    # Which batches' files may go

    def batches_naming(self, pupil_keys: list[str]) -> set[tuple[str, str, BatchStatus]]:
        """(platform, batch id, status) of every batch that held any of these pupils."""
        found = set()
        for key in pupil_keys:
            rows = self.db.execute(
                "SELECT s.platform, s.batch_id, b.status FROM sends s JOIN batches b ON b.platform = s.platform"
                " AND b.id = s.batch_id WHERE s.pupil_key = ?",
                (key,),
            )
            found |= {(platform, batch_id, BatchStatus(status)) for platform, batch_id, status in rows}
        return found

    def finished_batches(self) -> list[tuple[str, str, str]]:
        """(platform, batch id, when it was finished) of every batch nothing more is asked of."""
        finished = [status for status in BatchStatus if status.finished]
        return self.db.execute(
            "SELECT platform, id, COALESCE(confirmed_at, issued_at) FROM batches"
            f" WHERE status IN ({', '.join('?' * len(finished))}) AND COALESCE(confirmed_at, issued_at) IS NOT NULL",  # noqa: S608
            finished,
        ).fetchall()
