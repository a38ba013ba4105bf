"""The state's schema: numbered migrations, applied in order and recorded in SQLite's
``user_version``, so an older workspace is brought up to date when it is next opened."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from provisioner.state.audit import rechain_sha256_log

# A migration is SQL, or a step in Python (given the open ``State``) where rows must be
# rewritten with what only the workspace holds (its keys).
MIGRATIONS: list[str | Callable[[Any], None]] = [
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
    # 6: who each pupil key is, as the roster last said: other ids a later export may use (the
    # MIS id without its zero-padding, the UPN), a keyed hash of legal names and date of birth
    # for re-linking, and the name and class shown to the admin. Forgotten with the pupil.
    """
    CREATE TABLE pupils (
        pupil_key TEXT PRIMARY KEY,
        mis_id TEXT,                       -- normalised: no spaces, upper case, no leading zeros
        upn TEXT,
        match_hash TEXT,
        forename TEXT NOT NULL,
        surname TEXT NOT NULL,
        class_name TEXT NOT NULL,
        year_group TEXT NOT NULL,
        shown_id TEXT NOT NULL,
        seen_at TEXT NOT NULL
    );
    CREATE INDEX pupils_by_mis_id ON pupils (mis_id);
    CREATE INDEX pupils_by_upn ON pupils (upn);
    """,
    # 7: how each deletion is known: deletion_proof 'admin' (the admin confirmed the deletion
    # list), 'export' (the platform's own pupil export of deletion_proof_on no longer held the
    # account) or 'still_present' (a confirmed deletion the export of that day still held). A
    # deletion list's row records the day an export still held its account, so the list cannot
    # then be confirmed on the admin's word alone.
    """
    ALTER TABLE accounts ADD COLUMN deletion_proof TEXT;
    ALTER TABLE accounts ADD COLUMN deletion_proof_on TEXT;
    ALTER TABLE sends ADD COLUMN still_present_on TEXT;
    """,
    # 8: facts the school wrote into its register entries (register set, register edit): who set
    # which key of which entry, when, and the text before and after, so the history shows them
    # beside the approvals. Facts about a company or a body, never a pupil's.
    """
    CREATE TABLE register_changes (
        id INTEGER PRIMARY KEY,
        entry_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value_before TEXT NOT NULL,        -- JSON: the entry's value before (shipped or the school's)
        value_after TEXT NOT NULL,         -- JSON: the value now
        changed_at TEXT NOT NULL,
        changed_by TEXT NOT NULL,
        how TEXT NOT NULL                  -- set (register set) or edit (register edit)
    );
    CREATE INDEX register_changes_by_entry ON register_changes (entry_id, id);
    """,
    # 9: which school key the state was made with: a keyed hash of a fixed text, which tells
    # one key from another and reveals neither. A state opened with another key is refused
    # (every pseudonymous id would change: platforms would see new pupils).
    """
    CREATE TABLE school_key (
        fingerprint TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    """,
    # 10: each fact stored once (a trust's state held about 1 KB for each account, a third of it
    # repeated). accounts, usernames and pupils are kept in the order of their primary key
    # (WITHOUT ROWID), so the key is no longer stored a second time in an index of its own.
    # accounts.updated_at and usernames.issued_at go: nothing read them, and the sends and
    # status_at hold those times. A send's values are NULL while they are the values its account
    # holds now (accounts.sent, the copy a plan compares with): they are written into the send
    # before the account's values change (``AccountLedger._keep_sent_values``). A send names the
    # list of fields it changed by its id in field_lists, where each list is stored once (every
    # create of a platform changes the same list; the empty list, a status change's, is always
    # there). A send in an import file has no sent_at of its own: it was sent when its batch was
    # issued (batches.issued_at). A pupil has a few sends, so sends_by_pupil indexes the pupil
    # key alone. The pupils are only read whole (``identities``), so their two indexes by MIS id
    # and UPN go. The audit log is left as it is.
    """
    CREATE TABLE accounts_compact (
        platform TEXT NOT NULL,
        pupil_key TEXT NOT NULL,
        username TEXT NOT NULL,
        status TEXT NOT NULL,
        sent TEXT NOT NULL,                -- JSON: field -> value, as last sent
        created_at TEXT NOT NULL,
        remote_id TEXT,
        left_on TEXT,
        delete_due TEXT,
        status_at TEXT,
        deletion_proof TEXT,
        deletion_proof_on TEXT,
        PRIMARY KEY (platform, pupil_key)
    ) WITHOUT ROWID;
    INSERT INTO accounts_compact (platform, pupil_key, username, status, sent, created_at, remote_id, left_on,
        delete_due, status_at, deletion_proof, deletion_proof_on)
        SELECT platform, pupil_key, username, status, sent, created_at, remote_id, left_on, delete_due, status_at,
        deletion_proof, deletion_proof_on FROM accounts;
    DROP TABLE accounts;
    ALTER TABLE accounts_compact RENAME TO accounts;
    CREATE TABLE usernames_compact (      -- every username ever issued, never reused
        platform TEXT NOT NULL,
        username TEXT NOT NULL,
        pupil_key TEXT NOT NULL,
        PRIMARY KEY (platform, username)
    ) WITHOUT ROWID;
    INSERT INTO usernames_compact (platform, username, pupil_key) SELECT platform, username, pupil_key FROM usernames;
    DROP TABLE usernames;
    ALTER TABLE usernames_compact RENAME TO usernames;
    CREATE TABLE field_lists (
        id INTEGER PRIMARY KEY,
        names TEXT NOT NULL UNIQUE         -- JSON list of field names
    );
    INSERT INTO field_lists (names) SELECT DISTINCT changed FROM sends ORDER BY changed;
    INSERT OR IGNORE INTO field_lists (names) VALUES ('[]');
    CREATE TABLE sends_compact (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        platform TEXT NOT NULL,
        batch_id TEXT,
        pupil_key TEXT NOT NULL,
        action TEXT NOT NULL,              -- create, update, disable, delete...
        fields TEXT,                       -- JSON: exactly the values sent; NULL: the account's values now
        changed INTEGER NOT NULL REFERENCES field_lists(id),
        status TEXT NOT NULL,              -- pending, done, failed
        sent_at TEXT,                      -- NULL in an import file: when its batch was issued
        still_present_on TEXT
    );
    INSERT INTO sends_compact (id, run_id, platform, batch_id, pupil_key, action, fields, changed, status, sent_at,
        still_present_on)
        SELECT s.id, s.run_id, s.platform, s.batch_id, s.pupil_key, s.action,
        CASE WHEN s.status = 'done' AND s.fields = (SELECT a.sent FROM accounts a
            WHERE a.platform = s.platform AND a.pupil_key = s.pupil_key) THEN NULL ELSE s.fields END,
        (SELECT f.id FROM field_lists f WHERE f.names = s.changed), s.status,
        CASE WHEN s.sent_at = (SELECT b.issued_at FROM batches b
            WHERE b.platform = s.platform AND b.id = s.batch_id AND b.kind = 'import') THEN NULL ELSE s.sent_at END,
        s.still_present_on
        FROM sends s;
    DROP TABLE sends;
    ALTER TABLE sends_compact RENAME TO sends;
    CREATE INDEX sends_by_pupil ON sends (pupil_key);
    CREATE INDEX sends_by_batch ON sends (platform, batch_id);
    CREATE TABLE pupils_compact (
        pupil_key TEXT PRIMARY KEY,
        mis_id TEXT,                       -- normalised: no spaces, upper case, no leading zeros
        upn TEXT,
        match_hash TEXT,
        forename TEXT NOT NULL,
        surname TEXT NOT NULL,
        class_name TEXT NOT NULL,
        year_group TEXT NOT NULL,
        shown_id TEXT NOT NULL,
        seen_at TEXT NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO pupils_compact SELECT pupil_key, mis_id, upn, match_hash, forename, surname, class_name, year_group,
        shown_id, seen_at FROM pupils;
    DROP TABLE pupils;
    ALTER TABLE pupils_compact RENAME TO pupils;
    """,
    # 11: the audit log keyed and compact (state/audit.py says why). Each event's MAC: HMAC-SHA-256
    # under the workspace's audit.key (never in the state) over the MAC before it and the event,
    # 16 bytes; seq numbers the chain 1, 2, 3...; times in whole seconds since 1970 (UTC); a pupil
    # as a random token (audit_subjects), deleted when the pupil is forgotten. The plain SHA-256
    # log waits as audit_sha256 for migration 12 to check it and move its events.
    """
    DROP TRIGGER audit_no_update;
    DROP TRIGGER audit_no_delete;
    ALTER TABLE audit RENAME TO audit_sha256;
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,           -- the event's place in the chain, from 1
        at INTEGER NOT NULL,               -- seconds since 1970-01-01 UTC
        run_id INTEGER,
        action TEXT NOT NULL,
        platform TEXT,
        subject BLOB,                      -- the pupil's random token (audit_subjects), never their key
        detail TEXT,                       -- compact JSON, no personal data; NULL when there is none
        mac BLOB NOT NULL                  -- 16 bytes
    );
    CREATE TABLE audit_subjects (
        pupil_key TEXT PRIMARY KEY,
        token BLOB NOT NULL
    ) WITHOUT ROWID;
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # 12: the plain SHA-256 log's events checked under its own rule and chained again under the key
    rechain_sha256_log,
    # 13: the login slips an API batch wrote. Their passwords were set on the platform as they
    # were made and are in no file, so each slip file is recorded with the outcomes it shows
    # (one transaction), and stays owed to the admin until a finished apply's answer named it
    # (named_at): an apply killed after recording its accounts, before it answered, leaves slips
    # the next apply names. Paths only (relative to the workspace), never what the slips hold.
    """
    CREATE TABLE slips (
        file TEXT PRIMARY KEY,             -- relative to the workspace
        platform TEXT NOT NULL,
        batch_id TEXT NOT NULL,
        written_at TEXT NOT NULL,
        named_at TEXT                      -- NULL until an apply's answer named the file
    ) WITHOUT ROWID;
    """,
]


def statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if text.endswith(";") and sqlite3.complete_statement(text):
            statements.append(text)
            current = []
    return statements
