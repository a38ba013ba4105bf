"""The workspace state: one SQLite file, and the only place in the tool that reads or writes it.

It records, for every account, the exact field values sent to its processor and when; every
run; every batch; the register's approvals, the facts the school set in it, and erasure
requests; and an append-only audit log, keyed and anchored outside the file (``audit.py``). Each change is a named operation
(``record_intent``, ``mark_written``, ``issue_deletion_list``, ``forget_pupils``...) that
commits the change, its history and its audit event together.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from provisioner import files
from provisioner.errors import WorkspaceFault
from provisioner.faults import crashpoint
from provisioner.state.accounts import AccountLedger
from provisioner.state.audit import AuditHead, ChainCheck, RunsAndAudit
from provisioner.state.batches import BatchLedger
from provisioner.state.decisions import Decisions
from provisioner.state.identities import IdentityLedger, normalise_mis_id
from provisioner.state.proofs import DeletionProofs, ProofLedger
from provisioner.state.records import (
    Account, AccountStatus, Approval, Batch, BatchKind, BatchStatus, Holding, Identity, PendingSend, RegisterChange,
    RunStatus, SendStatus, SentRecord, SlipFile, now,
)  # fmt: skip
from provisioner.state.schema import MIGRATIONS, statements
from provisioner.state.statuses import StatusLedger
from provisioner.state.texts import decode_sent, json_text, sent_format, sent_text

__all__ = [
    "MIGRATIONS", "Account", "AccountStatus", "Approval", "AuditHead", "Batch", "BatchKind", "BatchStatus", "ChainCheck",
    "DeletionProofs", "Holding", "Identity", "OtherKey", "PendingSend", "RegisterChange", "RunStatus", "SendStatus",
    "SentRecord", "SlipFile", "State", "decode_sent", "json_text", "normalise_mis_id", "now", "sent_format", "sent_text",
    "state_faults",
]  # fmt: skip


class OtherKey(Exception):
    """The state was made with another school key than the one it is opened with."""


class State(AccountLedger, StatusLedger, BatchLedger, Decisions, IdentityLedger, ProofLedger, RunsAndAudit):
    """``audit_key`` keys the audit log's chain; ``head_path``, where its head is written after
    each commit (``state/audit.py``: both are kept outside this file on purpose)."""

    def __init__(self, path: Path, secret: bytes, audit_key: bytes, head_path: Path | None = None):
        self.path = path
        self._secret = secret
        self._audit_key = audit_key
        self._head_path = head_path
        self._queued, self._tokens, self._new_tokens, self._appended = [], {}, [], False
        if not path.exists():
            files.create_private(path)  # before SQLite opens it, so it is never readable by others
        self.db = sqlite3.connect(path, isolation_level=None)
        try:
            with state_faults(path):
                self.db.execute("PRAGMA foreign_keys = ON")
                # The rollback journal, not WAL: WAL is unsafe on the network drives schools use.
                self.db.execute("PRAGMA journal_mode = DELETE")
                self.db.execute("PRAGMA synchronous = FULL")
                # A deleted row's bytes are overwritten, not left in free pages: what a purge or an
                # erasure forgets cannot be read back from the file, even before it is compacted.
                self.db.execute("PRAGMA secure_delete = ON")
                self._migrate()
                self._check_key()
        except BaseException:
            self.db.close()
            raise

    def key_fingerprint(self) -> str:
        """A keyed hash of a fixed text: tells one school key from another, and reveals neither."""
        return hmac.new(self._secret, b"school key fingerprint", hashlib.sha256).hexdigest()[:32]

    def _check_key(self) -> None:
        """Refuse a key the state was not made with (every pseudonymous id would change); a state
        made before fingerprints were kept records its key's now."""
        row = self.db.execute("SELECT fingerprint FROM school_key").fetchone()
        if row is None:
            with self.transaction():
                self.db.execute("INSERT INTO school_key (fingerprint, recorded_at) VALUES (?, ?)",
                                (self.key_fingerprint(), now()))  # fmt: skip
                self.audit(None, "school_key.recorded")
        elif not hmac.compare_digest(row[0], self.key_fingerprint()):
            raise OtherKey

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
                if callable(script):
                    script(self)
                else:
                    for statement in statements(script):
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")
        if 0 < version < len(MIGRATIONS):
            self._give_back_space()

    def _give_back_space(self) -> None:
        """After a workspace's state is brought up to date: the file rebuilt once, so the space a
        migration freed is given back (migration 10 copies the tables into a layout a third
        smaller, and the file would otherwise keep the old tables' pages as free space). Skipped
        while another command has the file open; ``compact`` rebuilds it too."""
        with contextlib.suppress(sqlite3.OperationalError):
            self.db.execute("VACUUM")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing. Inside another transaction it joins that one, so named operations
        compose (a deletion list and its accounts' new statuses commit together)."""
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._appended = False
        try:
            yield self.db
            self._write_queued_events()  # the events commit with the change they record
        except BaseException:
            self.db.execute("ROLLBACK")
            self._forget_queued_events()
            raise
        self.db.execute("COMMIT")
        crashpoint("state-committed")  # committed, the audit log's head beside the state not yet moved on
        if self._appended:
            self._advance_head()


@contextlib.contextmanager
def state_faults(path: Path) -> Iterator[None]:
    """SQLite's failures as what they mean for the admin: a damaged file, a full disk, a file
    that cannot be written. A failed write is rolled back by SQLite, so what was committed
    before it stands, and nothing of the step that failed."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        text = str(exc).lower()
        if "full" in text:
            what, fix = "the disk is full", "free some space on the disk"
        elif "readonly" in text or "read-only" in text:
            what, fix = f"{path.name} cannot be written (it or its folder is read-only)", \
                f"give your account write access to {path.name} and its folder"  # fmt: skip
        elif "locked" in text or "busy" in text:
            what, fix = f"{path.name} is locked by another program", "close the program holding it (a backup or a sync tool)"
        elif "not a database" in text or "malformed" in text or "corrupt" in text:
            raise WorkspaceFault(f"{path.name} is damaged and cannot be read; nothing was changed",
                                 hint=f"restore {path.name} from your backup, then run the command again") from None
        else:
            what, fix = f"{path.name} could not be used ({exc})", "check the disk and the file, or run again with --debug"
        raise WorkspaceFault(f"stopped: {what}; what was recorded before this step is kept, this step was not recorded",
                             hint=f"{fix}, then run the same command again: it carries on from what was recorded") from None
