"""The audit log is append-only and hash-chained; pupils appear in it only as keyed hashes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import pytest

from conftest import TODAY, yes
from provisioner.facade import Provisioner
from provisioner.connector.api import Outcome
from provisioner.state import MIGRATIONS, Batch, BatchKind, BatchStatus, State, now
from provisioner.state.schema import statements


def applied(workspace, roster_file):
    Provisioner(workspace).apply(roster_file, confirm=yes, today=TODAY)
    return Provisioner(workspace).read_roster(roster_file, today=TODAY)


def test_every_account_action_is_audited_and_the_chain_verifies(workspace, roster_file):
    roster = applied(workspace, roster_file)
    state = State(workspace.state_path, workspace.secret)
    checked, broken = state.verify_audit()
    assert broken is None
    creates = state.db.execute("SELECT COUNT(*) FROM audit WHERE action = 'account.create'").fetchone()[0]
    assert creates == sum(1 for p in roster.pupils if not (p.leaving_date and p.leaving_date <= TODAY))
    assert checked > creates


def test_the_audit_log_names_no_pupil(workspace, roster_file):
    roster = applied(workspace, roster_file)
    db = sqlite3.connect(workspace.state_path)
    entries = db.execute("SELECT at, run_id, action, platform, subject, detail FROM audit").fetchall()
    db.close()
    assert entries
    # The chain's own columns (prev, hash) are digests: hex digits in which a six-digit admission
    # number turns up by chance about one run in ten. Every column that says something is searched,
    # and the keyed hash that stands for a pupil must be none of their values.
    audit_lines = [" ".join(str(column) for column in entry[:4] + entry[5:]) for entry in entries]
    subjects = {entry[4] for entry in entries}
    accounts = workspace.open_state().accounts("purple-mash")
    for pupil in roster.pupils:
        account = accounts.get(pupil.key)
        sent = list(account.sent.values()) if account else []
        for value in (pupil.key, pupil.mis_id, pupil.upn, pupil.legal_surname, pupil.forename, *sent):
            assert not any(value and value in line for line in audit_lines)
            assert value not in subjects


def test_tampering_is_detected_and_edits_are_refused(workspace, roster_file):
    applied(workspace, roster_file)
    db = sqlite3.connect(workspace.state_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE audit SET action = 'nothing' WHERE seq = 3")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit WHERE seq = 3")
    # Someone who drops the trigger to rewrite history is still caught by the chain.
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET detail = '{}' WHERE seq = 3")
    db.commit()
    db.close()
    state = State(workspace.state_path, workspace.secret)
    assert state.verify_audit() == (2, 3)


def test_migrations_are_recorded_and_rerunning_them_is_a_no_op(workspace):
    State(workspace.state_path, workspace.secret).close()
    State(workspace.state_path, workspace.secret).close()
    version = sqlite3.connect(workspace.state_path).execute("PRAGMA user_version").fetchone()[0]
    assert version == len(MIGRATIONS)


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


def test_a_state_from_before_migration_9_keeps_every_value_sent_and_finishes_its_batch(workspace):
    version_8_state(workspace.state_path)
    state = State(workspace.state_path, workspace.secret)
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
    assert state.verify_audit()[1] is None
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
    with State(workspace.state_path, workspace.secret) as state:
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
    with State(workspace.state_path, workspace.secret) as state:
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
        assert state.verify_audit()[1] is None
