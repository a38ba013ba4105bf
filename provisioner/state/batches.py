"""Batches: the import files, API runs and deletion lists the tool issues, what each holds,
and what the admin confirms was done with them (uploaded, or the accounts deleted)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import date

from provisioner.state.accounts import NO_FIELDS, pending_send
from provisioner.state.texts import EACH_KEY, decode_sent, keys_given
from provisioner.state.records import (
    AccountStatus, Batch, BatchKind, BatchStatus, PendingSend, SendStatus, SlipFile, now,
)  # fmt: skip

_BATCH_COLUMNS = "id, platform, run_id, file, status, created_at, issued_at, kind, due"


def _batch(row: tuple) -> Batch:
    id_, platform, run_id, file, status, created_at, issued_at, kind, due = row
    return Batch(id_, platform, run_id, file, BatchStatus(status), created_at, issued_at, BatchKind(kind), due)


class BatchLedger:
    """Mixed into ``State``: needs ``db``, ``transaction``, ``audit``, ``_set_status``, ``_set_statuses`` and
    ``record_admin_proof``."""

    db: sqlite3.Connection

    def holds_batches(self) -> bool:
        """Whether any batch was ever recorded (a state begun afresh holds none)."""
        return self.db.execute("SELECT 1 FROM batches LIMIT 1").fetchone() is not None

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
        lists = {id_: json.loads(names) for id_, names in self.db.execute("SELECT id, names FROM field_lists")}
        rows = self.db.execute(
            "SELECT s.id, s.pupil_key, s.action, COALESCE(s.fields, a.sent), s.changed FROM sends s"
            " LEFT JOIN accounts a ON a.platform = s.platform AND a.pupil_key = s.pupil_key"
            " WHERE s.platform = ? AND s.batch_id = ? AND s.status = ? ORDER BY s.id",
            (platform, batch_id, SendStatus.PENDING),
        )
        # A batch's rows name a few lists of fields: each decoded once, and each send given its own copy.
        return [pending_send(id_, key, action, decode_sent(f), list(lists[c])) for id_, key, action, f, c in rows]

    def batch_pupils(self, platform: str, batch_id: str) -> set[str]:
        """The pupil keys a batch was recorded to send to (whether sent yet or not)."""
        rows = self.db.execute("SELECT pupil_key FROM sends WHERE platform = ? AND batch_id = ?", (platform, batch_id))
        return {key for (key,) in rows}

    def awaiting_upload(self, platform: str) -> set[str]:
        """The pupils whose account is made only in an import file the admin has not confirmed
        uploading: the file is written (``mark_written`` made the account active, so a plan does
        not create it again) but the platform may not have the pupil yet. A pupil counts here
        while its latest create is in such a batch and its account is still active; once the
        upload is confirmed, or the account moves on (a deletion list, say), it counts as held.

        Only the register and the overview read this: erasure and leaver decisions go on
        treating the account as held (``AccountStatus.held``), since the file may have been
        uploaded without anyone confirming it."""
        # From the few batches still issued to their sends, not from every send of the platform
        # (CROSS JOIN keeps SQLite to that order): once the files are confirmed, a trust's overview
        # reads nothing here.
        rows = self.db.execute(
            "SELECT s.pupil_key FROM batches b CROSS JOIN sends s ON s.platform = b.platform AND s.batch_id = b.id"
            " JOIN accounts a ON a.platform = s.platform AND a.pupil_key = s.pupil_key"
            " WHERE b.platform = ? AND b.kind = ? AND b.status = ? AND s.action = 'create' AND s.status = ?"
            " AND a.status = ? AND NOT EXISTS (SELECT 1 FROM sends l WHERE l.pupil_key = s.pupil_key"
            " AND l.platform = s.platform AND l.action = 'create' AND l.status = ? AND l.id > s.id)",
            (platform, BatchKind.IMPORT, BatchStatus.ISSUED, SendStatus.DONE, AccountStatus.ACTIVE, SendStatus.DONE),
        )
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

    # Login slips an API batch wrote: owed to the admin until an apply's answer names them

    def _record_slips(self, batch: Batch, files: Iterable[str]) -> None:
        """The slip files written for ``batch`` (paths relative to the workspace), not yet named
        to anyone; a file written again under a name the admin had deleted is owed again. Call
        inside the transaction that records the outcomes they show."""
        files = list(files)
        if not files:
            return
        self.db.executemany(
            "INSERT INTO slips (file, platform, batch_id, written_at) VALUES (?, ?, ?, ?) ON CONFLICT (file)"
            " DO UPDATE SET platform = excluded.platform, batch_id = excluded.batch_id,"
            " written_at = excluded.written_at, named_at = NULL",
            [(file, batch.platform, batch.id, now()) for file in files],
        )
        self.audit(batch.run_id, "slips.written", batch.platform, detail={"batch": batch.id, "files": len(files)})

    def slips_not_named(self) -> list[SlipFile]:
        """The slip files written that no finished apply's answer has named yet, oldest first."""
        rows = self.db.execute(
            "SELECT platform, batch_id, file FROM slips WHERE named_at IS NULL ORDER BY written_at, batch_id, file"
        )
        return [SlipFile(*row) for row in rows]

    def mark_slips_named(self, run_id: int | None, files: Iterable[str]) -> None:
        """An apply's answer named these slip files to the admin: they are owed no longer."""
        files = sorted(set(files))
        if not files:
            return
        with self.transaction() as db:
            stamp = now()
            named = sum(db.execute("UPDATE slips SET named_at = ? WHERE file = ? AND named_at IS NULL",
                                   (stamp, file)).rowcount for file in files)  # fmt: skip
            if named:
                self.audit(run_id, "slips.named", detail={"files": named})

    # Deletion lists

    def issue_deletion_list(self, batch: Batch, reasons: Mapping[str, str], action: str = "delete") -> None:
        """A list asking the admin to delete these accounts (``reasons``: pupil key -> why), each
        now awaiting deletion until the admin confirms it. ``action`` is what each row asks:
        "delete", "hold" (removed from use, kept by the platform for a while: TTRS's Leavers
        group) or, on a leaver upload, "disable" (left out, so the platform marks them inactive)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO batches (id, platform, run_id, kind, file, status, created_at, issued_at, due)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (batch.id, batch.platform, batch.run_id, batch.kind, batch.file, BatchStatus.ISSUED, batch.created_at,
                 batch.issued_at, batch.due),
            )  # fmt: skip
            db.execute(  # one statement for the list's rows, in the order given
                "INSERT INTO sends (run_id, platform, batch_id, pupil_key, action, fields, changed, status)"
                f" SELECT ?, ?, ?, value, ?, '{{}}', {NO_FIELDS}, ? FROM {EACH_KEY}",  # noqa: S608 (fixed)
                (batch.run_id, batch.platform, batch.id, action, SendStatus.PENDING, keys_given(reasons)),
            )
            self._set_statuses(batch.run_id, batch.platform,
                               {key: {"reason": reason, "batch": batch.id} for key, reason in reasons.items()},
                               AccountStatus.DELETION_REQUESTED, "deletion_requested", history=False)  # fmt: skip

    def confirm_deletion_list(self, run_id: int, batch: Batch, held_until: date | None = None) -> int:
        """The admin deleted the accounts on a deletion list: each is deleted now, but a returner
        taken off the list meanwhile. A row that sent the account to the platform's own hold
        (TTRS's Leavers group) is held until ``held_until`` instead, when the platform deletes
        it. Returns how many rows the list held."""
        stamp = now()
        with self.transaction():
            rows = self._close_list_rows(batch, stamp)
            for key, action, status in rows:
                if status != AccountStatus.DELETION_REQUESTED:
                    continue
                if action == "hold" and held_until is not None:
                    self._set_status(run_id, batch.platform, key, AccountStatus.PLATFORM_HOLD, "hold",
                                     {"batch": batch.id, "held_until": held_until.isoformat()}, history=False,
                                     delete_due=held_until.isoformat())  # fmt: skip
                else:
                    self._set_status(run_id, batch.platform, key, AccountStatus.DELETED, "delete", {"batch": batch.id},
                                     history=False)  # fmt: skip
                    self.record_admin_proof(batch.platform, [key])
            self._set_batch(batch, BatchStatus.DELETED, confirmed_at=stamp)
            self.audit(run_id, "batch.deleted", batch.platform, detail={"batch": batch.id, "accounts": len(rows)})
        return len(rows)

    def _close_list_rows(self, batch: Batch, stamp: str) -> list[tuple[str, str, str | None]]:
        """Mark a list's pending rows done, and give each as (pupil key, what the row asked for,
        the account's status now). Call inside a transaction."""
        rows = self.db.execute(
            "SELECT s.id, s.pupil_key, s.action, a.status FROM sends s LEFT JOIN accounts a"
            " ON a.platform = s.platform AND a.pupil_key = s.pupil_key"
            " WHERE s.platform = ? AND s.batch_id = ? AND s.status = ?",
            (batch.platform, batch.id, SendStatus.PENDING),
        ).fetchall()
        for send_id, *_ in rows:
            self.db.execute("UPDATE sends SET status = ?, sent_at = ? WHERE id = ?", (SendStatus.DONE, stamp, send_id))
        return [(key, action, status) for _, key, action, status in rows]

    def confirm_leaver_upload(self, run_id: int, batch: Batch, by: str) -> list[str]:
        """The admin uploaded the next whole upload without the leavers: the platform marked them
        inactive (``by`` says who, for the audit log), so their accounts are disabled, still held,
        and their deletion is still to do. A returner taken off meanwhile stays as it is. Returns
        the keys of the accounts disabled."""
        stamp = now()
        with self.transaction():
            disabled = []
            for key, _action, status in self._close_list_rows(batch, stamp):
                if status == AccountStatus.DELETION_REQUESTED:
                    self._set_status(run_id, batch.platform, key, AccountStatus.DISABLED, "disable",
                                     {"batch": batch.id, "by": by}, history=False)  # fmt: skip
                    disabled.append(key)
            self._set_batch(batch, BatchStatus.UPLOADED, confirmed_at=stamp)
            self.audit(run_id, "batch.uploaded", batch.platform, detail={"batch": batch.id, "disabled": len(disabled)})
        return disabled

    def held_until(self, platform: str, batch_id: str) -> str | None:
        """The last day the platform holds an account this deletion list sent to its own hold."""
        return self.db.execute(
            "SELECT MAX(a.delete_due) FROM sends s JOIN accounts a ON a.platform = s.platform AND a.pupil_key = s.pupil_key"
            " WHERE s.platform = ? AND s.batch_id = ? AND s.action = 'hold' AND a.status = ?",
            (platform, batch_id, AccountStatus.PLATFORM_HOLD),
        ).fetchone()[0]

    def overdue(self, platform: str, today: date) -> dict[str, int]:
        """Deletions past their due date on one platform: rows of deletion lists not confirmed in
        time, and leavers' accounts whose deletion fell due but no cleanup has acted on."""
        lists = self.db.execute(
            "SELECT COUNT(*) FROM batches b CROSS JOIN sends s ON s.platform = b.platform AND s.batch_id = b.id"
            " WHERE b.platform = ? AND s.status = ? AND b.kind = ? AND b.status = ? AND b.due IS NOT NULL AND b.due < ?",
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
