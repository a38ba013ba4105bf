"""Runs and the audit log: every command that changes something is a run, and every change is
an event in an append-only, hash-chained log. Events name a pupil only by a keyed hash of
their key, so the log can outlive the pupil's data (the tool's own retention forgets the rest)."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterable

from provisioner.state.records import RunStatus, now

GENESIS = "0" * 64


class RunsAndAudit:
    """Mixed into ``State``: needs ``db`` and ``_secret``."""

    db: sqlite3.Connection
    _secret: bytes

    # Runs

    def begin_run(self, command: str, roster_sha256: str | None) -> int:
        with self.transaction():
            cursor = self.db.execute(
                "INSERT INTO runs (command, started_at, status, roster_sha256) VALUES (?, ?, ?, ?)",
                (command, now(), RunStatus.RUNNING, roster_sha256),
            )
            run_id = cursor.lastrowid
            self.audit(run_id, "run.started", detail={"command": command})
        return run_id

    def finish_run(self, run_id: int, status: RunStatus, summary: dict) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
                (now(), status, json.dumps(summary, sort_keys=True), run_id),
            )
            self.audit(run_id, "run.finished", detail={"status": str(status), **summary})

    def mark_interrupted_runs(self) -> int:
        """Runs still 'running' when the workspace lock is free were killed mid-way."""
        with self.transaction():
            return self.db.execute(
                "UPDATE runs SET status = ?, finished_at = ? WHERE status = ?",
                (RunStatus.INTERRUPTED, now(), RunStatus.RUNNING),
            ).rowcount

    def unfinished_runs(self) -> set[int]:
        """Runs that were killed or failed part way (what they left may still be owed)."""
        rows = self.db.execute("SELECT id FROM runs WHERE status IN (?, ?)", (RunStatus.INTERRUPTED, RunStatus.FAILED))
        return {run_id for (run_id,) in rows}

    def last_runs(self, limit: int = 5) -> list[dict]:
        rows = self.db.execute(
            "SELECT id, command, started_at, finished_at, status, summary FROM runs ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [
            {"id": r[0], "command": r[1], "started_at": r[2], "finished_at": r[3], "status": r[4],
             "summary": json.loads(r[5]) if r[5] else None}
            for r in rows
        ]  # fmt: skip

    # The audit log

    def subject(self, pupil_key: str) -> str:
        """The keyed hash that stands for a pupil in the audit log and in erasure holds."""
        return hmac.new(self._secret, b"audit\0" + pupil_key.encode(), hashlib.sha256).hexdigest()[:32]

    def audit(
        self, run_id: int | None, action: str, platform: str | None = None, pupil_key: str | None = None,
        detail: dict | None = None,
    ) -> None:  # fmt: skip
        """Append one event. Call inside a transaction, so the event and the change commit together."""
        prev = self.db.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        prev_hash = prev[0] if prev else GENESIS
        subject = self.subject(pupil_key) if pupil_key else None
        entry = {
            "at": now(), "run_id": run_id, "action": action, "platform": platform, "subject": subject,
            "detail": json.dumps(detail or {}, sort_keys=True),
        }  # fmt: skip
        digest = _entry_hash(prev_hash, entry)
        self.db.execute(
            "INSERT INTO audit (at, run_id, action, platform, subject, detail, prev, hash)"
            " VALUES (:at, :run_id, :action, :platform, :subject, :detail, :prev, :hash)",
            {**entry, "prev": prev_hash, "hash": digest},
        )

    def audit_many(self, run_id: int | None, platform: str | None,
                   events: Iterable[tuple[str, str | None, dict | None]]) -> None:  # fmt: skip
        """Append events in order, each (action, pupil key or None, detail), as ``audit`` would
        one at a time: the chain's last hash is read once and the rows inserted together (an
        apply logs one event per account). Call inside a transaction."""
        prev = self.db.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        prev_hash = prev[0] if prev else GENESIS
        at, rows = now(), []
        for action, pupil_key, detail in events:
            entry = {
                "at": at, "run_id": run_id, "action": action, "platform": platform,
                "subject": self.subject(pupil_key) if pupil_key else None,
                "detail": json.dumps(detail or {}, sort_keys=True),
            }  # fmt: skip
            digest = _entry_hash(prev_hash, entry)
            rows.append((at, run_id, action, platform, entry["subject"], entry["detail"], prev_hash, digest))
            prev_hash = digest
        self.db.executemany(
            "INSERT INTO audit (at, run_id, action, platform, subject, detail, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def record_event(self, run_id: int | None, action: str, platform: str | None = None, detail: dict | None = None) -> None:
        """One event on its own (no other change goes with it), committed at once."""
        with self.transaction():
            self.audit(run_id, action, platform, detail=detail)

    def verify_audit(self) -> tuple[int, int | None]:
        """(entries checked, first broken seq or None) walking the hash chain from the start."""
        prev_hash = GENESIS
        count = 0
        for seq, at, run_id, action, platform, subject, detail, prev, digest in self.db.execute(
            "SELECT seq, at, run_id, action, platform, subject, detail, prev, hash FROM audit ORDER BY seq"
        ):
            entry = {"at": at, "run_id": run_id, "action": action, "platform": platform, "subject": subject,
                     "detail": detail}  # fmt: skip
            if prev != prev_hash or _entry_hash(prev_hash, entry) != digest:
                return count, seq
            prev_hash = digest
            count += 1
        return count, None


def _entry_hash(prev_hash: str, entry: dict) -> str:
    payload = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()
