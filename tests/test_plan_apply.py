"""Plan is pure; apply does it once; a second apply does nothing; updates send only changes."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

from conftest import import_rows, key_of, TODAY, apply
from provisioner.connector import PupilView
from provisioner.delivery import Job
from provisioner.delivery.base import record_intent
from provisioner.facade import Provisioner
from provisioner.planning.provisioning import NO_VALUES, Change
from provisioner.state import BatchKind
from provisioner.synthetic import write_roster_xlsx
from provisioner.workspace import Workspace



def plan_for(workspace: Workspace, roster_file: Path):
    provisioner = Provisioner(workspace)
    return provisioner.read_roster(roster_file, today=TODAY), provisioner.plan(roster_file, today=TODAY)


def snapshot(workspace: Workspace) -> tuple:
    db = sqlite3.connect(workspace.state_path)
    try:
        tables = {t: db.execute(f"SELECT * FROM {t}").fetchall() for t in ("accounts", "sends", "batches", "audit")}
    finally:
        db.close()
    outbox = sorted(str(p.relative_to(workspace.root)) for p in workspace.outbox.rglob("*") if p.is_file())
    return tables, outbox


def test_plan_changes_nothing(workspace, roster_file, pupils):
    before = snapshot(workspace)
    roster, plan = plan_for(workspace, roster_file)
    counts = plan.platforms["purple-mash"].counts()
    on_roll = [p for p in pupils if not (p.get("leaving_date") and p["leaving_date"] <= TODAY)]
    assert counts["create"] == len(on_roll)
    assert counts["update"] == counts["unchanged"] == counts["leavers"] == 0
    assert snapshot(workspace) == before


def test_apply_writes_the_purple_mash_file_then_a_second_apply_does_nothing(workspace, roster_file, pupils):
    result = apply(workspace, roster_file)
    [batch] = result.batches
    rows = import_rows(batch.path)
    assert list(rows[0]) == ["Full Name", "Class", "UPN", "Username", "Password"]
    on_roll = [p for p in pupils if not (p.get("leaving_date") and p["leaving_date"] <= TODAY)]
    assert len(rows) == len(on_roll)
    # The UPN column holds the pseudonymous id, never a real UPN.
    real_upns = {p["upn"] for p in pupils if p.get("upn")}
    assert not real_upns & {r["UPN"] for r in rows}
    assert len({r["UPN"] for r in rows}) == len(rows)
    assert len({r["Username"] for r in rows}) == len(rows)

    before = snapshot(workspace)
    again = apply(workspace, roster_file)
    assert again.batches == []
    assert not again.plan.has_work
    assert again.plan.platforms["purple-mash"].counts()["unchanged"] == len(on_roll)
    assert snapshot(workspace) == before


def test_a_file_platforms_slips_are_not_owed_through_the_state(workspace, roster_file):
    """Only slips whose passwords are in no file (set through an API) are recorded as owed until
    an apply names them: a file platform's cards are drawn from its file, named as before."""
    result = apply(workspace, roster_file)
    assert [path.suffix for path in result.batches[0].slips] == [".pdf", ".xlsx"] and result.earlier_slips == []
    with workspace.open_state() as state:
        assert state.slips_not_named() == []
    assert apply(workspace, roster_file).as_dict()["earlier_slips"] == []
    assert Provisioner(workspace).status(TODAY)["platforms"]["purple-mash"]["unnamed_slips"] == []


def test_names_come_through_exactly(workspace, tmp_path, pupils):
    pupils[0].update(legal_forename="Zoë", preferred_forename=None, legal_surname="O’Brien", preferred_surname=None)
    pupils[1].update(legal_forename="Łukasz", preferred_forename=None, legal_surname="de la Cruz",
                     preferred_surname=None)  # fmt: skip
    path = tmp_path / "names.xlsx"
    write_roster_xlsx(path, pupils)
    [batch] = apply(workspace, path).batches
    names = {r["Full Name"] for r in import_rows(batch.path)}
    assert {"Zoë O’Brien", "Łukasz de la Cruz"} <= names


def test_a_class_move_is_an_update_of_only_that_field(workspace, tmp_path, pupils):
    first = tmp_path / "autumn.xlsx"
    write_roster_xlsx(first, pupils)
    apply(workspace, first)
    mover = next(p for p in pupils if not p.get("leaving_date"))
    first_class, mover["class_name"] = mover["class_name"], "Moved class"
    second = tmp_path / "spring.xlsx"
    write_roster_xlsx(second, pupils)
    _, plan = plan_for(workspace, second)
    purple = plan.platforms["purple-mash"]
    [update] = purple.of("update")
    assert update.changed == ("class_name",)
    assert purple.counts()["create"] == 0
    result = apply(workspace, second)
    [batch] = result.batches
    [row] = import_rows(batch.path)
    assert row["Class"] == "Moved class"
    # The username is kept across the update, and the password is not reset.
    assert row["Username"] == update.username
    assert row["Password"] == "" and batch.slips == []
    # The pupil's history keeps what each send sent: the class before the move, then after.
    history = workspace.open_state().pupil_history(key_of(mover))
    assert [(r.action, r.fields["class_name"]) for r in history if r.platform == "purple-mash"] == [
        ("create", first_class), ("update", "Moved class"),
    ]


def test_a_pupil_missing_from_the_next_roster_is_reported_as_a_leaver_not_deleted(workspace, tmp_path, pupils):
    first = tmp_path / "autumn.xlsx"
    write_roster_xlsx(first, pupils)
    apply(workspace, first)
    gone = [p for p in pupils if not p.get("leaving_date")][3]
    second = tmp_path / "spring.xlsx"
    write_roster_xlsx(second, [p for p in pupils if p is not gone])
    _, plan = plan_for(workspace, second)
    assert plan.platforms["purple-mash"].counts()["leavers"] == 1
    assert not plan.has_work
    assert len(workspace.open_state().accounts("purple-mash")) == len(
        [p for p in pupils if not p.get("leaving_date") or p["leaving_date"] > TODAY]
    )


def test_usernames_collide_into_counters_and_survive_a_second_apply(workspace, tmp_path, pupils):
    twins = [dict(pupils[i]) for i in range(3)]
    for n, twin in enumerate(twins):
        twin.update(legal_forename="Amelia", preferred_forename=None, legal_surname=f"Jones{'-Smith' * n}",
                    preferred_surname=None, leaving_date=None)  # fmt: skip
    path = tmp_path / "twins.xlsx"
    write_roster_xlsx(path, twins)
    [batch] = apply(workspace, path).batches
    assert sorted(r["Username"] for r in import_rows(batch.path)) == ["ameliaj", "ameliaj2", "ameliaj3"]


def test_the_state_records_exactly_what_was_sent(workspace, roster_file):
    [batch] = apply(workspace, roster_file).batches
    file_rows = {r["UPN"]: r for r in import_rows(batch.path)}
    state = workspace.open_state()
    keys = state.accounts("purple-mash")
    assert len(keys) == len(file_rows)
    for key in keys:
        [record] = state.pupil_history(key)
        sent = record.fields
        row = file_rows[sent["pseudonymous_id"]]
        assert row["Full Name"] == f"{sent['forename']} {sent['surname']}".strip()
        assert row["Class"] == sent["class_name"]
        assert row["Username"] == sent["username"]
        assert record.action == "create" and record.at


def test_a_leavers_username_is_never_given_to_a_newcomer(workspace, tmp_path, pupils):
    first = tmp_path / "autumn.xlsx"
    on_roll = [p for p in pupils if not p.get("leaving_date")]
    write_roster_xlsx(first, on_roll)
    [batch] = apply(workspace, first).batches
    leaver = on_roll[0]
    leaver_username = next(r["Username"] for r in import_rows(batch.path)
                           if r["Full Name"].startswith(leaver["preferred_forename"] or leaver["legal_forename"]))
    newcomer = dict(leaver, mis_id="999999", upn=None)
    second = tmp_path / "spring.xlsx"
    write_roster_xlsx(second, [*on_roll[1:], newcomer])
    # Another child with the same name and date of birth: the admin says so (else it is refused as a re-link).
    [batch] = apply(workspace, second, different_pupils=True).batches
    [row] = import_rows(batch.path)
    assert row["Username"] != leaver_username
    assert row["Username"].startswith(leaver_username)


def test_an_interrupted_apply_is_work_still_to_do(workspace, roster_file):
    [connector] = workspace.connectors()
    plan = Provisioner(workspace).plan(roster_file, today=TODAY)
    with workspace.open_state() as state:  # an apply killed just after recording its intent
        job = Job(workspace, state, TODAY, run_id=state.begin_run("apply", None), batch_id="20261122-001")
        record_intent(job, plan.platforms[connector.id], BatchKind.IMPORT, "outbox/purple-mash/interrupted.csv")
    again = Provisioner(workspace).plan(roster_file, today=TODAY)
    assert again.platforms[connector.id].resuming == len(plan.platforms[connector.id].to_send)
    assert again.platforms[connector.id].counts()["create"] == 0
    assert again.has_work


def test_a_roster_with_skipped_rows_detects_no_leavers(workspace, tmp_path, pupils):
    on_roll = [p for p in pupils if not p.get("leaving_date")]
    first = tmp_path / "autumn.xlsx"
    write_roster_xlsx(first, on_roll)
    apply(workspace, first)
    broken = [dict(p) for p in on_roll]
    broken[0]["legal_forename"] = ""  # an error: the row is left out with --skip-invalid-rows
    second = tmp_path / "spring.xlsx"
    write_roster_xlsx(second, broken)
    roster = Provisioner(workspace).read_roster(second, today=TODAY, skip_invalid_rows=True)
    plan = Provisioner(workspace).plan(second, today=TODAY, skip_invalid_rows=True)
    assert roster.invalid_rows == 1
    assert plan.platforms["purple-mash"].counts()["leavers"] == 0


def test_an_apply_answers_with_who_changed_and_how_having_let_go_of_the_values(workspace, roster_file):
    planned = Provisioner(workspace).plan(roster_file, today=TODAY)
    result = apply(workspace, roster_file)
    # The answer the admin reads (and --json prints) is the plan shown before, name for name...
    assert result.plan.as_dict() == planned.as_dict()
    # ...while the values sent, recorded in the state, are no longer held by the apply.
    changes = [c for p in result.plan.platforms.values() for c in p.changes]
    assert changes and not any(c.values for c in changes)
    # A plan made to show holds no create's values either: each is made from its pupil as it is recorded.
    assert not any(c.values for p in planned.platforms.values() for c in p.of("create"))
    assert all(c.values for p in planned.platforms.values() for c in p.sending())


def test_a_change_without_its_values_keeps_every_other_field():
    view = PupilView("purple-mash", {"surname": "Quarrington"}, ("surname",))
    change = Change("update", "mis:1", 7, view, ("surname",), "zebq", "Zeb Quarrington", "3A", "left", "Year 3", True)
    assert change.without_values() == replace(change, values=NO_VALUES)
