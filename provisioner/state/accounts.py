"""The account ledger: for every pupil on every platform, the account, the exact values last
sent and every change made to it. Each change is one named operation, and each writes its
history row and its audit event in the same transaction as the change; a made account's later
status (leaving, disabled, deleted, held, restored) is statuses.py's."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from functools import partial
from itertools import groupby
from operator import itemgetter
from typing import Protocol

from provisioner.errors import WorkspaceFault
from provisioner.state.records import (
    Account, AccountStatus, Batch, BatchStatus, Holding, PendingSend, SendStatus, SentRecord, now,
)  # fmt: skip
from provisioner.state.texts import EACH_KEY, KEYS_GIVEN, keys_given, scan_json, sent_texts, values_copied

_ACCOUNT_COLUMNS = "pupil_key, username, status, sent, remote_id, left_on, delete_due, status_at, created_at"


class Intent(Protocol):
    """One change an apply is about to send (a plan's create or update)."""

    action: str
    pupil_key: str
    values: Mapping[str, str]
    changed: tuple[str, ...]
    username: str | None


class Outcome(Protocol):
    """What became of one send to a platform's API."""

    send_id: int
    ok: bool
    username: str | None
    remote_id: str | None
    error: str | None


# A plan reads every account of every platform (350,000 at 50,000 pupils on seven): each is
# read with a dict lookup for its status, not an enum call, and its values decoded by the json
# module's scanner itself (``texts.scan_json``).
_STATUSES = {status.value: status for status in AccountStatus}
# A field's non-empty string value in an account's JSON (a key's closing quote, the colon, then
# the string, escapes and all): what ``fields_held`` replaces to see an account's shape.
_FILLED_VALUE = re.compile(r'":\s*"(?=[^"])[^"\\]*(?:\\.[^"\\]*)*"')

# The id of the empty list of fields changed (a status change's, a deletion list's row), which
# migration 10 stores: an account's status changes one by one, with no statement more each.
NO_FIELDS = "(SELECT id FROM field_lists WHERE names = '[]')"


_key = itemgetter(1)  # a row's primary key after its platform: rows inserted in key order fill the table's pages


def _what_changes(change: Intent) -> tuple[str, tuple[str, ...]]:
    """What a change does and to which fields: a run of changes alike is recorded in one statement."""
    return change.action, change.changed


def _action_and_fields(row: tuple[Intent, str]) -> tuple[str, tuple[str, ...]]:
    """``_what_changes`` of a (change, its values as text) row."""
    return row[0].action, row[0].changed


_new = object.__new__


def pending_send(send_id: int, pupil_key: str, action: str, fields: dict[str, str], changed: list[str]) -> PendingSend:
    """``PendingSend(send_id, pupil_key, action, fields, changed)``, made directly: a frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``, a microsecond a row
    of a trust's 270,000."""
    send = _new(PendingSend)
    send.__dict__.update(id=send_id, pupil_key=pupil_key, action=action, fields=fields, changed=changed)
    return send


def _account(platform: str, row: tuple) -> Account:
    key, username, status, sent, remote_id, left_on, delete_due, status_at, created_at = row
    return Account(platform, key, username, _STATUSES[status], scan_json(sent, 0)[0], remote_id, left_on,
                   delete_due, status_at, created_at)  # fmt: skip


class AccountLedger:
    """Mixed into ``State``: needs ``db``, ``transaction``, ``audit`` (and ``recall_tokens``) and
    the batches' slips (``_record_slips``)."""

    db: sqlite3.Connection

    # Reading

    def accounts(self, platform: str) -> dict[str, Account]:
        rows = self.db.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE platform = ?", (platform,))  # noqa: S608
        statuses, scan = _STATUSES, scan_json  # _account, written out: one call less per account
        return {
            key: Account(platform, key, username, statuses[status], scan(sent, 0)[0], remote_id, left_on, delete_due,
                         status_at, created_at)
            for key, username, status, sent, remote_id, left_on, delete_due, status_at, created_at in rows
        }  # fmt: skip

    def accounts_of(self, platform: str, pupil_keys: Iterable[str]) -> dict[str, Account]:
        """The accounts of these pupils on the platform (those it has), as ``accounts`` reads them:
        a leaver cleanup or a deletion list needs the few pupils concerned, not a trust's 50,000."""
        rows = self.db.execute(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE platform = ?"  # noqa: S608 (fixed names)
            f" AND pupil_key IN {KEYS_GIVEN}", (platform, keys_given(pupil_keys)),
        )  # fmt: skip
        return {row[0]: _account(platform, row) for row in rows}

    def usernames_in_batch(self, platform: str, batch_id: str) -> dict[str, str]:
        """Pupil key -> username of each account a batch was recorded to send (a card reads the
        username the file spells its password under, and nothing else of a trust's accounts)."""
        rows = self.db.execute(
            "SELECT pupil_key, username FROM accounts WHERE platform = ? AND pupil_key IN"
            " (SELECT pupil_key FROM sends WHERE platform = ? AND batch_id = ?)", (platform, platform, batch_id),
        )  # fmt: skip
        return dict(rows)

    def standing(self, platform: str, looked_at: Iterable[str]) -> tuple[int, dict[str, Account]]:
        """The platform's accounts as the leaver cleanup reads them: (how many are active, the
        accounts it looks at, whole). Settled accounts (active and counting from no leaving date,
        nearly every account) are only counted, and read whole just where their pupil is one the
        cleanup names in ``looked_at`` (not on roll, leaving, outside the platform's scope, under
        an erasure request): a trust's 50,000 keys are never made Python values to find its few
        leavers. Unsettled accounts (on their way out or back: disabled, on a deletion list, held
        by the platform, or active and counting from the day the pupil left or was first missed)
        are all read whole, by a pass over the rows rather than by key: after a Year 6 leaves they
        are thousands. Accounts deleted or still being sent are neither."""
        in_service = self.db.execute("SELECT COUNT(*) FROM accounts WHERE platform = ? AND status = ?",
                                     (platform, AccountStatus.ACTIVE)).fetchone()[0]  # fmt: skip
        # The leaving day asked first: of a settled account, nearly every one, SQLite then reads
        # the status once and stops (a fifth less of the pass over a trust's accounts).
        rows = self.db.execute(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE platform = ?"  # noqa: S608
            " AND (left_on IS NOT NULL OR status != ?) AND status NOT IN (?, ?)",
            (platform, AccountStatus.ACTIVE, AccountStatus.DELETED, AccountStatus.PENDING),
        )
        accounts = {row[0]: _account(platform, row) for row in rows}
        rows = self.db.execute(
            f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE platform = ? AND status = ? AND left_on IS NULL"  # noqa: S608
            f" AND pupil_key IN {KEYS_GIVEN}", (platform, AccountStatus.ACTIVE, keys_given(looked_at)),
        )  # fmt: skip
        accounts.update((row[0], _account(platform, row)) for row in rows)
        return in_service, accounts

    def holding(self, platform: str, today: date) -> Holding:
        """The platform's accounts counted by status as of ``today`` (see ``Holding``)."""
        waiting = len(self.awaiting_upload(platform))
        by_status: dict[AccountStatus, int] = {}
        deleted = ended = 0
        first = last = None
        rows = self.db.execute(
            "SELECT status, status = ? AND delete_due IS NOT NULL AND delete_due < ?, COUNT(*),"
            " MIN(COALESCE(delete_due, '')), MAX(COALESCE(delete_due, ''))"
            " FROM accounts WHERE platform = ? GROUP BY 1, 2",
            (AccountStatus.PLATFORM_HOLD, today.isoformat(), platform),
        )
        for status, hold_ended, count, earliest, latest in rows:
            status = _STATUSES[status]
            if status is AccountStatus.DELETED or hold_ended:
                deleted += count
                ended += count if hold_ended else 0
                continue
            by_status[status] = count
            if status is AccountStatus.PLATFORM_HOLD:
                first, last = earliest, latest
        if waiting:  # the accounts awaiting upload are active ones (``awaiting_upload``)
            by_status[AccountStatus.ACTIVE] -= waiting
        return Holding({s: n for s, n in by_status.items() if n}, waiting, deleted, ended,
                       (first, last) if first is not None else None)  # fmt: skip

    def fields_held(self, platform: str, today: date, *, with_values_only: bool = True) -> set[str]:
        """The fields with a value in any account the platform holds today, awaiting upload
        excluded (``holding``); every field recorded, empty or not, unless ``with_values_only``.

        A trust's platform holds 50,000 accounts whose values differ but whose shapes (which
        fields, which of them empty) are a handful: each account's values are reduced to its
        shape in C (every non-empty string becomes 1), and only the distinct shapes decoded."""
        waiting = self.awaiting_upload(platform)
        rows = self.db.execute(
            "SELECT pupil_key, sent FROM accounts WHERE platform = ? AND status != ?"
            " AND NOT (status = ? AND delete_due IS NOT NULL AND delete_due < ?)",
            (platform, AccountStatus.DELETED, AccountStatus.PLATFORM_HOLD, today.isoformat()),
        )
        shape = partial(_FILLED_VALUE.sub, '":1')
        shapes = {shape(sent) for key, sent in rows if key not in waiting}
        return {name for text in shapes for name, value in json.loads(text).items()
                if value or not with_values_only}  # fmt: skip

    def accounts_to_plan(self, platform: str) -> dict[str, tuple[str, str, str | None, str]]:
        """Every account of the platform as a plan reads it: pupil key -> the row as SQLite gives
        it, (pupil key, username, status, the values last sent as the state holds them
        (``decode_sent``)), the usual status, active, given as None. A plan of a trust's 50,000
        pupils reads 350,000 accounts: each row is kept as it comes, with nothing decoded or
        rebuilt (a tuple made for each would cost a fifth of the read again), in one pass over
        the platform's pages (the table is stored in the order of its key, platform and pupil
        key). The day a pupil left, which only a leaver's account needs, is read for those alone
        (``left_on``): the last column of every row cost more than the rest of its status."""
        rows = self.db.execute(
            "SELECT pupil_key, username, NULLIF(status, ?), sent FROM accounts WHERE platform = ?",
            (AccountStatus.ACTIVE.value, platform),
        ).fetchall()
        return dict(zip(map(itemgetter(0), rows), rows))

    def left_on(self, platform: str, pupil_keys: Iterable[str]) -> dict[str, str]:
        """The day each of these pupils left or was first missed (ISO), where their account on the
        platform records one: a plan asks about its leavers."""
        rows = self.db.execute(
            f"SELECT pupil_key, left_on FROM accounts WHERE platform = ? AND pupil_key IN {KEYS_GIVEN}"  # noqa: S608
            " AND left_on IS NOT NULL", (platform, keys_given(pupil_keys)),
        )  # fmt: skip
        return dict(rows)

    def active_values(self, platform: str) -> Iterator[tuple[str, str, str]]:
        """(pupil key, username, the values last sent as the state holds them) of each active
        account of the platform, in the order of the keys: what a full-set upload (School Data
        Sync's) sends of everyone it does not change. The table is stored in that order, so the
        rows come as they lie, and only the active ones are made Python values at all."""
        return self.db.execute(
            "SELECT pupil_key, username, sent FROM accounts WHERE platform = ? AND status = ? ORDER BY pupil_key",
            (platform, AccountStatus.ACTIVE),
        )

    def pupil_accounts(self, pupil_key: str) -> dict[str, Account]:
        """Every account of one pupil, by platform (held or deleted)."""
        rows = self.db.execute(
            f"SELECT platform, {_ACCOUNT_COLUMNS} FROM accounts WHERE pupil_key = ? ORDER BY platform",  # noqa: S608
            (pupil_key,),
        )
        return {row[0]: _account(row[0], row[1:]) for row in rows}

    def pupil_history(self, pupil_key: str) -> list[SentRecord]:
        """Everything done to one pupil's accounts, oldest first: each send and its values."""
        rows = self.db.execute(
            "SELECT s.platform, s.action, COALESCE(s.fields, a.sent), f.names, COALESCE(s.sent_at, b.issued_at)"
            " FROM sends s JOIN field_lists f ON f.id = s.changed"
            " LEFT JOIN accounts a ON a.platform = s.platform AND a.pupil_key = s.pupil_key"
            " LEFT JOIN batches b ON b.platform = s.platform AND b.id = s.batch_id"
            " WHERE s.pupil_key = ? AND s.status = ? ORDER BY s.id",
            (pupil_key, SendStatus.DONE),
        )
        return [SentRecord(p, action, json.loads(f), json.loads(c), at) for p, action, f, c, at in rows]

    def knows_pupil(self, pupil_key: str) -> bool:
        """An account was ever recorded under this key (and not yet forgotten)."""
        return self.db.execute("SELECT 1 FROM accounts WHERE pupil_key = ? LIMIT 1", (pupil_key,)).fetchone() is not None

    def usernames(self, platform: str) -> set[str]:
        """Every username ever issued on the platform: none is handed out twice."""
        return {row[0] for row in self.db.execute("SELECT username FROM usernames WHERE platform = ?", (platform,))}

    def last_activity(self, platform: str) -> dict[str, str]:
        """When accounts there were last made or updated ('provision') and last disabled or
        deleted ('cleanup')."""
        rows = self.db.execute(
            "SELECT CASE WHEN s.action IN ('create', 'update') THEN 'provision' ELSE 'cleanup' END,"
            " MAX(COALESCE(s.sent_at, b.issued_at)) FROM sends s LEFT JOIN batches b ON b.platform = s.platform"
            " AND b.id = s.batch_id WHERE s.platform = ? AND s.status = ? GROUP BY 1",
            (platform, SendStatus.DONE),
        )
        return {kind: at for kind, at in rows if at}

    def statuses_by_pupil(self, only: str | None = None) -> dict[str, list[tuple[AccountStatus, str | None]]]:
        """(status, when it last changed) of every account, by pupil (or of one pupil)."""
        query = "SELECT pupil_key, status, status_at FROM accounts" + (" WHERE pupil_key = ?" if only else "")
        by_pupil: dict[str, list] = {}
        for key, status, status_at in self.db.execute(query, (only,) if only else ()):
            by_pupil.setdefault(key, []).append((AccountStatus(status), status_at))
        return by_pupil

    # Provisioning

    def record_intent(self, batch: Batch, changes: Iterable[Intent]) -> list[PendingSend]:
        """Before anything is written or sent: the batch, every row it will hold, the usernames it
        takes, and a pending account for each new pupil. An interrupted apply is finished from this.

        Returns the rows recorded as ``pending_sends`` reads them (each one's id, pupil, action,
        values and fields changed, in the order given): the apply writes its file from them, and
        only an apply finishing an interrupted batch reads them back from the state."""
        platform, run_id, stamp = batch.platform, batch.run_id, batch.created_at
        changes = list(changes)
        with self.transaction() as db:
            db.execute(
                "INSERT INTO batches (id, platform, run_id, kind, file, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (batch.id, platform, run_id, batch.kind, batch.file, batch.status, stamp),
            )
            lists = self._field_lists(change.changed for change in changes)
            creates = [change for change in changes if change.action == "create"]
            self._keep_sent_values(platform, [change.pupil_key for change in creates])  # an account made again
            # A new account holds the create's values, so its send stands for them (NULL) from
            # the start; an update's values are the send's own until it is written.
            texts = list(sent_texts(change.values for change in changes))  # each change's values, in order
            # Each row takes the next id (SQLite gives a new row the largest id plus one), so the
            # ids are known without reading the rows back: checked once they are in.
            first = (db.execute("SELECT MAX(id) FROM sends").fetchone()[0] or 0) + 1
            # A run of creates sent the same fields (a trust's whole batch, as a rule) is one
            # statement, its pupils' keys one JSON array; an update's row holds its own values.
            for (action, changed), run in groupby(zip(changes, texts), key=_action_and_fields):
                if action == "create":
                    db.execute(
                        "INSERT INTO sends (run_id, platform, batch_id, pupil_key, action, fields, changed, status)"
                        f" SELECT ?, ?, ?, value, ?, NULL, ?, ? FROM {EACH_KEY}",  # noqa: S608 (fixed)
                        (run_id, platform, batch.id, action, lists[tuple(changed)], SendStatus.PENDING,
                         keys_given(change.pupil_key for change, _ in run)),
                    )  # fmt: skip
                else:
                    db.executemany(
                        "INSERT INTO sends (run_id, platform, batch_id, pupil_key, action, fields, changed, status)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [(run_id, platform, batch.id, change.pupil_key, action, text, lists[tuple(changed)],
                          SendStatus.PENDING) for change, text in run],
                    )  # fmt: skip
            if changes and db.execute("SELECT MAX(id) FROM sends").fetchone()[0] != first + len(changes) - 1:
                raise WorkspaceFault(f"the rows of batch {batch.id} of {platform} were not numbered in order: "
                                     "nothing was recorded", hint="run apply again")  # fmt: skip
            # In key order, so the tables (kept in that order) fill their pages.
            db.executemany("INSERT INTO usernames (platform, username, pupil_key) VALUES (?, ?, ?)",
                           sorted([(platform, change.username, change.pupil_key) for change in creates], key=_key))
            db.executemany(
                "INSERT INTO accounts (platform, pupil_key, username, status, sent, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (platform, pupil_key) DO UPDATE SET"
                " username = excluded.username, status = excluded.status, sent = excluded.sent,"
                " remote_id = NULL, left_on = NULL, delete_due = NULL",
                sorted([(platform, change.pupil_key, change.username, AccountStatus.PENDING, text, stamp)
                        for change, text in zip(changes, texts) if change.action == "create"], key=_key),
            )  # fmt: skip
            counts = {"create": len(creates), "update": len(changes) - len(creates)}
            self.audit(run_id, "batch.prepared", platform, detail={"batch": batch.id, **counts})
        # Each row's values are its text just recorded, decoded: the same dict, as every value is
        # a string (``sent_texts`` takes nothing else), in the same order.
        return [pending_send(send_id, change.pupil_key, change.action, values_copied(change.values),
                             list(change.changed)) for send_id, change in enumerate(changes, start=first)]  # fmt: skip

    def mark_written(self, batch: Batch, sends: list[PendingSend], passwords: int) -> None:
        """A file batch is written whole: every row sent, every account active, the batch issued.
        ``sends``: the batch's pending rows (``pending_sends``), which the file holds."""
        platform, stamp = batch.platform, now()
        with self.transaction() as db:
            # An update's values go into the account (the JSON recorded), and its send then stands
            # for them (NULL); a create's account holds its values already. The rows are sent as
            # the batch is issued: their sent_at stays NULL, the batch's issued_at.
            updates = [send for send in sends if send.action != "create"]
            self._keep_sent_values(platform, [send.pupil_key for send in updates])
            db.executemany(
                "UPDATE accounts SET sent = (SELECT fields FROM sends WHERE id = ?) WHERE platform = ? AND pupil_key = ?",
                [(send.id, platform, send.pupil_key) for send in updates],
            )
            # The whole batch changes the same way: one statement each, by the batch's own rows.
            db.execute(
                "UPDATE accounts SET status = ? WHERE platform = ? AND pupil_key IN"
                " (SELECT pupil_key FROM sends WHERE platform = ? AND batch_id = ? AND status = ?)",
                (AccountStatus.ACTIVE, platform, platform, batch.id, SendStatus.PENDING),
            )
            done = db.execute(
                "UPDATE sends SET status = ?, fields = NULL WHERE platform = ? AND batch_id = ? AND status = ?",
                (SendStatus.DONE, platform, batch.id, SendStatus.PENDING),
            ).rowcount
            if done != len(sends):  # rolled back: the file holds other rows than the batch has now
                raise WorkspaceFault(f"batch {batch.id} of {platform} has {done} rows waiting to be sent, not the "
                                     f"{len(sends)} its file was written with: nothing was marked sent",
                                     hint="run apply again: it writes the batch's file afresh from the state")  # fmt: skip
            self._resets_done(platform, (send.pupil_key for send in sends if "password" in send.changed))
            self.recall_tokens(send.pupil_key for send in sends)
            self.audit_each(batch.run_id, platform, _account_events(batch, sends))  # written at the commit
            self._set_batch(batch, BatchStatus.ISSUED, issued_at=stamp)
            self.audit(batch.run_id, "batch.issued", platform,
                       detail={"batch": batch.id, "rows": len(sends), "passwords": passwords,
                               **_created_fields(sends)})  # fmt: skip

    def record_outcomes(self, batch: Batch, sends: Mapping[int, PendingSend], outcomes: Iterable[Outcome],
                        finished: bool, slips: Iterable[str] = ()) -> None:  # fmt: skip
        """An API batch's results: sends done (or failed, so the next plan proposes them again);
        when ``finished``, the batch is applied. ``slips``: the files (relative to the workspace)
        of the login slips showing the passwords these outcomes set, recorded with them as not
        yet named to the admin, so a run killed before it answers leaves them to the next."""
        platform, stamp = batch.platform, now()
        outcomes = list(outcomes)
        with self.transaction() as db:
            self._record_slips(batch, slips)
            for outcome in outcomes:
                send = sends[outcome.send_id]
                if outcome.ok:
                    fields = {**send.fields, "username": outcome.username or send.fields.get("username", "")}
                    self._keep_sent_values(platform, [send.pupil_key])
                    db.execute(
                        "UPDATE accounts SET status = ?, sent = ?, username = ?, remote_id = ? WHERE platform = ? AND pupil_key = ?",
                        (AccountStatus.ACTIVE, json.dumps(fields), fields["username"], outcome.remote_id, platform,
                         send.pupil_key),
                    )  # fmt: skip
                    db.execute("UPDATE sends SET status = ?, sent_at = ?, fields = NULL WHERE id = ?",
                               (SendStatus.DONE, stamp, send.id))  # fmt: skip
                    db.execute(
                        "INSERT OR IGNORE INTO usernames (platform, username, pupil_key) VALUES (?, ?, ?)",
                        (platform, fields["username"], send.pupil_key),
                    )
                    if "password" in send.changed:
                        self._resets_done(platform, [send.pupil_key])
                    self.audit(batch.run_id, f"account.{send.action}", platform, send.pupil_key,
                               detail=_account_detail(batch, send))  # fmt: skip
                else:
                    db.execute("UPDATE sends SET status = ?, sent_at = ? WHERE id = ?", (SendStatus.FAILED, stamp, send.id))
                    if send.action == "create":  # nothing was made: the next plan proposes it again
                        self._keep_sent_values(platform, [send.pupil_key])  # the failed send keeps its values
                        db.execute("DELETE FROM accounts WHERE platform = ? AND pupil_key = ? AND status = ?",
                                   (platform, send.pupil_key, AccountStatus.PENDING))  # fmt: skip
                    self.audit(batch.run_id, f"account.{send.action}.failed", platform, send.pupil_key,
                               detail={"batch": batch.id, "error": outcome.error})  # fmt: skip
            if finished:
                self._set_batch(batch, BatchStatus.APPLIED, issued_at=stamp)
                self.audit(batch.run_id, "batch.applied", platform,
                           detail={"batch": batch.id, "done": sum(o.ok for o in outcomes),
                                   "failed": sum(not o.ok for o in outcomes),
                                   **_created_fields(sends[o.send_id] for o in outcomes if o.ok)})  # fmt: skip

    def record_synced(self, run_id: int, platform: str, changes: Iterable[Intent], via: str) -> int:
        """A platform that reads the MIS itself holds these pupils now. Which fields it holds is
        recorded, not their values: this tool sent nothing, so it keeps no copy (the MIS is the record)."""
        stamp = now()
        changes = list(changes)
        with self.transaction() as db:
            lists = self._field_lists(change.changed for change in changes)
            self._keep_sent_values(platform, [change.pupil_key for change in changes])
            # The send's values are the account's (NULL), which are the fields held, each empty: a
            # run of changes alike (a trust's creates, as a rule) is one statement of their keys.
            for (action, changed), run in groupby(changes, key=_what_changes):
                db.execute(
                    "INSERT INTO sends (run_id, platform, batch_id, pupil_key, action, fields, changed, status, sent_at)"
                    f" SELECT ?, ?, NULL, value, ?, NULL, ?, ?, ? FROM {EACH_KEY}",  # noqa: S608 (fixed)
                    (run_id, platform, action, lists[tuple(changed)], SendStatus.DONE, stamp,
                     keys_given(change.pupil_key for change in run)),
                )  # fmt: skip
            # Each list of fields held written once: every create's is the same.
            fields_of = [tuple(change.values) for change in changes]
            held = {names: next(sent_texts([dict.fromkeys(names, "")])) for names in set(fields_of)}
            db.executemany(
                "INSERT INTO accounts (platform, pupil_key, username, status, sent, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (platform, pupil_key) DO UPDATE SET sent = excluded.sent",
                sorted(((platform, change.pupil_key, change.username or "", AccountStatus.ACTIVE, held[names], stamp)
                        for change, names in zip(changes, fields_of)), key=_key),
            )  # fmt: skip
            self.recall_tokens(change.pupil_key for change in changes)
            details: dict[tuple[str, ...], dict] = {}  # one for each list of fields, shared (``audit_each``)
            for change in changes:
                if change.changed not in details:
                    details[change.changed] = {"via": via, "fields": list(change.changed)}
            self.audit_each(run_id, platform, ((f"account.{change.action}", change.pupil_key, details[change.changed])
                                               for change in changes))  # fmt: skip
        return len(changes)

    def _keep_sent_values(self, platform: str, pupil_keys: list[str]) -> None:
        """Before these accounts' values change: each send that stands for the values an account
        holds now (its values NULL) is given them, so the pupil's history keeps what it sent.
        Call inside a transaction."""
        if not pupil_keys:
            return
        # Only the sends of pupils with an account here can change, and a trust's first apply
        # has none: the accounts are looked up by key, the sends only for those found.
        self.db.execute(
            "UPDATE sends SET fields = (SELECT a.sent FROM accounts a WHERE a.platform = sends.platform"
            " AND a.pupil_key = sends.pupil_key) WHERE pupil_key IN (SELECT pupil_key FROM accounts"
            f" WHERE platform = ? AND pupil_key IN {KEYS_GIVEN}) AND platform = ? AND fields IS NULL",  # noqa: S608
            (platform, keys_given(pupil_keys), platform),
        )

    def _field_lists(self, lists: Iterable[Iterable[str]]) -> dict[tuple[str, ...], int]:
        """The id in field_lists of each list of field names (stored once each), added if new.
        Call inside a transaction."""
        ids = {}
        for names in set(map(tuple, lists)):
            text = json.dumps(list(names))
            self.db.execute("INSERT OR IGNORE INTO field_lists (names) VALUES (?)", (text,))
            ids[names] = self.db.execute("SELECT id FROM field_lists WHERE names = ?", (text,)).fetchone()[0]
        return ids

    # Password resets

    def password_resets(self, platform: str) -> set[str]:
        rows = self.db.execute("SELECT pupil_key FROM password_resets WHERE platform = ?", (platform,))
        return {row[0] for row in rows}

    def request_password_resets(self, platform: str, pupil_keys: list[str]) -> None:
        """The next apply gives these pupils new passwords (and new slips) on this platform."""
        with self.transaction():
            stamp = now()
            for key in pupil_keys:
                self.db.execute(
                    "INSERT OR IGNORE INTO password_resets (platform, pupil_key, requested_at) VALUES (?, ?, ?)",
                    (platform, key, stamp),
                )
            self.audit(None, "password_reset.requested", platform, detail={"pupils": len(pupil_keys)})

    def _resets_done(self, platform: str, pupil_keys: Iterable[str]) -> None:
        # Looked for first: a platform usually has no reset asked for, and a trust's batch is
        # 50,000 keys to gather and hand SQLite for nothing.
        if not self.db.execute("SELECT 1 FROM password_resets WHERE platform = ? LIMIT 1", (platform,)).fetchone():
            return
        pupil_keys = list(pupil_keys)
        if pupil_keys:
            self.db.execute(f"DELETE FROM password_resets WHERE platform = ? AND pupil_key IN {KEYS_GIVEN}",  # noqa: S608
                            (platform, keys_given(pupil_keys)))  # fmt: skip

    # The tool's own retention

    def forget_pupils(self, run_id: int, pupil_keys: Iterable[str]) -> None:
        """Erase every trace of these pupils but their audit events, whose tokens then lead nowhere."""
        pupil_keys = list(pupil_keys)
        with self.transaction() as db:
            # The keys an erasure hold or its lifting may have named them by (the MIS id, the UPN).
            also = [f"{kind}:{value}" for key in pupil_keys for kind, value in zip(("mis", "upn"), db.execute(
                "SELECT mis_id, upn FROM pupils WHERE pupil_key = ?", (key,)).fetchone() or ()) if value]  # fmt: skip
            for key in pupil_keys:
                for table in ("accounts", "sends", "usernames", "password_resets", "pupils"):
                    db.execute(f"DELETE FROM {table} WHERE pupil_key = ?", (key,))  # noqa: S608 (fixed names)
                self.audit(run_id, "pupil.purged", pupil_key=key, detail={})
            self.forget_tokens(pupil_keys + also)

    def compact(self) -> None:
        """Overwrite deleted rows and rebuild the file, so nothing forgotten can be read back from it."""
        self.db.execute("PRAGMA secure_delete = ON")
        self.db.execute("VACUUM")


def _account_events(batch: Batch, sends: Iterable[PendingSend]) -> Iterator[tuple[str, str, dict]]:
    """(action, pupil key, detail) of each written row's event, rows alike sharing one detail
    (``audit_each`` makes each distinct one compact once): every create has the same, its batch
    (``_account_detail``), and is told from the rest by its action alone, nearly every row of a
    trust's first apply."""
    created: dict | None = None
    shared: dict[tuple[str, ...], tuple[str, dict]] = {}
    for send in sends:
        if send.action == "create":
            if created is None:
                created = _account_detail(batch, send)
            yield "account.create", send.pupil_key, created
            continue
        kind = (send.action, *send.changed)
        event = shared.get(kind)
        if event is None:
            event = shared[kind] = f"account.{send.action}", _account_detail(batch, send)
        yield event[0], send.pupil_key, event[1]


def _account_detail(batch: Batch, send: PendingSend) -> dict:
    """An account's event: its batch, and the fields sent unless it is a create, whose fields
    are every field the platform is sent, said once in the batch's own event (``_created_fields``):
    one event per account made is the log's bulk, and the same list in each made it most of it."""
    if send.action == "create":
        return {"batch": batch.id}
    return {"batch": batch.id, "fields": send.changed}


def _created_fields(sends: Iterable[PendingSend]) -> dict:
    """The fields the batch's new accounts were sent, for the batch's event: each distinct list
    of fields (a batch of creates has one or two) taken once, in the order first met."""
    fields: dict[str, None] = {}
    for changed in dict.fromkeys(tuple(send.changed) for send in sends if send.action == "create"):
        fields.update(dict.fromkeys(changed))
    return {"created_with": list(fields)} if fields else {}
