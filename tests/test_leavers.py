"""The termly leaver cleanup across terms, its guard, overdue deletions, and the tool forgetting."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import Cli, apply, approve_register, key_of, set_platform, yes
from m365_helpers import configure, pupils_in, writes
from provisioner.delivery import ApplyResult, CleanupResult
from provisioner.facade import Provisioner
from provisioner.errors import GuardRefused
from provisioner.jobs.create import init_workspace
from provisioner.planning.cleanup import ABSENT, DELETE, EXCLUDED, LEFT, OUT_OF_SCOPE, RESTORE, RETURNED
from provisioner.synthetic import synthetic_pupils, write_roster_csv
from provisioner.workspace import Workspace

TERM1, TERM2, TERM3, SUMMER = date(2026, 11, 22), date(2027, 2, 15), date(2027, 3, 20), date(2027, 7, 25)


@pytest.fixture
def school(m365, graph):
    """Microsoft 365 (with class groups) and Purple Mash, 60 pupils provisioned in the autumn."""
    configure(m365, graph, optional_fields='["class_name"]', class_groups="true")
    set_platform(m365, "purple-mash", enabled="true")
    approve_register(m365)
    rows = synthetic_pupils(60, seed=41, today=TERM1)
    return m365, rows


def roster(workspace: Workspace, rows: list[dict], name: str = "roster.csv") -> Path:
    path = workspace.root.parent / name
    write_roster_csv(path, rows)
    return path


def run_apply(workspace: Workspace, rows: list[dict], today: date) -> ApplyResult:
    return apply(workspace, roster(workspace, rows), today)


def cleanup(workspace: Workspace, rows: list[dict], today: date, allow_large: bool = False) -> CleanupResult:
    return Provisioner(workspace).apply_leavers(roster(workspace, rows), confirm=yes, today=today,
                                                allow_large_cleanup=allow_large)  # fmt: skip


def m365_user(graph, workspace: Workspace, row: dict) -> dict | None:
    pseudonym = workspace.pseudonymous_id("microsoft-365", key_of(row))
    found = [u for u in pupils_in(graph) if u["employeeId"] == pseudonym]
    return found[0] if found else None


def deleted_m365(graph, workspace: Workspace, row: dict) -> bool:
    pseudonym = workspace.pseudonymous_id("microsoft-365", key_of(row))
    return any(u.get("employeeId") == pseudonym for u in graph.deleted_users.values())


def status_of(workspace: Workspace, platform: str, row: dict) -> str:
    with workspace.open_state() as state:
        return state.accounts(platform)[key_of(row)].status


def class_group_of(graph, user_id: str) -> list[str]:
    return [g["displayName"] for g in graph.groups.values()
            if g["displayName"].startswith("Class ") and user_id in g["members"]]  # fmt: skip


def test_three_terms_of_joiners_leavers_a_returner_and_year_6(school, graph):
    workspace, rows = school
    run_apply(workspace, rows, TERM1)
    assert len(pupils_in(graph)) == 60

    # Spring term: one leaves for good, one leaves and will come back, one moves class, one joins.
    leaver, returner, mover = rows[10], rows[20], rows[30]
    leaver["leaving_date"], returner["leaving_date"] = date(2027, 2, 5), date(2027, 2, 1)
    old_class = mover["class_name"]
    mover["class_name"] = next(r["class_name"] for r in rows if r["class_name"] != old_class)
    joiner = dict(rows[0], mis_id="990001", upn="", preferred_forename="Newt", legal_forename="Newt")
    rows.append(joiner)
    run_apply(workspace, rows, TERM2)
    result = cleanup(workspace, rows, TERM2)
    assert result.done["microsoft-365"] == {"disable": 2}
    assert m365_user(graph, workspace, leaver)["accountEnabled"] is False
    assert m365_user(graph, workspace, returner)["accountEnabled"] is False
    assert class_group_of(graph, m365_user(graph, workspace, leaver)["id"]) == [], "a leaver leaves the class group"
    assert class_group_of(graph, m365_user(graph, workspace, mover)["id"]) == [f"Class {mover['class_name']} pupils"]
    assert m365_user(graph, workspace, joiner)["accountEnabled"] is True
    assert status_of(workspace, "purple-mash", leaver) == "active", "not due yet: Purple Mash cannot disable"
    waiting = result.plan.platforms["purple-mash"]
    assert len(waiting.waiting) == 2 and waiting.next_due() == "2027-03-03"

    # Later in spring: the returner is back; the leaver's grace period is over.
    returner["leaving_date"] = None
    result = cleanup(workspace, rows, TERM3)
    assert result.done["microsoft-365"] == {"delete": 1, "restore": 1}
    back = m365_user(graph, workspace, returner)
    assert back["accountEnabled"] is True and class_group_of(graph, back["id"]), "back in their class group"
    assert m365_user(graph, workspace, leaver) is None and deleted_m365(graph, workspace, leaver)
    [deletion_list] = result.deletion_lists
    assert deletion_list.platform == "purple-mash" and deletion_list.rows == 1
    sheet = load_workbook(deletion_list.slips[1]).active
    listed = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    state = workspace.open_state()
    usernames = {k: a.username for k, a in state.accounts("purple-mash").items()}
    state.close()
    assert listed == [usernames[key_of(leaver)]]
    assert status_of(workspace, "purple-mash", returner) == "active"
    confirmed = Cli(workspace)("confirm", "purple-mash", "deleted", "--batch", deletion_list.batch_id)
    assert confirmed.exit_code == 0, confirmed.output
    assert status_of(workspace, "purple-mash", leaver) == "deleted"

    # Summer: Year 6 leave. More than 10% of the school at once: refused until the admin says so.
    year6 = [r for r in rows if r["year_group"] == "6"]
    for row in year6:
        row["leaving_date"] = date(2027, 7, 21)
    with pytest.raises(GuardRefused, match="--allow-large-cleanup|more than the 10% limit"):
        cleanup(workspace, rows, SUMMER)
    result = cleanup(workspace, rows, SUMMER, allow_large=True)
    assert result.done["microsoft-365"] == {"disable": len(year6)}
    assert all(m365_user(graph, workspace, r)["accountEnabled"] is False for r in year6)
    still_here = [r for r in rows if r not in year6 and r is not leaver]
    assert all(m365_user(graph, workspace, r)["accountEnabled"] is True for r in still_here)
    assert len(pupils_in(graph)) == 60, "61 made, the in-year leaver deleted"
    # And the next apply changes nothing on Microsoft 365.
    before = len(writes(graph))
    run_apply(workspace, rows, SUMMER)
    assert len(writes(graph)) == before


def test_a_truncated_roster_is_refused_and_changes_nothing(school, graph):
    workspace, rows = school
    run_apply(workspace, rows, TERM1)
    before_writes = len(writes(graph))
    state_bytes = workspace.state_path.read_bytes()
    for kept, exit_expected in ((rows[:6], 6), (rows[:0], 6)):
        path = roster(workspace, kept, "cut.csv")
        result = Cli(workspace)("leavers", "apply", str(path), "--yes", "--as-of", "2027-01-10")
        assert result.exit_code == exit_expected, result.output
        assert "Next:" in result.output
        assert workspace.state_path.read_bytes() == state_bytes, "nothing recorded"
        assert len(writes(graph)) == before_writes, "nothing sent"
    empty = roster(workspace, [], "empty.csv")
    refused = Cli(workspace)("leavers", "apply", str(empty), "--yes", "--allow-large-cleanup")
    assert refused.exit_code == 6 and "remove every account" in refused.output, "never from an empty roster"


def test_an_unconfirmed_deletion_list_shows_as_overdue(workspace, cli, pupils, roster_file):
    today = date(2026, 11, 22)
    apply(workspace, roster_file, today)
    left = pupils[5]
    left["leaving_date"] = date(2026, 12, 1)
    cleanup(workspace, pupils, date(2027, 1, 5))
    report = Cli(workspace)("status", "--json", "--as-of", "2027-01-10")
    assert '"unconfirmed_deletion_lists": 0' in report.output, "within its two weeks: not overdue"
    late = Cli(workspace)("status", "--json", "--as-of", "2027-01-25")
    assert '"unconfirmed_deletion_lists": 1' in late.output
    shown = Cli(workspace)("status", "--as-of", "2027-01-25")
    assert shown.exit_code == 0 and "unconfirmed" in " ".join(shown.output.split())
    assert Cli(workspace)("confirm", "purple-mash", "deleted").exit_code == 0
    after = Cli(workspace)("status", "--json", "--as-of", "2027-01-25")
    assert '"unconfirmed_deletion_lists": 0' in after.output


def test_a_leavers_grace_period_runs_from_the_day_first_missed_and_follows_a_new_policy(workspace, pupils, roster_file):
    """Each cleanup names the leaver again; the day they were first missed is kept, and the
    deletion day moves only when the school's policy for the platform changes."""
    apply(workspace, roster_file, date(2026, 11, 22))
    gone = pupils[4]
    staying = [row for row in pupils if row is not gone]

    def days() -> tuple[str | None, str | None]:
        with workspace.open_state() as state:
            account = state.accounts("purple-mash")[key_of(gone)]
        return account.left_on, account.delete_due

    cleanup(workspace, staying, date(2027, 1, 5))
    assert days() == ("2027-01-05", "2027-02-04"), "first missed today; deleted 30 days later (the register's default)"
    cleanup(workspace, staying, date(2027, 1, 20))
    assert days() == ("2027-01-05", "2027-02-04"), "missed again: the days recorded are kept"
    set_platform(workspace, "purple-mash", delete_after_days="90")
    result = cleanup(workspace, staying, date(2027, 1, 25))
    assert days() == ("2027-01-05", "2027-04-05"), "a longer grace period moves the deletion day, not the leaving day"
    assert result.deletion_lists == [], "not due yet: nothing is listed"

def test_after_the_retention_period_nothing_of_a_purged_leaver_is_left_in_the_state(workspace, pupils, roster_file):
    today = date(2026, 11, 22)
    apply(workspace, roster_file, today)
    left = pupils[3]
    state = workspace.open_state()
    username = state.accounts("purple-mash")[key_of(left)].username
    state.close()
    left["leaving_date"] = date(2026, 12, 1)
    cleanup(workspace, pupils, date(2027, 1, 5))
    Provisioner(workspace).confirm_deleted("purple-mash")
    kept = Provisioner(workspace).purge(date(2027, 6, 1))
    assert kept["pupils_purged"] == 0, "inside the retention period nothing is forgotten"
    assert key_of(left).encode() in workspace.state_path.read_bytes()
    report = Provisioner(workspace).purge(date(2028, 12, 1))
    assert report["pupils_purged"] == 1
    raw = workspace.state_path.read_bytes()
    secrets = [left["mis_id"], key_of(left), left["upn"], left["preferred_forename"] + " ", username,
               workspace.pseudonymous_id("purple-mash", key_of(left))]
    for value in secrets:
        assert value.encode() not in raw, f"{value!r} is still in the SQLite file"
    with workspace.open_state() as state:
        assert state.verify_audit().intact, "the audit log is intact"
        [token] = [r[0] for r in state.db.execute("SELECT subject FROM audit WHERE action = 'pupil.purged'")]
        actions = [r[0] for r in state.db.execute("SELECT action FROM audit WHERE subject = ?", (token,))]
        assert "account.create" in actions, "the events remain, under one token"
        # Nothing leads from the token back to the child, even with the workspace's keys.
        assert state.db.execute("SELECT COUNT(*) FROM audit_subjects WHERE token = ?", (token,)).fetchone()[0] == 0
        keyed = state.subject(key_of(left))
        assert bytes.fromhex(keyed) not in raw and keyed.encode() not in raw


def test_the_plan_finds_each_kind_of_leaver_and_returner_among_pupils_who_stay(tmp_path):
    """The cleanup reads whole only the accounts whose pupil may have a step: every kind of
    leaver and returner is still found on each platform, in key order, and the accounts in
    service are counted whole."""
    workspace = init_workspace(tmp_path / "ws", "Test Primary School", "test.sch.uk", ["purple-mash", "tt-rockstars"])
    with workspace.settings_path.open("a", encoding="utf-8") as settings:
        settings.write('\n[leavers]\nexclude_enrolment_statuses = ["G"]\n')
    workspace.__dict__.pop("settings", None)
    rows = synthetic_pupils(60, seed=5, today=TERM1, leavers=0)
    run_apply(workspace, rows, TERM1)
    served = {"purple-mash": len(rows), "tt-rockstars": sum(1 for r in rows if r["year_group"] in list("123456"))}
    juniors = [r for r in rows if r["year_group"] in ("3", "4", "5")]
    missing, left, guest, moved = juniors[:4]
    on_roll = [r for r in rows if r is not missing]
    left["leaving_date"] = TERM1
    guest["enrolment_status"] = "G"
    moved["year_group"] = "R"  # out of Times Tables Rock Stars' scope (Years 1 to 6), still on roll
    day = TERM1 + timedelta(days=1)

    plan = Provisioner(workspace).plan_leavers(roster(workspace, on_roll), today=day)
    expected = {
        "purple-mash": {key_of(missing): ABSENT, key_of(left): LEFT, key_of(guest): EXCLUDED},
        "tt-rockstars": {key_of(missing): ABSENT, key_of(left): LEFT, key_of(guest): EXCLUDED,
                         key_of(moved): OUT_OF_SCOPE},
    }  # fmt: skip
    for platform, leavers in expected.items():
        cleanup = plan.platforms[platform]
        listed = cleanup.steps + cleanup.waiting
        assert {s.pupil_key: s.reason for s in listed} == leavers, platform
        for steps in (cleanup.steps, cleanup.waiting):
            assert [s.pupil_key for s in steps] == sorted(s.pupil_key for s in steps), "in key order"
        assert cleanup.in_service == served[platform], "every active account is counted, leavers' too"
        assert all(s.action == DELETE for s in listed), "neither platform can disable an account"
    assert {s.name for s in plan.platforms["purple-mash"].waiting if s.pupil_key == key_of(missing)} == {
        f"{missing['preferred_forename']} {missing['preferred_surname']}"}, "a pupil not on the roster named as held"

    Provisioner(workspace).apply_leavers(roster(workspace, on_roll), confirm=yes, today=day)
    moved["year_group"] = "4"  # back in scope, and the missing pupil back on the roster
    back = Provisioner(workspace).plan_leavers(roster(workspace, rows), today=day + timedelta(days=10))
    for platform, returners in (("purple-mash", [missing]), ("tt-rockstars", [missing, moved])):
        cleanup = back.platforms[platform]
        assert [(s.action, s.pupil_key, s.reason) for s in cleanup.steps] == sorted(
            (RESTORE, key_of(r), RETURNED) for r in returners), platform
        assert {s.pupil_key: s.reason for s in cleanup.waiting} == {key_of(left): LEFT, key_of(guest): EXCLUDED}
