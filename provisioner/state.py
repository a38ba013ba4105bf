"""The workspace state: one SQLite file with schema migrations.

It records, for every account, the exact field values sent to its processor and when;
every run; file batches; and an append-only, hash-chained audit log. Audit entries name a
pupil only by a keyed hash of their key, so the log can outlive the pupil's data.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from provisioner import files

MIGRATIONS: list[str] = [
    # 1: accounts, usernames, runs, batches, sends, audit
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        command TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,              -- running, ok, failed, interrupted
        roster_sha256 TEXT,
        summary TEXT                       -- JSON counts, no personal data
    );
    CREATE TABLE accounts (
        platform TEXT NOT NULL,
        pupil_key TEXT NOT NULL,
        username TEXT NOT NULL,
        status TEXT NOT NULL,              -- pending (intent recorded), active
        sent TEXT NOT NULL,                -- JSON: field -> value, as last sent
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (platform, pupil_key)
    );
    CREATE TABLE usernames (              -- every username ever issued, never reused
        platform TEXT NOT NULL,
        username TEXT NOT NULL,
        pupil_key TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        PRIMARY KEY (platform, username)
    );
    CREATE TABLE batches (
        id TEXT NOT NULL,
        platform TEXT NOT NULL,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        kind TEXT NOT NULL,                -- import
        file TEXT NOT NULL,                -- relative to the workspace
        status TEXT NOT NULL,              -- writing, issued, uploaded
        created_at TEXT NOT NULL,
        issued_at TEXT,
        confirmed_at TEXT,
        PRIMARY KEY (platform, id)
    );
    CREATE TABLE sends (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        platform TEXT NOT NULL,
        batch_id TEXT,
        pupil_key TEXT NOT NULL,
        action TEXT NOT NULL,              -- create, update
        fields TEXT NOT NULL,              -- JSON: exactly the values sent
        changed TEXT NOT NULL,             -- JSON list of fields that changed
        status TEXT NOT NULL,              -- pending, done
        sent_at TEXT
    );
    CREATE INDEX sends_by_pupil ON sends (pupil_key, platform);
    CREATE INDEX sends_by_batch ON sends (platform, batch_id);
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        run_id INTEGER,
        action TEXT NOT NULL,
        platform TEXT,
        subject TEXT,                      -- keyed hash of the pupil key, never the key
        detail TEXT NOT NULL,              -- JSON, no personal data
        prev TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # 2: password resets the admin asked for, carried out by the next apply
    """
    CREATE TABLE password_resets (
        platform TEXT NOT NULL,
        pupil_key TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        PRIMARY KEY (platform, pupil_key)
    );
    """,
    # 3: the platform's own id for an account (Microsoft 365's object id)
    """
    ALTER TABLE accounts ADD COLUMN remote_id TEXT;
    """,
    # 4: leavers. Account status also: disabled, deletion_requested, deleted. left_on: the day
    # the pupil left (or was first missed); delete_due: when the account must be gone;
    # status_at: when the status last changed. A deletion batch is due (confirmed) by its date.
    """
    ALTER TABLE accounts ADD COLUMN left_on TEXT;
    ALTER TABLE accounts ADD COLUMN delete_due TEXT;
    ALTER TABLE accounts ADD COLUMN status_at TEXT;
    ALTER TABLE batches ADD COLUMN due TEXT;
    """,
    # 5: the register's approvals (who agreed each processor's field list, and when it is next
    # reviewed) and erasure holds (pupils, by keyed hash, whose data must not be sent again).
    """
    CREATE TABLE approvals (
        id INTEGER PRIMARY KEY,
        entry_id TEXT NOT NULL,
        approved_at TEXT NOT NULL,
        approved_by TEXT NOT NULL,
        role TEXT NOT NULL,
        fields_before TEXT NOT NULL,       -- JSON list of field names
        fields_after TEXT NOT NULL,        -- JSON list of field names
        next_review TEXT NOT NULL,         -- ISO date
        note TEXT NOT NULL
    );
    CREATE INDEX approvals_by_entry ON approvals (entry_id, id);
    CREATE TABLE erasure_holds (
        subject TEXT PRIMARY KEY,          -- keyed hash of the pupil key, as in the audit log
        requested_at TEXT NOT NULL
    );
    """,
]

GENESIS = "0" * 64


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Account:
    platform: str
    pupil_key: str
    username: str
    status: str
    sent: dict[str, str]
    remote_id: str | None = None
    left_on: str | None = None  # ISO date: the pupil's leaving date, or the day they were first missed
    delete_due: str | None = None  # ISO date by which the account must be deleted
    status_at: str | None = None  # when the status last changed


@dataclass(frozen=True)
class PendingSend:
    id: int
    pupil_key: str
    action: str
    fields: dict[str, str]
    changed: list[str]


@dataclass(frozen=True)
class Approval:
    """One approval of a register entry's field list (like an approval receipt)."""

    entry_id: str
    approved_at: str
    approved_by: str
    role: str
    fields_before: list[str]
    fields_after: list[str]
    next_review: str
    note: str = ""


@dataclass(frozen=True)
class Batch:
    id: str
    platform: str
    run_id: int
    file: str
    status: str
    created_at: str
    issued_at: str | None
    kind: str = "import"  # import, api, deletion
    due: str | None = None  # a deletion batch: the date by which it must be done


class State:
    def __init__(self, path: Path, secret: bytes):
        self.path = path
        self._secret = secret
        if not path.exists():
            files.create_private(path)  # before SQLite opens it, so it is never readable by others
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA foreign_keys = ON")
        # The rollback journal, not WAL: WAL is unsafe on the network drives schools use.
        self.db.execute("PRAGMA journal_mode = DELETE")
        self.db.execute("PRAGMA synchronous = FULL")
        self._migrate()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _migrate(self) -> None:
        if self.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS):
            return
        with self.transaction():
            # Read again under the write lock: another command may have migrated meanwhile.
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in _statements(script):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # Reading

    def accounts(self, platform: str) -> dict[str, Account]:
        rows = self.db.execute(
            "SELECT pupil_key, username, status, sent, remote_id, left_on, delete_due, status_at FROM accounts"
            " WHERE platform = ?",
            (platform,),
        )
        return {row[0]: Account(platform, row[0], row[1], row[2], json.loads(row[3]), *row[4:]) for row in rows}

    def usernames(self, platform: str) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT username FROM usernames WHERE platform = ?", (platform,))}

    def batches(self, platform: str | None = None, status: str | None = None) -> list[Batch]:
        query = "SELECT id, platform, run_id, file, status, created_at, issued_at, kind, due FROM batches WHERE 1=1"
        args: list = []
        if platform:
            query += " AND platform = ?"
            args.append(platform)
        if status:
            query += " AND status = ?"
            args.append(status)
        return [Batch(*row) for row in self.db.execute(query + " ORDER BY created_at, id", args)]

    def pending_sends(self, platform: str, batch_id: str) -> list[PendingSend]:
        rows = self.db.execute(
            "SELECT id, pupil_key, action, fields, changed FROM sends"
            " WHERE platform = ? AND batch_id = ? AND status = 'pending' ORDER BY id",
            (platform, batch_id),
        )
        return [PendingSend(id_, key, action, json.loads(f), json.loads(c)) for id_, key, action, f, c in rows]

    def next_batch_id(self, today: str) -> str:
        stem = today.replace("-", "")
        last = self.db.execute(
            "SELECT MAX(CAST(substr(id, 10) AS INTEGER)) FROM batches WHERE id LIKE ?", (f"{stem}-%",)
        ).fetchone()[0]
        return f"{stem}-{(last or 0) + 1:03d}"

    def last_runs(self, limit: int = 5) -> list[dict]:
        rows = self.db.execute(
            "SELECT id, command, started_at, finished_at, status, summary FROM runs ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [
            {"id": r[0], "command": r[1], "started_at": r[2], "finished_at": r[3], "status": r[4],
             "summary": json.loads(r[5]) if r[5] else None}
            for r in rows
        ]  # fmt: skip

    def password_resets(self, platform: str) -> set[str]:
        rows = self.db.execute("SELECT pupil_key FROM password_resets WHERE platform = ?", (platform,))
        return {row[0] for row in rows}

    def request_password_resets(self, platform: str, pupil_keys: list[str]) -> None:
        with self.transaction():
            stamp = now()
            for key in pupil_keys:
                self.db.execute(
                    "INSERT OR IGNORE INTO password_resets (platform, pupil_key, requested_at) VALUES (?, ?, ?)",
                    (platform, key, stamp),
                )
            self.audit(None, "password_reset.requested", platform, detail={"pupils": len(pupil_keys)})

    # The register's approvals

    def approvals(self, entry_id: str | None = None) -> list[Approval]:
        """Approvals oldest first (of one entry, or all)."""
        query = ("SELECT entry_id, approved_at, approved_by, role, fields_before, fields_after, next_review, note"
                 " FROM approvals")  # fmt: skip
        rows = self.db.execute(query + (" WHERE entry_id = ?" if entry_id else "") + " ORDER BY id",
                               (entry_id,) if entry_id else ())  # fmt: skip
        return [Approval(r[0], r[1], r[2], r[3], json.loads(r[4]), json.loads(r[5]), r[6], r[7]) for r in rows]

    def record_approval(self, approval: Approval) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO approvals (entry_id, approved_at, approved_by, role, fields_before, fields_after,"
                " next_review, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (approval.entry_id, approval.approved_at, approval.approved_by, approval.role,
                 json.dumps(approval.fields_before), json.dumps(approval.fields_after), approval.next_review,
                 approval.note),
            )  # fmt: skip
            # The audit log names no person: the approvals table holds who approved.
            self.audit(None, "register.approved", approval.entry_id,
                       detail={"fields": approval.fields_after, "next_review": approval.next_review})  # fmt: skip

    # Erasure holds

    def erasure_held(self) -> set[str]:
        """Keyed hashes of pupils whose data must not be sent again (an erasure request)."""
        return {row[0] for row in self.db.execute("SELECT subject FROM erasure_holds")}

    # Batches

    def confirm_batch(self, platform: str, batch_id: str, status: str) -> None:
        """Record that the admin did what an issued batch asked (uploaded it)."""
        with self.transaction():
            self.db.execute(
                "UPDATE batches SET status = ?, confirmed_at = ? WHERE platform = ? AND id = ?",
                (status, now(), platform, batch_id),
            )
            self.audit(None, f"batch.{status}", platform, detail={"batch": batch_id})

    # Runs

    def begin_run(self, command: str, roster_sha256: str | None) -> int:
        with self.transaction():
            cursor = self.db.execute(
                "INSERT INTO runs (command, started_at, status, roster_sha256) VALUES (?, ?, 'running', ?)",
                (command, now(), roster_sha256),
            )
            run_id = cursor.lastrowid
            self.audit(run_id, "run.started", detail={"command": command})
        return run_id

    def finish_run(self, run_id: int, status: str, summary: dict) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
                (now(), status, json.dumps(summary, sort_keys=True), run_id),
            )
            self.audit(run_id, "run.finished", detail={"status": status, **summary})

    def mark_interrupted_runs(self) -> int:
        """Runs still 'running' when the workspace lock is free were killed mid-way."""
        with self.transaction():
            return self.db.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'", (now(),)
            ).rowcount

    # The audit log

    def subject(self, pupil_key: str) -> str:
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


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if text.endswith(";") and sqlite3.complete_statement(text):
            statements.append(text)
            current = []
    return statements
