"""The audit log is append-only, keyed, and proves itself against a head kept outside its own
file: an edited, deleted, moved, cut-short or rewritten log is caught; pupils appear in it only
as random tokens, which forgetting them leaves leading nowhere."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from conftest import TODAY, Cli, apply
from provisioner.facade import Provisioner
from provisioner.connector.api import Outcome
from provisioner.errors import WorkspaceFault
from provisioner.state import MIGRATIONS, AccountStatus, Batch, BatchKind, BatchStatus, RunStatus, State, now
from provisioner.state.texts import sent_texts
from provisioner.state.schema import statements
from provisioner.workspace import Workspace


def applied(workspace, roster_file):
    apply(workspace, roster_file)
    return Provisioner(workspace).read_roster(roster_file, today=TODAY)


def tamper(workspace, *sql: str, params=()) -> None:
    """What someone editing the state file by hand does: drop the guards, change rows."""
    db = sqlite3.connect(workspace.state_path)
    db.execute("DROP TRIGGER IF EXISTS audit_no_update")
    db.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    for statement in sql:
        db.execute(statement, params)
    db.commit()
    db.close()


def events(workspace) -> list[tuple]:
    db = sqlite3.connect(workspace.state_path)
    rows = db.execute("SELECT seq, at, run_id, action, platform, subject, detail, mac FROM audit ORDER BY seq").fetchall()
    db.close()
    return rows


def verify(workspace, *args: str):
    result = Cli(workspace)("audit", "verify", "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def test_every_account_action_is_audited_and_the_chain_verifies(workspace, roster_file):
    roster = applied(workspace, roster_file)
    with workspace.open_state() as state:
        check = state.verify_audit()
        creates = state.db.execute("SELECT COUNT(*) FROM audit WHERE action = 'account.create'").fetchone()[0]
        head = state.audit_head()
    assert check.intact and check.first_broken is None
    assert creates == sum(1 for p in roster.pupils if not (p.leaving_date and p.leaving_date <= TODAY))
    assert check.entries > creates
    # The head outside the state is the log's own, written with the run, owner-only.
    assert workspace.audit_head_path.read_text().split("\n")[0] == f"{head.count}:{head.mac}"
    assert head.count == check.entries
    assert workspace.audit_head_path.stat().st_mode & 0o077 == 0
    assert workspace.audit_key_path.stat().st_mode & 0o077 == 0


def test_the_key_is_not_in_the_state(workspace, roster_file):
    applied(workspace, roster_file)
    key = workspace.audit_key_path.read_text().strip()
    raw = workspace.state_path.read_bytes()
    assert key.encode() not in raw and bytes.fromhex(key) not in raw


def test_the_audit_log_names_no_pupil(workspace, roster_file):
    roster = applied(workspace, roster_file)
    rows = events(workspace)
    assert rows
    said = [" ".join(str(column) for column in row[1:5] + row[6:7]) for row in rows]
    subjects = {row[5] for row in rows if row[5] is not None}
    assert subjects and all(len(s) == 8 for s in subjects), "a pupil is a random 8-byte token"
    with workspace.open_state() as state:
        accounts = state.accounts("purple-mash")
        for pupil in roster.pupils:
            account = accounts.get(pupil.key)
            sent = list(account.sent.values()) if account else []
            for value in (pupil.key, pupil.mis_id, pupil.upn, pupil.legal_surname, pupil.forename, *sent):
                assert not any(value and value in line for line in said)
            # The keyed hash the log once used is no longer in it.
            assert bytes.fromhex(state.subject(pupil.key)) not in subjects
            assert all(state.subject(pupil.key) not in line for line in said)


def test_appends_are_refused_edits_of_the_table(workspace, roster_file):
    applied(workspace, roster_file)
    db = sqlite3.connect(workspace.state_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE audit SET action = 'nothing' WHERE seq = 3")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit WHERE seq = 3")
    db.close()


def test_an_edited_event_is_caught(workspace, roster_file):
    applied(workspace, roster_file)
    tamper(workspace, "UPDATE audit SET detail = '{}' WHERE seq = 3")
    code, check = verify(workspace)
    assert code == 8 and check["intact"] is False and check["first_broken"] == 3
    assert check["entries"] == 2


def test_status_checks_every_events_mac(workspace, roster_file):
    """status walks the whole chain on every run, not just its head: an event edited in the
    middle of the log is reported with its own exit code, the head and the count."""
    applied(workspace, roster_file)
    tamper(workspace, "UPDATE audit SET detail = '{}' WHERE seq = 3")
    result = Cli(workspace)("status")
    assert result.exit_code == 8
    assert "event 3 does not match the chain (after 2 that do)" in result.output
    audit = json.loads(Cli(workspace)("status", "--json").stdout)["audit"]
    assert audit["intact"] is False and audit["first_broken"] == 3 and audit["entries"] == 2


def test_the_macs_are_hmac_sha256_under_the_audit_key(workspace, roster_file):
    """A log written before keeps verifying: each event's MAC is the first 16 bytes of
    HMAC-SHA-256 under audit.key over the MAC before it and the event as compact JSON."""
    applied(workspace, roster_file)
    key, mac = workspace.audit_key, b""
    for seq, at, run_id, action, platform, subject, detail, stored in events(workspace):
        payload = json.dumps([seq, at, run_id, action, platform, subject.hex() if subject else None, detail],
                             separators=(",", ":"), ensure_ascii=False)  # fmt: skip
        mac = hmac.digest(key, mac + payload.encode(), "sha256")[:16]
        assert stored == mac, f"event {seq}"


def test_an_event_given_another_events_pupil_in_the_same_batch_is_caught(workspace, roster_file):
    """The check makes the text a batch's events share (their time, run, action, platform and
    detail) once: an event whose own part, its pupil, is changed to its neighbour's still fails,
    and so does one moved to another platform or given another detail."""
    applied(workspace, roster_file)
    rows = events(workspace)
    # Two events of one batch that differ only in their pupil (an apply's account.create events).
    first, second = next((a, b) for a, b in zip(rows, rows[1:]) if a[1:5] == b[1:5] and a[6] == b[6]
                         and a[5] and b[5] and a[5] != b[5])  # fmt: skip
    for change, value in (("subject", first[5]), ("platform", "another-platform"), ("detail", '{"batch":"x"}')):
        kept = workspace.state_path.read_bytes()
        tamper(workspace, f"UPDATE audit SET {change} = ? WHERE seq = {second[0]}", params=(value,))
        code, check = verify(workspace)
        assert code == 8 and check["first_broken"] == second[0], change
        workspace.state_path.write_bytes(kept)
    assert verify(workspace)[0] == 0


def test_a_deleted_event_is_caught(workspace, roster_file):
    applied(workspace, roster_file)
    tamper(workspace, "DELETE FROM audit WHERE seq = 5")
    code, check = verify(workspace)
    assert code == 8 and check["first_broken"] == 6 and check["entries"] == 4


def test_reordered_events_are_caught(workspace, roster_file):
    applied(workspace, roster_file)
    rows = {row[0]: row for row in events(workspace)}
    swap = "UPDATE audit SET at = ?, run_id = ?, action = ?, platform = ?, subject = ?, detail = ?, mac = ? WHERE seq = ?"
    db = sqlite3.connect(workspace.state_path)
    db.execute("DROP TRIGGER audit_no_update")
    db.execute(swap, (*rows[5][1:], 4))
    db.execute(swap, (*rows[4][1:], 5))
    db.commit()
    db.close()
    code, check = verify(workspace)
    assert code == 8 and check["first_broken"] == 4


@pytest.mark.parametrize("kept", [0, 10, -12], ids=["all removed", "half removed", "last events removed"])
def test_a_log_cut_short_is_caught_by_the_head_kept_outside_it(workspace, roster_file, kept):
    applied(workspace, roster_file)
    count = len(events(workspace))
    keep = kept if kept >= 0 else count + kept
    if kept == 10:
        keep = count // 2
    tamper(workspace, "DELETE FROM audit WHERE seq > ?", params=(keep,))
    code, check = verify(workspace)
    assert code == 8 and check["intact"] is False and check["first_broken"] is None
    assert f"the log has {keep} events" in check["problem"] and "removed from its end" in check["problem"]
    status = Cli(workspace)("status")
    assert status.exit_code == 8 and "BROKEN" in status.output


def test_a_log_rewritten_and_hashed_forward_without_the_key_is_caught(workspace, roster_file):
    """The attacker has the state file, not audit.key: they drop an event, then compute every
    MAC again with a key of their own (or the old rule, plain SHA-256), and the head file to match."""
    applied(workspace, roster_file)
    rows = [row for row in events(workspace) if row[0] != 4]
    guessed = b"\x01" * 32
    db = sqlite3.connect(workspace.state_path)
    db.execute("DROP TRIGGER audit_no_delete")
    db.execute("DELETE FROM audit")
    mac = b""
    for seq, row in enumerate(rows, start=1):
        payload = json.dumps([seq, *row[1:5], row[5].hex() if row[5] else None, row[6]], separators=(",", ":"))
        mac = hmac.digest(guessed, mac + payload.encode(), "sha256")[:16]
        db.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (seq, *row[1:7], mac))
    db.commit()
    db.close()
    workspace.audit_head_path.write_text(f"{len(rows)}:{mac.hex()}\n")
    code, check = verify(workspace)
    assert code == 8 and check["first_broken"] == 1 and check["entries"] == 0
    assert "without its key" in check["problem"]


def test_a_head_kept_on_paper_catches_a_rewrite_by_someone_holding_the_key(workspace, roster_file, pupils, tmp_path):
    """Even someone with audit.key, rewriting the log from an event onwards and the head file
    with it, cannot match the head a governor copied from the register."""
    applied(workspace, roster_file)
    cli = Cli(workspace)
    printed = cli("status").output
    paper = re.search(r"Audit log head: (\S+) ", printed)[1]
    assert verify(workspace, "--head", paper) == (0, verify(workspace)[1])
    assert verify(workspace, "--head", paper.replace("-", " ").upper())[0] == 0, "copied by hand, spaced"
    count = int(paper.split(":")[0])
    # The insider removes the last events and rewrites the head file from the log as cut.
    tamper(workspace, "DELETE FROM audit WHERE seq > ?", params=(count - 3,))
    with workspace.open_state() as state:
        head = state.audit_head()
    workspace.audit_head_path.write_text(f"{head.count}:{head.mac}\n")
    assert verify(workspace)[0] == 0, "the log and the head file agree with each other"
    code, check = verify(workspace, "--head", paper)
    assert code == 8 and "removed from its end" in check["problem"]
    # A log that goes on from the paper's head passes it.
    tamper(workspace, "DELETE FROM audit")
    workspace.audit_head_path.unlink()
    code, check = verify(workspace, "--head", paper)
    assert code == 8


def test_the_head_file_does_not_follow_a_log_cut_short(workspace, roster_file, pupils):
    """The next change after a log was cut short leaves the head file as it was, so the loss
    stays visible instead of being written over."""
    applied(workspace, roster_file)
    recorded = workspace.audit_head_path.read_text()
    tamper(workspace, "DELETE FROM audit WHERE seq > 5")
    Provisioner(workspace).approve("purple-mash", "Test Admin", today=TODAY)
    assert workspace.audit_head_path.read_text() == recorded
    assert verify(workspace)[0] == 8


def test_a_later_change_moves_the_head_on_and_an_earlier_head_still_verifies(workspace, roster_file):
    applied(workspace, roster_file)
    with workspace.open_state() as state:
        earlier = state.audit_head()
    Provisioner(workspace).approve("purple-mash", "Test Admin", today=TODAY)
    with workspace.open_state() as state:
        later = state.audit_head()
    assert later.count > earlier.count
    code, check = verify(workspace, "--head", earlier.text)
    assert code == 0 and check["checked_against"] == earlier.text and check["head"] == later.text


def test_a_head_that_is_not_one_is_a_usage_error(workspace, roster_file):
    applied(workspace, roster_file)
    result = Cli(workspace)("audit", "verify", "--head", "yesterday", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert "not an audit log head" in error["message"] and "5123:9f3a" in error["hint"]


def test_the_head_is_printed_on_every_register_export_and_by_status(workspace, roster_file, tmp_path):
    applied(workspace, roster_file)
    cli = Cli(workspace)
    with workspace.open_state() as state:
        head = state.audit_head().text
    for fmt in ("pdf", "md", "xlsx"):
        exported = cli("register", "export", "--format", fmt, "--out", str(tmp_path / f"register.{fmt}"))
        assert exported.exit_code == 0, exported.output
        assert f"Audit log head: {head}" in exported.output
    assert f"Audit log head: {head}" in cli("status").output
    assert json.loads(cli("status", "--json").stdout)["audit"]["head"] == head
    governors_page = PdfReader(tmp_path / "register.pdf").pages[0].extract_text()
    assert head in " ".join(governors_page.split()), "on the page governors keep"


def test_a_missing_audit_key_is_restored_not_remade(workspace, roster_file):
    applied(workspace, roster_file)
    workspace.audit_key_path.unlink()
    result = Cli(workspace)("status", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert "audit.key is missing" in error["message"] and "restore it from the backup" in error["hint"]
    assert not workspace.audit_key_path.exists()


def test_a_missing_head_file_is_reported(workspace, roster_file):
    applied(workspace, roster_file)
    workspace.audit_head_path.unlink()
    code, check = verify(workspace)
    assert code == 8 and "audit-head.txt) is missing" in check["problem"]


def test_an_event_costs_little_room(workspace, roster_file):
    """Issue 16's budget: one event per account made is the state's biggest table."""
    applied(workspace, roster_file)
    db = sqlite3.connect(workspace.state_path)
    # Pages as filled (a log of 68 events leaves most of its last page empty).
    size = db.execute("SELECT SUM(pgsize - unused) FROM dbstat WHERE name = 'audit'").fetchone()[0]
    count = db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    payload = db.execute("SELECT AVG(LENGTH(action) + LENGTH(platform) + LENGTH(subject) + LENGTH(detail) + 16) "
                         "FROM audit WHERE action = 'account.create'").fetchone()[0]  # fmt: skip
    db.close()
    assert payload < 90
    assert size / count < 110, f"{size / count:.0f} bytes an event, pages included (it was 350)"


def test_migrations_are_recorded_and_rerunning_them_is_a_no_op(workspace):
    workspace.open_state().close()
    workspace.open_state().close()
    db = sqlite3.connect(workspace.state_path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    moved = db.execute("SELECT COUNT(*) FROM audit WHERE action = 'audit.rechained'").fetchone()[0]
    db.close()
    assert moved == 0, "a new workspace had no older log to move"


# A workspace from before the log was keyed


def _legacy_hash(prev: str, entry: dict) -> str:
    payload = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev + payload).encode()).hexdigest()


def _legacy_state(workspace, events: list[tuple[str, str | None, dict]], break_at: int | None = None) -> Workspace:
    """A state as the tool wrote it before migration 10: the plain SHA-256 chain, subjects the
    keyed hash of the pupil key. ``events``: (action, pupil key, detail); one pupil key holds an account."""
    workspace.state_path.unlink()
    workspace.audit_head_path.unlink()
    workspace.audit_key_path.unlink()
    db = sqlite3.connect(workspace.state_path, isolation_level=None)
    for script in MIGRATIONS[:8]:
        for statement in statements(script):
            db.execute(statement)
    db.execute("PRAGMA user_version = 8")
    db.execute("INSERT INTO accounts (platform, pupil_key, username, status, sent, created_at, updated_at)"
               " VALUES ('purple-mash', 'mis:101', 'ab1', 'active', '{}', '2026-09-01', '2026-09-01')")  # fmt: skip
    prev = "0" * 64
    for seq, (action, key, detail) in enumerate(events, start=1):
        subject = hmac.new(workspace.secret, b"audit\0" + key.encode(), "sha256").hexdigest()[:32] if key else None
        entry = {"at": f"2026-09-0{seq}T08:00:00.123456+00:00", "run_id": 1, "action": action,
                 "platform": "purple-mash", "subject": subject, "detail": json.dumps(detail, sort_keys=True)}
        digest = _legacy_hash(prev, entry)
        if seq == break_at:
            entry["detail"] = '{"edited": true}'
        db.execute("INSERT INTO audit (seq, at, run_id, action, platform, subject, detail, prev, hash)"
                   " VALUES (:seq, :at, :run_id, :action, :platform, :subject, :detail, :prev, :hash)",
                   {**entry, "seq": seq, "prev": prev, "hash": digest})  # fmt: skip
        prev = digest
    db.close()
    return Workspace(workspace.root)  # as a command opens it: no audit key yet


OLD_EVENTS = [("run.started", None, {"command": "apply"}), ("account.create", "mis:101", {"batch": "001"}),
              ("account.create", "mis:202", {"batch": "001"}), ("pupil.purged", "mis:202", {}),
              ("account.update", "mis:101", {"fields": ["class_name"]})]


def test_an_older_log_is_checked_moved_and_keyed(workspace):
    workspace = _legacy_state(workspace, OLD_EVENTS)
    old_subject_of_forgotten = hmac.new(workspace.secret, b"audit\0mis:202", "sha256").hexdigest()[:32]
    with workspace.open_state() as state:
        check = state.verify_audit()
        rows = state.db.execute("SELECT seq, at, action, subject, detail FROM audit ORDER BY seq").fetchall()
        token = state.db.execute("SELECT token FROM audit_subjects WHERE pupil_key = 'mis:101'").fetchone()[0]
        legacy = state.db.execute("SELECT name FROM sqlite_master WHERE name = 'audit_sha256'").fetchone()
    assert legacy is None
    moved = len(OLD_EVENTS) + 1
    assert check.intact and check.entries == len(rows) >= moved  # then the school key's fingerprint recorded
    assert [r[2] for r in rows[:moved]] == [a for a, _, _ in OLD_EVENTS] + ["audit.rechained"]
    assert rows[1][1] == int(datetime(2026, 9, 2, 8, tzinfo=UTC).timestamp()), "the time kept, in seconds"
    assert rows[1][3] == rows[4][3] == token, "a pupil still held keeps one token"
    assert rows[2][3] == rows[3][3] != token, "a forgotten pupil gets a fresh one"
    assert not any(old_subject_of_forgotten in str(r) for r in rows)
    assert bytes.fromhex(old_subject_of_forgotten) not in workspace.state_path.read_bytes()
    note = json.loads(rows[moved - 1][4])
    assert note["events"] == len(OLD_EVENTS) and note["old_chain"] == "intact" and len(note["old_head"]) == 64
    assert workspace.audit_head_path.read_text().startswith(f"{len(rows)}:")
    assert workspace.audit_key_path.exists()


def test_an_older_log_already_broken_says_so_when_moved(workspace):
    workspace = _legacy_state(workspace, OLD_EVENTS, break_at=3)
    result = Cli(workspace)("audit", "verify")
    assert result.exit_code == 0, "the keyed chain is whole"
    assert "old chain was broken at event 3" in result.output
    code, check = verify(workspace)
    assert check["rechained"][0]["old_chain"] == "broken at event 3"


def test_a_state_restored_from_an_older_backup_is_anchored_again_on_the_record(workspace, roster_file, tmp_path):
    applied(workspace, roster_file)
    backup = workspace.state_path.read_bytes()
    Provisioner(workspace).approve("purple-mash", "Test Admin", today=TODAY)
    cli = Cli(workspace)
    paper = json.loads(cli("status", "--json").stdout)["audit"]["head"]  # kept after the backup was made
    workspace.state_path.write_bytes(backup)  # restored without the backup's audit-head.txt
    assert cli("status").exit_code == 8
    asked = cli("audit", "reanchor", "--json")
    assert asked.exit_code == 2 and "needs a yes" in json.loads(asked.stdout)["error"]["message"]
    result = cli("audit", "reanchor", "--yes", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["recorded_head"] == paper
    code, check = verify(workspace)
    assert code == 0 and check["head"] == answer["head"]
    [again] = check["reanchored"]
    assert again["recorded_head"] == paper and again["events"] < int(paper.split(":")[0])
    assert "anchored again" in cli("audit", "verify").output
    assert verify(workspace, "--head", paper)[0] == 8, "the head kept on paper still shows the loss"
    assert cli("audit", "reanchor", "--yes").exit_code == 2, "nothing to anchor again now"


def test_an_edited_log_is_never_anchored_again(workspace, roster_file):
    applied(workspace, roster_file)
    tamper(workspace, "UPDATE audit SET detail = '{}' WHERE seq = 3")
    result = Cli(workspace)("audit", "reanchor", "--yes", "--json")
    assert result.exit_code == 8
    assert "cannot be anchored again" in json.loads(result.stdout)["error"]["message"]


def version_8_state(path) -> None:
    """A state as the tool wrote it before migration 10: one pupil created on Purple Mash, then
    moved class (the create's values differ from the account's), a second update recorded but
    not yet written (an apply killed before its file), and an account disabled."""
    path.unlink()
    db = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:8]:
        for statement in statements(script):
            db.execute(statement)
    db.execute("PRAGMA user_version = 8")
    created = '{"forename": "Amelia", "surname": "Quill", "class_name": "Oak", "username": "ameliaq"}'
    moved = '{"forename": "Amelia", "surname": "Quill", "class_name": "Ash", "username": "ameliaq"}'
    pending = '{"forename": "Amelia", "surname": "Quill-Hart", "class_name": "Ash", "username": "ameliaq"}'
    db.executescript(f"""
        INSERT INTO runs (id, command, started_at, status) VALUES (1, 'apply', '2026-09-01T08:00:00+00:00', 'ok');
        INSERT INTO batches (id, platform, run_id, kind, file, status, created_at, issued_at) VALUES
            ('20260901-001', 'purple-mash', 1, 'import', 'outbox/purple-mash/a.csv', 'uploaded',
             '2026-09-01T08:00:00+00:00', '2026-09-01T08:00:01+00:00'),
            ('20261001-001', 'purple-mash', 1, 'import', 'outbox/purple-mash/b.csv', 'uploaded',
             '2026-10-01T08:00:00+00:00', '2026-10-01T08:00:01+00:00'),
            ('20261101-001', 'purple-mash', 1, 'import', 'outbox/purple-mash/c.csv', 'writing',
             '2026-11-01T08:00:00+00:00', NULL);
        INSERT INTO accounts (platform, pupil_key, username, status, sent, created_at, updated_at, status_at) VALUES
            ('purple-mash', 'mis:7', 'ameliaq', 'active', '{moved}', '2026-09-01T08:00:00+00:00',
             '2026-10-01T08:00:01+00:00', NULL),
            ('ixl', 'mis:7', 'ameliaq', 'disabled', '{{"forename": "Amelia"}}', '2026-09-01T08:00:00+00:00',
             '2026-11-02T08:00:00+00:00', '2026-11-02T08:00:00+00:00');
        INSERT INTO usernames (platform, username, pupil_key, issued_at) VALUES
            ('purple-mash', 'ameliaq', 'mis:7', '2026-09-01T08:00:00+00:00'),
            ('ixl', 'ameliaq', 'mis:7', '2026-09-01T08:00:00+00:00');
        INSERT INTO sends (run_id, platform, batch_id, pupil_key, action, fields, changed, status, sent_at) VALUES
            (1, 'purple-mash', '20260901-001', 'mis:7', 'create', '{created}',
             '["forename", "surname", "class_name", "username", "password"]', 'done', '2026-09-01T08:00:01+00:00'),
            (1, 'ixl', NULL, 'mis:7', 'create', '{{"forename": "Amelia"}}', '["forename"]', 'done',
             '2026-09-01T08:00:01+00:00'),
            (1, 'purple-mash', '20261001-001', 'mis:7', 'update', '{moved}', '["class_name"]', 'done',
             '2026-10-01T08:00:01+00:00'),
            (1, 'purple-mash', '20261101-001', 'mis:7', 'update', '{pending}', '["surname"]', 'pending', NULL),
            (1, 'ixl', NULL, 'mis:7', 'disable', '{{}}', '[]', 'done', '2026-11-02T08:00:00+00:00');
    """)
    db.close()


def test_a_state_from_before_migration_10_keeps_every_value_sent_and_finishes_its_batch(workspace):
    version_8_state(workspace.state_path)
    state = workspace.open_state()
    assert state.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    history = [(r.platform, r.action, r.fields, r.changed, r.at) for r in state.pupil_history("mis:7")]
    oak = {"forename": "Amelia", "surname": "Quill", "class_name": "Oak", "username": "ameliaq"}
    ash = {**oak, "class_name": "Ash"}
    assert history == [
        ("purple-mash", "create", oak, ["forename", "surname", "class_name", "username", "password"],
         "2026-09-01T08:00:01+00:00"),
        ("ixl", "create", {"forename": "Amelia"}, ["forename"], "2026-09-01T08:00:01+00:00"),
        ("purple-mash", "update", ash, ["class_name"], "2026-10-01T08:00:01+00:00"),
        ("ixl", "disable", {}, [], "2026-11-02T08:00:00+00:00"),
    ]  # fmt: skip
    accounts = state.accounts("purple-mash")
    assert accounts["mis:7"].sent == ash and accounts["mis:7"].created_at == "2026-09-01T08:00:00+00:00"
    assert state.pupil_accounts("mis:7")["ixl"].status_at == "2026-11-02T08:00:00+00:00"
    assert state.usernames("purple-mash") == {"ameliaq"} and state.knows_pupil("mis:7")
    # The interrupted batch is finished from its record, and the history still holds every value.
    [batch] = state.batches("purple-mash", status=BatchStatus.WRITING)
    [send] = state.pending_sends("purple-mash", batch.id)
    assert send.fields == {**ash, "surname": "Quill-Hart"} and send.changed == ["surname"]
    state.mark_written(batch, [send], passwords=0)
    assert state.accounts("purple-mash")["mis:7"].sent == send.fields
    assert [r.fields for r in state.pupil_history("mis:7") if r.platform == "purple-mash"] == [oak, ash, send.fields]
    assert state.verify_audit().first_broken is None
    state.close()


def test_a_state_from_before_migration_9_is_smaller_once_migrated(workspace):
    version_8_state(workspace.state_path)
    db = sqlite3.connect(workspace.state_path)
    values = '{"forename": "Amelia", "surname": "Quill", "class_name": "Oak", "username": "ameliaq%d"}'
    for platform in ("purple-mash", "bug-club", "tt-rockstars"):
        db.executemany(
            "INSERT INTO accounts (platform, pupil_key, username, status, sent, created_at, updated_at)"
            " VALUES (?, ?, ?, 'active', ?, '2026-09-01T08:00:00+00:00', '2026-09-01T08:00:01+00:00')",
            [(platform, f"mis:{n}", f"ameliaq{n}", values % n) for n in range(100, 1100)],
        )
        db.executemany(
            "INSERT INTO sends (run_id, platform, batch_id, pupil_key, action, fields, changed, status, sent_at)"
            " VALUES (1, ?, '20260901-001', ?, 'create', ?, '[\"forename\", \"surname\", \"class_name\", \"username\"]',"
            " 'done', '2026-09-01T08:00:01+00:00')",
            [(platform, f"mis:{n}", values % n) for n in range(100, 1100)],
        )
    db.commit()
    db.close()
    before = workspace.state_path.stat().st_size
    with workspace.open_state() as state:
        assert len(state.accounts("bug-club")) == 1000
        assert state.pupil_history("mis:100")[0].fields["username"] == "ameliaq100"
    assert workspace.state_path.stat().st_size < before * 0.8


@dataclass
class Change:
    """One row an apply records (what ``record_intent`` takes from a plan)."""

    action: str
    pupil_key: str
    values: dict
    changed: tuple
    username: str | None


def sent_through_the_api(state: State, batch_id: str, change: Change, ok: bool = True) -> None:
    """Record a change as an API batch and its outcome, as ApiDelivery does."""
    run_id = state.begin_run("apply", None)
    batch = Batch(batch_id, "microsoft-365", run_id, "", BatchStatus.WRITING, now(), None, BatchKind.API)
    state.record_intent(batch, [change])
    [send] = state.pending_sends("microsoft-365", batch_id)
    assert send.fields == change.values and send.changed == list(change.changed)
    outcome = Outcome(send.id, ok, change.values["username"] if ok else None, "object-7" if ok else None,
                      None if ok else "Request_BadRequest")  # fmt: skip
    state.record_outcomes(batch, {send.id: send}, [outcome], finished=True)


def test_the_history_of_an_account_made_and_changed_through_an_api_keeps_every_value_sent(workspace):
    made = {"forename": "Amelia", "surname": "Quill", "class_name": "Oak", "username": "ameliaq"}
    moved = {**made, "class_name": "Ash"}
    with workspace.open_state() as state:
        sent_through_the_api(state, "20261122-001", Change("create", "mis:7", made, tuple(made), "ameliaq"))
        sent_through_the_api(state, "20261123-001", Change("update", "mis:7", moved, ("class_name",), "ameliaq"))
        assert [(r.action, r.fields, r.changed) for r in state.pupil_history("mis:7")] == [
            ("create", made, list(made)), ("update", moved, ["class_name"]),
        ]
        account = state.accounts("microsoft-365")["mis:7"]
        assert account.sent == moved and account.remote_id == "object-7"
        # A create the platform refused leaves no account, and nothing in the pupil's history.
        sent_through_the_api(state, "20261124-001", Change("create", "mis:8", made | {"username": "ameliaq2"},
                                                           tuple(made), "ameliaq2"), ok=False)  # fmt: skip
        assert "mis:8" not in state.accounts("microsoft-365") and state.pupil_history("mis:8") == []
        assert state.verify_audit().first_broken is None


def test_a_slip_file_is_owed_until_an_answer_names_it_and_owed_again_when_written_anew(workspace):
    """The slips an API batch wrote are recorded with its outcomes, each file owed to the admin
    until marked named; the same name written again (after the admin deleted the file) is owed
    again. The log counts the files, never what they hold."""
    slips = ["outbox/microsoft-365/microsoft-365-login-slips-20261122-001.pdf",
             "outbox/microsoft-365/microsoft-365-login-slips-20261122-001.xlsx"]  # fmt: skip
    with workspace.open_state() as state:
        run_id = state.begin_run("apply", None)
        batch = Batch("20261122-001", "microsoft-365", run_id, "", BatchStatus.WRITING, now(), None, BatchKind.API)
        state.record_outcomes(batch, {}, [], finished=False, slips=slips)
        assert [(s.platform, s.batch_id, s.file) for s in state.slips_not_named()] == \
            [("microsoft-365", "20261122-001", file) for file in slips]  # fmt: skip
        state.mark_slips_named(run_id, slips)
        state.mark_slips_named(run_id, slips)  # named already: no second event
        assert state.slips_not_named() == []
        state.record_outcomes(batch, {}, [], finished=False, slips=slips[1:])
        assert [s.file for s in state.slips_not_named()] == slips[1:]
        assert state.verify_audit().intact
        events = state.db.execute("SELECT action, detail FROM audit WHERE action LIKE 'slips.%' ORDER BY seq").fetchall()
    assert [(action, json.loads(detail)) for action, detail in events] == [
        ("slips.written", {"batch": "20261122-001", "files": 2}), ("slips.named", {"files": 2}),
        ("slips.written", {"batch": "20261122-001", "files": 1}),
    ]  # fmt: skip


def test_events_written_a_batch_at_a_time_keep_the_macs_definition(workspace):
    """The MACs of a batch's events are made a batch at a time (each run, action and detail as
    JSON text once); they must still be what a log written before, and ``verify``, define: the
    compact JSON of each event, whatever its detail holds (quotes, backslashes, accents, a line
    break, no run, no platform, no detail)."""
    odd = {"reason": 'said "no" \\ twice', "who": "Zoë Ødegård", "note": "line\nbreak", "n": 3}
    with workspace.open_state() as state:
        run_id = state.begin_run("apply", None)
        with state.transaction():
            state.audit(run_id, "account.update", "purple-mash", "mis:1", detail=odd)
            state.audit(None, "batch.uploaded", None, detail=None)
            shared = {"batch": "20261122-001"}
            state.recall_tokens(["mis:2", "mis:3", "mis:1"])
            state.audit_each(run_id, "ixl", [("account.create", "mis:2", shared), ("account.create", "mis:3", shared),
                                             ("account.update", "mis:1", odd)])  # fmt: skip
        assert state.verify_audit().intact
    key, mac = workspace.audit_key, b""
    rows = events(workspace)
    for seq, at, run, action, platform, subject, detail, stored in rows:
        payload = json.dumps([seq, at, run, action, platform, subject.hex() if subject else None, detail],
                             separators=(",", ":"), ensure_ascii=False)  # fmt: skip
        mac = hmac.digest(key, mac + payload.encode(), "sha256")[:16]
        assert stored == mac, f"event {seq}"
    details = [(action, platform, json.loads(detail) if detail else None) for _, _, _, action, platform, _, detail, _ in rows]
    assert details[-5:] == [("account.update", "purple-mash", odd), ("batch.uploaded", None, None),
                           ("account.create", "ixl", shared), ("account.create", "ixl", shared),
                           ("account.update", "ixl", odd)]  # fmt: skip
    # One token a pupil, whether its event was queued one by one or a batch at a time.
    tokens = [row[5] for row in rows[-5:]]
    assert tokens[0] == tokens[4] and tokens[1] is None and len({tokens[2], tokens[3], tokens[4]}) == 3


def test_a_batch_whose_rows_changed_since_its_file_was_written_is_not_marked_sent(workspace):
    """Marking a batch written changes its rows all at once: if they are not the rows its file was
    written with, nothing is marked sent, and the next apply writes the file afresh."""
    made = {"forename": "Amelia", "surname": "Quill", "class_name": "Oak", "username": "ameliaq"}
    with workspace.open_state() as state:
        run_id = state.begin_run("apply", None)
        batch = Batch("20261122-001", "purple-mash", run_id, "outbox/purple-mash/f.csv", BatchStatus.WRITING, now(),
                      None, BatchKind.IMPORT)  # fmt: skip
        state.record_intent(batch, [Change("create", "mis:7", made, tuple(made), "ameliaq"),
                                    Change("create", "mis:8", made | {"username": "ameliaq2"}, tuple(made), "ameliaq2")])
        sends = state.pending_sends("purple-mash", batch.id)
        with pytest.raises(WorkspaceFault, match="has 2 rows waiting to be sent, not the 1"):
            state.mark_written(batch, sends[:1], passwords=1)
        assert {a.status for a in state.accounts("purple-mash").values()} == {AccountStatus.PENDING}
        assert state.pending_sends("purple-mash", batch.id) == sends
        state.mark_written(batch, sends, passwords=2)
        assert {a.status for a in state.accounts("purple-mash").values()} == {AccountStatus.ACTIVE}
        assert state.pending_sends("purple-mash", batch.id) == []
        assert [row[3] for row in events(workspace)].count("account.create") == 2
        assert state.verify_audit().intact


def test_the_rows_an_intent_records_are_the_rows_read_back_from_the_state(workspace):
    """An apply writes its file from the rows ``record_intent`` gives, not from reading them back:
    they are the rows an interrupted apply reads back (the same ids, pupils, actions, values in
    their order, and fields changed), in the same order, for creates and updates alike."""
    made = {"forename": "Zoë", "surname": 'O"Brien \\ 100%', "class_name": "Oak\n\u2028", "username": "zoeo"}
    with workspace.open_state() as state:
        run_id = state.begin_run("apply", None)
        first = Batch("20261122-001", "purple-mash", run_id, "outbox/purple-mash/f.csv", BatchStatus.WRITING, now(),
                      None, BatchKind.IMPORT)  # fmt: skip
        sends = state.record_intent(first, [Change("create", "mis:7", made, tuple(made), "zoeo")])
        state.mark_written(first, sends, passwords=1)
        later = Batch("20261122-002", "purple-mash", run_id, "outbox/purple-mash/g.csv", BatchStatus.WRITING, now(),
                      None, BatchKind.IMPORT)  # fmt: skip
        moved = {"surname": "Quill", "forename": "Amelia", "class_name": "Ash", "username": "ameliaq"}
        recorded = state.record_intent(later, [
            Change("create", "mis:9", moved, tuple(moved), "ameliaq"),
            Change("update", "mis:7", {**made, "class_name": "Ash"}, ("class_name", "password"), "zoeo"),
            Change("create", "mis:8", {}, (), "nobody"),
        ])  # fmt: skip
        read_back = state.pending_sends("purple-mash", later.id)
        assert recorded == read_back
        assert [list(send.fields) for send in recorded] == [list(send.fields) for send in read_back]
        assert [send.id for send in recorded] == [sends[0].id + 1, sends[0].id + 2, sends[0].id + 3]
        state.mark_written(later, recorded, passwords=2)
        assert state.pending_sends("purple-mash", later.id) == []
        assert state.accounts("purple-mash")["mis:7"].sent["class_name"] == "Ash"


def test_a_runs_tokens_are_read_once_and_never_outlive_what_they_name(workspace):
    """A run keeps the tokens it recalled for its later transactions (a trust's apply names the
    same pupils on every platform), but each event's token is the one recorded for its pupil: a
    token made in a transaction that rolled back is not used, and a pupil forgotten mid-run gets
    a fresh one."""
    def token_of(state, key):
        row = state.db.execute("SELECT token FROM audit_subjects WHERE pupil_key = ?", (key,)).fetchone()
        return row[0] if row else None

    with workspace.open_state() as state:
        run_id = state.begin_run("apply", None)
        for platform in ("purple-mash", "ixl"):
            with state.transaction():
                state.recall_tokens(["mis:7", "mis:8"])
                state.audit_each(run_id, platform, [("account.create", "mis:7", None), ("account.create", "mis:8", None)])
        with pytest.raises(RuntimeError), state.transaction():
            state.recall_tokens(["mis:9"])
            state.audit(run_id, "account.create", "bug-club", "mis:9")
            raise RuntimeError("killed before the commit")
        with state.transaction():
            state.audit(run_id, "account.create", "bug-club", "mis:9")
        first_of_8 = token_of(state, "mis:8")
        state.forget_pupils(run_id, ["mis:8"])
        with state.transaction():
            state.audit(run_id, "account.create", "bug-club", "mis:8")
        state.finish_run(run_id, RunStatus.OK, {})
        recorded = {key: token_of(state, key) for key in ("mis:7", "mis:8", "mis:9")}
        assert state.verify_audit().intact
    subjects = [(row[3], row[4], row[5]) for row in events(workspace) if row[3] in ("account.create", "pupil.purged")]
    assert subjects == [
        ("account.create", "purple-mash", recorded["mis:7"]), ("account.create", "purple-mash", first_of_8),
        ("account.create", "ixl", recorded["mis:7"]), ("account.create", "ixl", first_of_8),
        ("account.create", "bug-club", recorded["mis:9"]), ("pupil.purged", None, first_of_8),
        ("account.create", "bug-club", recorded["mis:8"]),
    ]  # fmt: skip
    assert None not in recorded.values() and recorded["mis:8"] != first_of_8


def test_a_run_begun_and_finished_inside_a_transaction_leaves_its_pupils_one_token(workspace):
    """A named operation may begin and finish a run inside a larger transaction (the end of a
    platform's holds does): a pupil given a new token before the run, and named again after it,
    keeps the one token, still to be written when the transaction commits."""
    with workspace.open_state() as state:
        with state.transaction():
            state.audit(None, "account.create", "ixl", "mis:5")
            run_id = state.begin_run("confirm", None)
            state.finish_run(run_id, RunStatus.OK, {})
            state.audit(None, "account.create", "purple-mash", "mis:5")
        token = state.db.execute("SELECT token FROM audit_subjects WHERE pupil_key = 'mis:5'").fetchone()[0]
        assert state.verify_audit().intact
    subjects = [(row[4], row[5]) for row in events(workspace) if row[3] == "account.create"]
    assert subjects == [("ixl", token), ("purple-mash", token)]


@pytest.mark.parametrize("values", [
    {"forename": "Zoë", "surname": 'O"Brien \\ 100%', "class_name": "%s %d", "username": "zoeo"},
    {"forename": "", "note": "tab\there\nnewline\u2028"},
    {},
])  # fmt: skip
def test_values_are_recorded_as_the_json_module_writes_them(values):
    """The state holds values as json.dumps writes them (a plan compares that text)."""
    assert list(sent_texts([values, values])) == [json.dumps(values)] * 2


def test_a_status_change_gives_each_account_its_own_event_and_detail(workspace, roster_file):
    """A cleanup's thousands of status changes say one of a few things, and equal details are
    made JSON once; still each account has its own event, in order, saying what its own change
    did, whether its detail is shared, its keys in another order, holds a list, or a value equal
    to another's in Python but not in JSON (True and 1)."""
    applied(workspace, roster_file)
    with workspace.open_state() as state:
        keys = sorted(state.accounts("purple-mash"))[:7]
        run_id = state.begin_run("leavers", None)
        before = state.audit_head().count
        details = {keys[0]: {"reason": "left", "batch": "b1"}, keys[1]: {"reason": "absent", "batch": "b1"},
                   keys[2]: {"batch": "b1", "reason": "left"}, keys[3]: {"reason": "left", "batch": "b1"},
                   keys[4]: {"reason": "erased", "fields": ["forename", "surname"]},
                   keys[5]: {"reason": "left", "count": 1}, keys[6]: {"reason": "left", "count": True}}  # fmt: skip
        state.mark_deleted(run_id, "purple-mash", details)
        check = state.verify_audit()
        statuses = {key: account.status for key, account in state.accounts_of("purple-mash", keys).items()}
        written = state.db.execute(
            "SELECT e.action, e.platform, s.pupil_key, e.detail FROM audit e JOIN audit_subjects s ON s.token = e.subject"
            " WHERE e.seq > ? ORDER BY e.seq", (before,),
        ).fetchall()  # fmt: skip
    assert check.intact
    assert statuses == dict.fromkeys(keys, AccountStatus.DELETED)
    assert written == [("account.delete", "purple-mash", key, json.dumps(detail, sort_keys=True, separators=(",", ":")))
                       for key, detail in details.items()]  # fmt: skip
