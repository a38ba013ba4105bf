"""What people decided, kept with the state: who approved each register entry's field list
(like an approval receipt), who set which fact of an entry, and which pupils are under an
erasure request."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable

from provisioner.state.records import Approval, RegisterChange, now


class Decisions:
    """Mixed into ``State``: needs ``db``, ``transaction``, ``audit``, ``subject`` and ``knows_pupil``."""

    db: sqlite3.Connection

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

    # The facts the school set in its register entries

    def register_changes(self, entry_id: str | None = None) -> list[RegisterChange]:
        """Keys the school set in its register entries, oldest first (of one entry, or all)."""
        query = "SELECT entry_id, key, value_before, value_after, changed_at, changed_by, how FROM register_changes"
        rows = self.db.execute(query + (" WHERE entry_id = ?" if entry_id else "") + " ORDER BY id",
                               (entry_id,) if entry_id else ())  # fmt: skip
        return [RegisterChange(r[0], r[1], json.loads(r[2]), json.loads(r[3]), r[4], r[5], r[6]) for r in rows]

    def record_register_change(self, change: RegisterChange) -> None:
        with self.transaction() as db:
            after = json.dumps(change.value_after, sort_keys=True)
            db.execute(
                "INSERT INTO register_changes (entry_id, key, value_before, value_after, changed_at, changed_by, how)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (change.entry_id, change.key, json.dumps(change.value_before, sort_keys=True), after,
                 change.changed_at, change.changed_by, change.how),
            )  # fmt: skip
            # The audit log names which key changed and a digest of the new text, not the text
            # itself: a contact may name a supplier's member of staff, and the log is never
            # edited or purged. The text and who set it are in register_changes, as approvals
            # keep who approved; the digest proves which text that was.
            self.audit(None, "register.set", change.entry_id, detail={
                "key": change.key, "how": change.how, "value_sha256": hashlib.sha256(after.encode()).hexdigest()})

    # Erasure holds

    def erasure_held(self) -> set[str]:
        """Keyed hashes of pupils whose data must not be sent again (an erasure request)."""
        return {row[0] for row in self.db.execute("SELECT subject FROM erasure_holds")}

    def hold_erasure(self, pupil_keys: Iterable[str], platforms: int) -> None:
        """No apply sends this pupil's data again (each key they may be known by, the state's first).
        One event: under the pupil's token where they have accounts (it goes when they are
        forgotten); else naming nobody, since nothing would ever forget a token for them."""
        pupil_keys = list(pupil_keys)
        with self.transaction() as db:
            for key in pupil_keys:
                db.execute("INSERT OR IGNORE INTO erasure_holds (subject, requested_at) VALUES (?, ?)",
                           (self.subject(key), now()))  # fmt: skip
            named = pupil_keys[0] if self.knows_pupil(pupil_keys[0]) else None
            self.audit(None, "pupil.erasure_requested", pupil_key=named,
                       detail={"platforms": platforms, "ids": len(pupil_keys)})  # fmt: skip

    def lift_erasure(self, pupil_key: str) -> bool:
        """The parent agreed to accounts again. Returns whether there was a hold."""
        with self.transaction() as db:
            lifted = db.execute("DELETE FROM erasure_holds WHERE subject = ?", (self.subject(pupil_key),)).rowcount
            if lifted:
                named = pupil_key if self.knows_pupil(pupil_key) else None
                self.audit(None, "pupil.erasure_lifted", pupil_key=named, detail={})
        return bool(lifted)
