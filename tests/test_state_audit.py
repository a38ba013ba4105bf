"""The audit log is append-only and hash-chained; pupils appear in it only as keyed hashes."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import TODAY, yes
from provisioner.facade import Provisioner
from provisioner.state import MIGRATIONS, State


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
