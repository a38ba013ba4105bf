"""The workspace state: one SQLite file, and the only place in the tool that reads or writes it.

It records, for every account, the exact field values sent to its processor and when; every
run; every batch; the register's approvals, the facts the school set in it, and erasure
requests; and an append-only audit log, keyed and anchored outside the file (``audit.py``). Each change is a named operation
(``record_intent``, ``mark_written``, ``issue_deletion_list``, ``forget_pupils``...) that
commits the change, its history and its audit event together.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from provisioner import files
from provisioner.state.accounts import AccountLedger
from provisioner.state.audit import AuditHead, ChainCheck, RunsAndAudit
from provisioner.state.batches import BatchLedger
from provisioner.state.decisions import Decisions
from provisioner.state.identities import IdentityLedger, normalise_mis_id
from provisioner.state.proofs import DeletionProofs, ProofLedger
from provisioner.state.records import (
    Account, AccountStatus, Approval, Batch, BatchKind, BatchStatus, Identity, PendingSend, RegisterChange, RunStatus,
    SendStatus, SentRecord, now,
)  # fmt: skip
from provisioner.state.schema import MIGRATIONS, statements

__all__ = [
    "MIGRATIONS", "Account", "AuditHead", "ChainCheck", "AccountStatus", "Approval", "Batch", "BatchKind", "BatchStatus", "DeletionProofs", "Identity",
    "PendingSend", "RegisterChange", "RunStatus", "SendStatus", "SentRecord", "State", "normalise_mis_id", "now",
]  # fmt: skip


class State(AccountLedger, BatchLedger, Decisions, IdentityLedger, ProofLedger, RunsAndAudit):
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
                if callable(script):
                    script(self)
                else:
                    for statement in statements(script):
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")

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
        if self._appended:
            self._advance_head()
