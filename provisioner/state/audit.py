"""Runs and the audit log: every command that changes something is a run, and every change is
an event in an append-only log that proves itself against a record kept outside its own file.

Why keyed, and why a head outside the database. A chain of plain hashes in the same SQLite file
catches an edited event, but not a log cut short, nor one rewritten and hashed forward again:
everything needed to recompute it is in the file. So each event carries a MAC (HMAC-SHA-256 over
the MAC before it and the event, cut to 16 bytes) under the workspace's ``audit.key``, which the
state never holds; and the latest head (how many events, the last MAC) is written after every
commit to a small owner-only file beside the state (``audit-head.txt``) and printed on the
register and by ``status``, for a governor to keep on paper. ``verify_audit`` walks the chain
and checks that it still passes through a head kept before: an event edited, removed, moved,
the log cut short or rewritten without the key each fail it. The head file is only moved on
while the log still holds the head it records, so a log cut short is not hidden by the next run.

Why a random token for a pupil. A keyed hash of a pupil key can be reversed by anyone holding
the key by trying every admission number (a few seconds). An event names a pupil by a random
token instead (``audit_subjects``), and forgetting the pupil deletes the token's row: the events
stay, and nothing leads from them back to the child, whoever holds which key.

Why compact. One event per account made is the state's biggest table (300,000 at a trust's
scale): times are whole seconds, digests are bytes, the previous MAC is not repeated, a detail
with nothing to say is NULL. Events wait in memory and are written with one ``executemany`` when
their transaction commits, so appending costs one HMAC and a row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from provisioner import files
from provisioner.errors import AuditBroken, UsageError
from provisioner.keyed_hash import KeyedHash
from provisioner.state.texts import KEYS_GIVEN, keys_given
from provisioner.state.records import RunStatus, now

MAC_BYTES = 16
TOKEN_BYTES = 8
SHOWN_HEX = 20  # the head as a person copies it: the event count and the MAC's first 20 hex digits (80 bits)
LEGACY_GENESIS = "0" * 64
RECHAINED = "audit.rechained"  # the event that moved an older, unkeyed log into the keyed chain
REANCHORED = "audit.reanchored"  # the admin anchored the log again after its head file was lost or older


@dataclass(frozen=True)
class AuditHead:
    """Where the log ends: how many events, and the last one's MAC (hex; on paper, its start)."""

    count: int
    mac: str

    @property
    def text(self) -> str:
        """As printed for a governor to keep: ``5123:9f3a-b1c2-d4e5-f607-1829``."""
        short = self.mac[:SHOWN_HEX]
        return f"{self.count}:" + "-".join(short[i:i + 4] for i in range(0, len(short), 4))

    @classmethod
    def parse(cls, text: str) -> AuditHead | None:
        """A head as written by this tool or copied from paper (dashes, spaces and case ignored);
        None when it is not one."""
        found = re.fullmatch(r"\s*(\d+)\s*:\s*([0-9a-fA-F\s-]+)", text)
        if not found:
            return None
        mac = re.sub(r"[\s-]", "", found[2]).lower()
        if len(mac) < 16 or len(mac) > 2 * MAC_BYTES:
            return None
        return cls(int(found[1]), mac)

    def matches(self, mac: bytes) -> bool:
        return mac.hex().startswith(self.mac)


GENESIS = AuditHead(0, "")


@dataclass(frozen=True)
class ChainCheck:
    """What walking the audit log found: how many events verify, the first that does not (its
    seq), the head the log has, and whether it still passes through the head checked against
    (``anchor``: one kept on paper, else the head file's; None when there was none)."""

    entries: int
    first_broken: int | None
    head: AuditHead
    anchor: AuditHead | None = None
    anchor_found: bool | None = None
    anchor_missing: bool = False  # events exist, but no head was recorded outside the state
    rechained: list[dict] = field(default_factory=list)  # the events that moved an older, unkeyed log
    reanchored: list[dict] = field(default_factory=list)  # the events that anchored the log again

    @property
    def intact(self) -> bool:
        return self.first_broken is None and self.anchor_found is not False and not self.anchor_missing

    def problem(self) -> str | None:
        """What is wrong, in words for the admin and the governors; None when the log proves itself."""
        if self.first_broken is not None:
            return (f"event {self.first_broken} does not match the chain (after {self.entries} that do): an event "
                    "was changed, removed or moved, or the log was rewritten without its key")  # fmt: skip
        if self.anchor_found is False:
            if self.anchor is not None and self.anchor.count > self.entries:
                return (f"the log has {self.entries} events but its head {self.anchor.text} counted "
                        f"{self.anchor.count}: events were removed from its end (or the state was restored from an "
                        "older backup without its audit-head.txt)")  # fmt: skip
            return (f"the log does not pass through the head {self.anchor.text if self.anchor else ''}: it was "
                    "rewritten since that head was kept")  # fmt: skip
        if self.anchor_missing:
            return "the head of the log (audit-head.txt) is missing, so a log cut short could not be seen"
        return None

    def as_dict(self) -> dict:
        return {"entries": self.entries, "intact": self.intact, "first_broken": self.first_broken,
                "head": self.head.text, "checked_against": self.anchor.text if self.anchor else None,
                "problem": self.problem(), "rechained": self.rechained, "reanchored": self.reanchored}  # fmt: skip


class RunsAndAudit:
    """Mixed into ``State``: needs ``db``, ``_secret``, ``_audit_key`` and ``_head_path``;
    ``transaction`` calls ``_write_queued_events`` before it commits and ``_advance_head`` after."""

    db: sqlite3.Connection
    _secret: bytes
    _subjects: KeyedHash | None = None  # the keyed hash of erasure holds, made on first use
    _audit_key: bytes
    _audit_macs: KeyedHash | None = None  # the events' MACs under ``_audit_key``, made on first use
    _head_path: Path | None
    _queued: list[tuple]  # (at, run_id, action, platform, token, detail) waiting for the commit
    _tokens: dict[str, bytes]  # pupil key -> token, for this transaction (in a run, for the run)
    _run_keeps_tokens: bool = False  # a run is under way: tokens recalled stay for its later transactions
    _new_tokens: list[tuple[str, bytes]]  # tokens made in this transaction, not yet written
    _appended: bool  # this transaction wrote events: the head moves on once it commits

    # Runs

    def begin_run(self, command: str, roster_sha256: str | None) -> int:
        with self.transaction():
            cursor = self.db.execute(
                "INSERT INTO runs (command, started_at, status, roster_sha256) VALUES (?, ?, ?, ?)",
                (command, now(), RunStatus.RUNNING, roster_sha256),
            )
            run_id = cursor.lastrowid
            self.audit(run_id, "run.started", detail={"command": command})
        self._run_keeps_tokens = True
        return run_id

    def finish_run(self, run_id: int, status: RunStatus, summary: dict) -> None:
        with self.transaction():
            self.db.execute(
                "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
                (now(), status, json.dumps(summary, sort_keys=True), run_id),
            )
            self.audit(run_id, "run.finished", detail={"status": str(status), **summary})
        self._run_keeps_tokens = False
        # Inside a larger transaction its new tokens are not written yet: they go when it commits.
        if not self.db.in_transaction:
            self._tokens.clear()

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

    def last_run_by_platform(self) -> dict[str, dict]:
        """Per platform, the last command that recorded something of its accounts or files: when
        (ISO, UTC) and which (the run's, or the admin's step outside a run: a confirmed upload or
        deletion, a password reset asked for). The register's approvals and facts name the
        platform too, but concern what it is sent, not its accounts."""
        rows = self.db.execute(
            "SELECT a.platform, a.at, a.action, r.command FROM audit a LEFT JOIN runs r ON r.id = a.run_id"
            " WHERE a.seq IN (SELECT max(seq) FROM audit WHERE platform IS NOT NULL AND action NOT LIKE 'register.%'"
            " GROUP BY platform)"
        )  # fmt: skip
        return {platform: {"at": _iso(at), "command": command or OUTSIDE_A_RUN.get(action, action)}
                for platform, at, action, command in rows}  # fmt: skip

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
        """The keyed hash that stands for a pupil in erasure holds: it must find the child again
        if a later roster lists them. The audit log names pupils by a random token instead."""
        if self._subjects is None:  # the key's part made once (keyed_hash), not an HMAC object a pupil
            self._subjects = KeyedHash(self._secret)
        return self._subjects.hexdigest(b"audit\0" + pupil_key.encode())[:32]

    def audit(
        self, run_id: int | None, action: str, platform: str | None = None, pupil_key: str | None = None,
        detail: dict | None = None,
    ) -> None:  # fmt: skip
        """Append one event. Call inside a transaction: the event is written as it commits, with the change."""
        token = self._token(pupil_key) if pupil_key else None
        self._queued.append((_epoch_now(), run_id, action, platform, token, _compact(detail)))

    def audit_each(self, run_id: int | None, platform: str, events: Iterable[tuple[str, str, dict | None]]) -> None:
        """Append one event for each (action, pupil key, detail), as ``audit`` would one by one: a
        trust's batch is tens of thousands of accounts, one event each, nearly all with the same
        detail. Pass the same dict for events whose detail is the same: each distinct dict is made
        compact once. Call inside a transaction, after ``recall_tokens`` for the pupils."""
        at, tokens, compact = _epoch_now(), self._tokens, {}
        queue = self._queued.append
        for action, pupil_key, detail in events:
            text = compact.get(id(detail), _UNSEEN)
            if text is _UNSEEN:
                text = compact[id(detail)] = _compact(detail)
            token = tokens.get(pupil_key) or self._token(pupil_key)
            queue((at, run_id, action, platform, token, text))

    def record_event(self, run_id: int | None, action: str, platform: str | None = None, detail: dict | None = None) -> None:
        """One event on its own (no other change goes with it), committed at once."""
        with self.transaction():
            self.audit(run_id, action, platform, detail=detail)

    def forget_tokens(self, pupil_keys: list[str]) -> None:
        """The pupils' events stay, under tokens nothing leads back from. Call inside a transaction,
        after their last event."""
        self._write_queued_events()
        self.db.executemany("DELETE FROM audit_subjects WHERE pupil_key = ?", [(key,) for key in pupil_keys])
        for key in pupil_keys:
            self._tokens.pop(key, None)

    def audit_head(self) -> AuditHead:
        """Where the log ends now (its last event's seq is its count: the chain numbers them 1, 2, 3...)."""
        last = self.db.execute("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        return AuditHead(last[0], last[1].hex()) if last else GENESIS

    def recorded_head(self) -> AuditHead | None:
        """The head last written outside the state (None: no file, or not a head)."""
        if self._head_path is None or not self._head_path.exists():
            return None
        return AuditHead.parse(self._head_path.read_text(encoding="ascii", errors="replace").split("\n")[0])

    def verify_audit(self, anchor: AuditHead | None = None) -> ChainCheck:
        """Walk the chain from its first event. ``anchor``: a head kept before (on paper); without
        one, the head file's. The log must pass through it: its event ``anchor.count`` has its MAC."""
        recorded = self.recorded_head()
        anchor = anchor or recorded
        mac, count, broken, found, rechained, reanchored = b"", 0, None, None, [], []
        if anchor is not None and anchor.count == 0:
            found = True
        # Each MAC made as ``_write_queued_events`` makes it (``_EventMacs``): a trust's log is
        # 300,000 events, and every status walks it.
        macs = _EventMacs(self._macs())
        for seq, at, run_id, action, platform, subject, detail, stored in self.db.execute(
            "SELECT seq, at, run_id, action, platform, subject, detail, mac FROM audit ORDER BY seq"
        ):
            expected = macs.after(mac, seq, (at, run_id, action, platform), subject, detail)
            if seq != count + 1 or not hmac.compare_digest(expected, stored):
                broken = seq
                break
            mac, count = expected, count + 1
            if anchor is not None and count == anchor.count:
                found = anchor.matches(mac)
            if action == RECHAINED:
                rechained.append(json.loads(detail))
            elif action == REANCHORED:
                reanchored.append(json.loads(detail))
        if anchor is not None and found is None:
            found = False  # the log (or its intact part) ends before the head
        missing = anchor is None and count > 0 and self._head_path is not None
        head = AuditHead(count, mac.hex()) if mac else GENESIS
        return ChainCheck(count, broken, head, anchor, found, missing, rechained, reanchored)

    def _macs(self) -> KeyedHash:
        """The MACs' key, its part made once (keyed_hash): ``status`` checks every event's MAC on
        every run, and ``hmac.digest`` would pad and hash the key again for each."""
        if self._audit_macs is None:
            self._audit_macs = KeyedHash(self._audit_key)
        return self._audit_macs

    # Writing the queued events (called by ``transaction``)

    def _token(self, pupil_key: str) -> bytes:
        """The pupil's token: the one recorded, else a new one, written with the queued events."""
        token = self._tokens.get(pupil_key)
        if token is None:
            self.recall_tokens((pupil_key,))
            token = self._tokens[pupil_key]
        return token

    def recall_tokens(self, pupil_keys: Iterable[str]) -> None:
        """Give these pupils their tokens for this transaction's events: those recorded, read in
        one statement (a trust's batch has tens of thousands of pupils, and a statement each took
        seconds), and new ones for the rest, written with the queued events. In a run the tokens
        stay until it finishes (a trust's apply names the same 50,000 pupils on every platform:
        read once, not once a platform); a transaction rolled back forgets them all, and
        forgetting a pupil, theirs (``forget_tokens``). Only this command changes the tokens while
        its run holds the workspace lock."""
        wanted = [key for key in dict.fromkeys(pupil_keys) if key not in self._tokens]
        if not wanted:
            return
        recorded = dict(self.db.execute(
            f"SELECT pupil_key, token FROM audit_subjects WHERE pupil_key IN {KEYS_GIVEN}", (keys_given(wanted),)
        ))  # fmt: skip
        new = [key for key in wanted if key not in recorded]
        # The new tokens drawn from the random source in one read, not one read a pupil.
        drawn = secrets.token_bytes(TOKEN_BYTES * len(new))
        for start, key in zip(range(0, len(drawn), TOKEN_BYTES), new):
            token = drawn[start:start + TOKEN_BYTES]
            self._new_tokens.append((key, token))
            recorded[key] = token
        self._tokens.update((key, recorded[key]) for key in wanted)

    def _write_queued_events(self) -> None:
        """Write the new tokens, then chain the queued events onto the log, each in one statement."""
        if self._new_tokens:
            self.db.executemany("INSERT INTO audit_subjects (pupil_key, token) VALUES (?, ?)", self._new_tokens)
            self._new_tokens.clear()
        if not self._queued:
            return
        last = self.db.execute("SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, mac = last if last else (0, b"")
        rows = _EventMacs(self._macs()).rows(mac, seq, self._queued)
        self._queued.clear()
        self.db.executemany(
            "INSERT INTO audit (seq, at, run_id, action, platform, subject, detail, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        self._appended = True

    def _forget_queued_events(self) -> None:
        """The transaction rolled back: its events and the tokens it made are gone with it."""
        self._queued.clear()
        self._new_tokens.clear()
        self._tokens.clear()

    def _advance_head(self) -> None:
        """After a commit that appended events: write the new head outside the state, but only
        while the log still holds the head written before (else that head is kept, so status and
        ``audit verify`` go on saying the log lost events)."""
        if not self._run_keeps_tokens:
            self._tokens.clear()
        if self._head_path is None:
            return
        before = self.recorded_head()
        if before is not None and before.count:
            row = self.db.execute("SELECT mac FROM audit WHERE seq = ?", (before.count,)).fetchone()
            if row is None or not before.matches(row[0]):
                return
        elif self._head_path.exists() and before is None:
            return  # a head file that is not a head: kept for the admin to see, never overwritten
        self._write_head()

    def _write_head(self) -> None:
        head = self.audit_head()
        files.replace_small_file(self._head_path, (f"{head.count}:{head.mac}\n" + HEAD_NOTE).encode("ascii"))

    def reanchor_audit(self) -> tuple[AuditHead | None, AuditHead]:
        """Anchor the log again once the admin knows why it no longer reaches the head written
        outside it (the state restored from a backup without that backup's audit-head.txt, the
        file lost). Only a chain that verifies under its key is anchored again; an
        ``audit.reanchored`` event records the head that was recorded and how many events the log
        holds, so the gap stays on the record, and a head kept on paper before still fails.
        Returns (the head recorded before, the new one)."""
        check = self.verify_audit()
        if check.first_broken is not None:
            raise AuditBroken(f"the audit log cannot be anchored again: {check.problem()}",
                              hint="keep a copy of the workspace as it is and tell your data protection officer")
        if check.intact:
            raise UsageError("the audit log already passes through its head: there is nothing to anchor again",
                             hint="'provisioner audit verify' shows it")  # fmt: skip
        before = self.recorded_head()
        with self.transaction():
            self.audit(None, REANCHORED, detail={"recorded_head": before.text if before else None,
                                                 "events": check.entries})  # fmt: skip
        if self._head_path is not None:
            self._write_head()
        return before, self.audit_head()


HEAD_NOTE = ("# The audit log's head: how many events it holds, then its last event's MAC. Written after every\n"
             "# change; 'provisioner audit verify' checks the log still passes through it. Back it up with the\n"
             "# state, school-secret.key and audit.key.\n")  # fmt: skip


# Built once: json.dumps with options makes a new encoder at every call, a third of an event's cost.
_as_payload = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_UNSEEN = object()


def _payload_text(values: tuple) -> str:
    """``_as_payload`` of these values as a list, without its brackets: a part of an event's
    payload, made once for the many events that share it (``_EventMacs``)."""
    return _as_payload(list(values))[1:-1]


class _EventMacs:
    """Each event's MAC, as the log is written and as it is checked: HMAC-SHA-256 under the audit
    key over the MAC before it and the event as compact JSON, [seq, at, run, action, platform,
    subject as hex, detail], cut to 16 bytes. A batch's times, runs, actions and platforms are a
    few, and so are its details, so each is made JSON text once, not once an event."""

    def __init__(self, macs: KeyedHash) -> None:
        self._inner, self._outer = macs.parts()
        self._starts: dict[tuple, str] = {}  # (at, run, action, platform) -> its text
        self._ends: dict[str | None, str] = {}  # detail -> its text

    def _texts(self, head: tuple, detail: str | None) -> tuple[str, str]:
        """The payload's text of an event's head (time, run, action, platform) and of its detail."""
        start = self._starts.get(head)
        if start is None:
            start = self._starts[head] = _payload_text(head)
        end = self._ends.get(detail)
        if end is None:
            end = self._ends[detail] = _payload_text((detail,))
        return start, end

    def after(self, previous: bytes, seq: int, head: tuple, subject: bytes | None, detail: str | None) -> bytes:
        """The MAC of event ``seq`` (``head``: its time, run, action and platform), chained to ``previous``."""
        start, end = self._texts(head, detail)
        token = f'"{subject.hex()}"' if subject else "null"  # hex digits: nothing to escape
        hashed = self._inner.copy()
        hashed.update(previous)
        hashed.update(f"[{seq},{start},{token},{end}]".encode())
        outside = self._outer.copy()
        outside.update(hashed.digest())
        return outside.digest()[:MAC_BYTES]

    def rows(self, previous: bytes, seq: int, events: list[tuple]) -> list[tuple]:
        """The log's rows of these events (at, run, action, platform, subject, detail), numbered
        from ``seq + 1`` and chained to ``previous``: each MAC made as ``after`` makes it, in one
        loop (a trust's first apply writes 270,000 events, nearly all alike but for the pupil).
        Consecutive events of one time, run, action, platform and detail share their text."""
        inner, outer, out = self._inner, self._outer, []
        append, last, before, after_ = out.append, None, "", ""
        for event in events:
            at, run_id, action, platform, subject, detail = event
            shape = (at, run_id, action, platform, detail)
            if shape != last:
                last = shape
                start, end = self._texts((at, run_id, action, platform), detail)
                before, after_ = f",{start},", f",{end}]"
            seq += 1
            hashed = inner.copy()
            hashed.update(previous)
            hashed.update(f'[{seq}{before}"{subject.hex()}"{after_}'.encode() if subject
                          else f"[{seq}{before}null{after_}".encode())  # fmt: skip
            outside = outer.copy()
            outside.update(hashed.digest())
            previous = outside.digest()[:MAC_BYTES]
            append((seq, *event, previous))
        return out


_as_detail = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def _compact(detail: dict | None) -> str | None:
    return _as_detail(detail) if detail else None


# The command behind a platform's event written outside a run (see ``last_run_by_platform``).
OUTSIDE_A_RUN = {"batch.uploaded": "confirm", "batch.deleted": "confirm", "password_reset.requested": "reset-passwords"}


def _iso(at: int | str) -> str:
    """An event's time as ISO 8601 in UTC (a log kept before migration 11 wrote ISO text)."""
    return at if isinstance(at, str) else datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def _epoch_now() -> int:
    return int(datetime.now(UTC).timestamp())


# Migration 11: the log kept before it was keyed


def rechain_sha256_log(state: RunsAndAudit) -> None:
    """Move the events of the plain SHA-256 chain (migration 11 renamed its table) into the keyed
    log: its chain is walked under its own rule first, and the verdict, its count and its last
    hash go into an ``audit.rechained`` event, so whoever kept an old head can still compare it.
    A pupil the state still knows keeps one token for all their events; a pupil already forgotten
    gets a fresh random token, so the old keyed hash (reversible with the workspace key) is gone."""
    db = state.db
    known = {state.subject(key): key for (key,) in db.execute(
        "SELECT pupil_key FROM accounts UNION SELECT pupil_key FROM pupils UNION SELECT pupil_key FROM sends"
        " UNION SELECT pupil_key FROM usernames UNION SELECT pupil_key FROM password_resets")}  # fmt: skip
    forgotten: dict[str, bytes] = {}
    previous, count, broken = LEGACY_GENESIS, 0, None
    for seq, at, run_id, action, platform, subject, detail, prev, digest in db.execute(
        "SELECT seq, at, run_id, action, platform, subject, detail, prev, hash FROM audit_sha256 ORDER BY seq"
    ).fetchall():
        entry = {"at": at, "run_id": run_id, "action": action, "platform": platform, "subject": subject,
                 "detail": detail}  # fmt: skip
        if broken is None and (prev != previous or _legacy_hash(previous, entry) != digest):
            broken = seq
        previous, count = digest, count + 1
        if subject is None:
            token = None
        elif subject in known:
            token = state._token(known[subject])
        else:
            token = forgotten.setdefault(subject, secrets.token_bytes(TOKEN_BYTES))
        when = int(datetime.fromisoformat(at).timestamp())
        state._queued.append((when, run_id, action, platform, token, _compact(json.loads(detail or "{}"))))
    if count == 0:  # a new workspace: nothing was moved, and no event says otherwise
        db.execute("DROP TABLE audit_sha256")
        return
    verdict = "intact" if broken is None else f"broken at event {broken}"
    state.audit(None, RECHAINED, detail={
        "events": count, "old_chain": verdict, "old_head": previous if count else None,
        "why": "the log was moved to a keyed chain anchored outside the state; the events before this one were "
               "checked under the old rule (plain SHA-256) and chained again under the key"})  # fmt: skip
    state._write_queued_events()
    db.execute("DROP TABLE audit_sha256")


def _legacy_hash(prev_hash: str, entry: dict) -> str:
    payload = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()
