"""Deletions that are really deletions: an account Times Tables Rock Stars keeps in its Leavers
group is still held until TTRS deletes it, and a School Data Sync leaver is only inactive until
the admin deletes the account in Microsoft Entra."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from pypdf import PdfReader

from conftest import TODAY, Cli, key_of, set_platform, yes
from connectors.tt_rockstars import months_later
from provisioner.facade import Provisioner
from provisioner.jobs.create import init_workspace
from provisioner.planning.cleanup import RESTORE
from provisioner.reports.content import long_date, summary_rows
from provisioner.state import AccountStatus, BatchKind
from provisioner.synthetic import synthetic_pupils, write_roster_csv
from test_m365_sds import DOMAIN, sds_workspace

SERVED = 44  # of the 60 synthetic pupils, those in TTRS's year groups
CLEANUP_DAY = TODAY + timedelta(days=40)  # the Year 3 leaver's deletion is due by then (30 days after leaving)


def words(path: Path) -> str:
    return " ".join("\n".join(page.extract_text() for page in PdfReader(path).pages).split())


def audit_events(workspace, action: str) -> list[dict]:
    with sqlite3.connect(workspace.state_path) as db:
        return [json.loads(detail) for (detail,) in db.execute("SELECT detail FROM audit WHERE action = ?", (action,))]


def school_with_a_leaver(tmp_path: Path, workspace, platforms=None):
    """Provision 60 pupils, then one Year 3 pupil leaves tomorrow: (rows, the leaver's row, roster path)."""
    rows = synthetic_pupils(60, seed=5, today=TODAY, leavers=0)
    path = tmp_path / "roster.csv"
    write_roster_csv(path, rows)
    Provisioner(workspace).apply(path, confirm=yes, today=TODAY, platforms=platforms)
    leaver = next(r for r in rows if r["year_group"] == "3")
    leaver["leaving_date"] = TODAY + timedelta(days=1)
    write_roster_csv(path, rows)
    return rows, leaver, path


def ttrs_school(tmp_path: Path, leavers_group: bool):
    workspace = init_workspace(tmp_path / "ttrs", "Rock Primary", "rock.sch.uk", ["tt-rockstars"])
    if leavers_group:
        set_platform(workspace, "tt-rockstars", leavers_group="true")
    rows, leaver, path = school_with_a_leaver(tmp_path, workspace)
    Provisioner(workspace).confirm_uploaded("tt-rockstars", today=TODAY)  # the platform holds them now
    result = Provisioner(workspace).apply_leavers(path, confirm=yes, today=CLEANUP_DAY)
    [deletion_list] = result.deletion_lists
    return workspace, rows, leaver, path, deletion_list


def ttrs_account(workspace, leaver):
    with workspace.open_state() as state:
        return state.accounts("tt-rockstars")[key_of(leaver)]


# Times Tables Rock Stars' Leavers group


def test_a_leavers_group_confirm_keeps_the_pupil_held_until_ttrs_deletes_them(tmp_path):
    workspace, rows, leaver, path, _ = ttrs_school(tmp_path, leavers_group=True)
    Provisioner(workspace).confirm_deleted("tt-rockstars", today=CLEANUP_DAY)
    until = months_later(CLEANUP_DAY, 6)
    account = ttrs_account(workspace, leaver)
    assert account.status is AccountStatus.PLATFORM_HOLD and account.status.held
    assert account.delete_due == until.isoformat()
    [hold] = audit_events(workspace, "account.hold")
    assert hold["held_until"] == until.isoformat()

    status = Provisioner(workspace).status(CLEANUP_DAY)["platforms"]["tt-rockstars"]
    assert status["accounts"] == {"active": SERVED - 1, "platform_hold": 1}
    assert status["held_by_platform"]["accounts"] == 1 and status["held_by_platform"]["until"][-1] == until.isoformat()
    said = " ".join(Cli(workspace)("status", "--as-of", CLEANUP_DAY.isoformat()).stdout.split())
    assert f"1 account(s) removed from use are still held in Times Tables Rock Stars' Leavers group until {until}" in said

    register = Provisioner(workspace).register(CLEANUP_DAY)
    [ttrs] = [p for p in register.processors if p.id == "tt-rockstars"]
    assert ttrs.evidence.pupils_held == SERVED, "the Leavers group still holds the leaver"
    governors_read = " ".join(cell.text for row in summary_rows(register) for cell in row)
    assert f"1 pupil in Times Tables Rock Stars' Leavers group until {until}" in governors_read


def test_a_held_leaver_is_not_listed_for_deletion_again(tmp_path):
    workspace, rows, leaver, path, _ = ttrs_school(tmp_path, leavers_group=True)
    Provisioner(workspace).confirm_deleted("tt-rockstars", today=CLEANUP_DAY)
    later = CLEANUP_DAY + timedelta(days=30)
    cleanup = Provisioner(workspace).plan_leavers(path, today=later).platforms["tt-rockstars"]
    assert not cleanup.steps and not cleanup.waiting
    plan = Provisioner(workspace).plan(path, today=later).platforms["tt-rockstars"]
    assert key_of(leaver) not in {c.pupil_key for c in plan.changes if c.action != "unchanged"}


def test_once_the_leavers_group_day_passes_the_account_is_deleted_with_its_audit_event(tmp_path):
    workspace, rows, leaver, path, _ = ttrs_school(tmp_path, leavers_group=True)
    Provisioner(workspace).confirm_deleted("tt-rockstars", today=CLEANUP_DAY)
    until = months_later(CLEANUP_DAY, 6)
    after = until + timedelta(days=1)
    # Read before any command records it: the hold is over, so status and the register say so.
    assert Provisioner(workspace).status(until)["platforms"]["tt-rockstars"]["accounts"]["platform_hold"] == 1
    assert Provisioner(workspace).status(after)["platforms"]["tt-rockstars"]["accounts"] == {"active": SERVED - 1, "deleted": 1}
    [ttrs] = [p for p in Provisioner(workspace).register(after).processors if p.id == "tt-rockstars"]
    assert ttrs.evidence.pupils_held == SERVED - 1 and not ttrs.evidence.held_by_platform

    Provisioner(workspace).apply_leavers(path, confirm=yes, today=after)
    assert ttrs_account(workspace, leaver).status is AccountStatus.DELETED
    [event] = audit_events(workspace, "account.deleted_by_platform")
    assert event == {"held_until": until.isoformat(), "reason": "deleted by the platform's own schedule"}
    report = Provisioner(workspace).pupil_report(leaver["mis_id"], today=after)
    assert "tt-rockstars" in report["deleted"] and report["deleted"]["tt-rockstars"]["deleted"] == until.isoformat()


def test_without_the_leavers_group_a_confirmed_deletion_is_a_deletion_at_once(tmp_path):
    workspace, rows, leaver, path, deletion_list = ttrs_school(tmp_path, leavers_group=False)
    done = Cli(workspace)("confirm", "tt-rockstars", "deleted", "--json")
    assert done.exit_code == 0 and json.loads(done.stdout)["held_until"] is None
    assert ttrs_account(workspace, leaver).status is AccountStatus.DELETED
    assert Provisioner(workspace).status(CLEANUP_DAY)["platforms"]["tt-rockstars"]["held_by_platform"] is None
    [ttrs] = [p for p in Provisioner(workspace).register(CLEANUP_DAY).processors if p.id == "tt-rockstars"]
    assert ttrs.evidence.pupils_held == SERVED - 1


def test_the_access_report_shows_the_leavers_group_hold(tmp_path):
    workspace, rows, leaver, path, _ = ttrs_school(tmp_path, leavers_group=True)
    Provisioner(workspace).confirm_deleted("tt-rockstars", today=CLEANUP_DAY)
    until = months_later(CLEANUP_DAY, 6)
    report = Provisioner(workspace).pupil_report(leaver["mis_id"], today=CLEANUP_DAY)
    held = report["processors"]["tt-rockstars"]
    assert held["held_until"] == until.isoformat()
    assert f"Times Tables Rock Stars' Leavers group keeps the account and its data until {until}" in held["held_note"]
    pdf = tmp_path / "access.pdf"
    Provisioner(workspace).write_pupil_report_pdf(report, pdf)
    assert f"Times Tables Rock Stars' Leavers group keeps the account and its data until {long_date(until)}" in words(pdf)


def test_erasing_a_pupil_in_the_leavers_group_asks_for_its_deletion_there(tmp_path):
    workspace, rows, leaver, path, _ = ttrs_school(tmp_path, leavers_group=True)
    Provisioner(workspace).confirm_deleted("tt-rockstars", today=CLEANUP_DAY)
    result = Provisioner(workspace).erase_pupil(leaver["mis_id"], confirm=yes, today=CLEANUP_DAY)
    assert result.waiting == ["tt-rockstars"], "TTRS still holds the data until the admin deletes it"
    [deletion_list] = result.cleanup.deletion_lists
    text = words(deletion_list.slips[0])
    assert 'choose "Delete immediately"' in text and "must be deleted from there" in text
    assert 'choose "Send to Leavers"' not in text
    notes = " ".join(result.cleanup.notes)
    assert "still in Times Tables Rock Stars' Leavers group: delete it from there now" in notes
    Provisioner(workspace).confirm_deleted("tt-rockstars", today=CLEANUP_DAY)
    assert ttrs_account(workspace, leaver).status is AccountStatus.DELETED, "deleted at once, not held again"


def test_erasure_lists_ask_for_delete_immediately_even_where_leavers_go_to_the_leavers_group(tmp_path):
    workspace, rows, leaver, path, _ = ttrs_school(tmp_path, leavers_group=True)
    Provisioner(workspace).confirm_deleted("tt-rockstars", today=CLEANUP_DAY)
    on_roll = next(r for r in rows if r["year_group"] == "4")
    result = Provisioner(workspace).erase_pupil(on_roll["mis_id"], confirm=yes, today=CLEANUP_DAY)
    [deletion_list] = result.cleanup.deletion_lists
    assert 'choose "Delete immediately"' in words(deletion_list.slips[0])
    Provisioner(workspace).confirm_deleted("tt-rockstars", today=CLEANUP_DAY)
    assert ttrs_account(workspace, on_roll).status is AccountStatus.DELETED, "an erasure is not held for 6 months"


def test_a_returner_held_in_the_leavers_group_is_restored_not_made_again(tmp_path):
    workspace, rows, leaver, path, _ = ttrs_school(tmp_path, leavers_group=True)
    Provisioner(workspace).confirm_deleted("tt-rockstars", today=CLEANUP_DAY)
    leaver["leaving_date"] = ""
    write_roster_csv(path, rows)
    later = CLEANUP_DAY + timedelta(days=10)
    plan = Provisioner(workspace).plan(path, today=later).platforms["tt-rockstars"]
    assert key_of(leaver) not in {c.pupil_key for c in plan.changes if c.action == "create"}
    cleanup = Provisioner(workspace).plan_leavers(path, today=later).platforms["tt-rockstars"]
    assert [(s.action, s.pupil_key) for s in cleanup.steps] == [(RESTORE, key_of(leaver))]
    result = Provisioner(workspace).apply_leavers(path, confirm=yes, today=later)
    assert any("still in Times Tables Rock Stars' Leavers group: restore it there" in note for note in result.notes)
    assert ttrs_account(workspace, leaver).status is AccountStatus.ACTIVE


# School Data Sync


def sds_school(tmp_path: Path):
    workspace = sds_workspace(tmp_path)
    rows, leaver, path = school_with_a_leaver(tmp_path, workspace)
    Provisioner(workspace).confirm_uploaded("microsoft-365", today=TODAY)
    result = Provisioner(workspace).apply_leavers(path, confirm=yes, today=CLEANUP_DAY)
    return workspace, leaver, path, result


def sds_account(workspace, leaver):
    with workspace.open_state() as state:
        return state.accounts("microsoft-365")[key_of(leaver)]


def test_an_sds_leaver_upload_leaves_the_account_inactive_then_a_deletion_list_deletes_it(tmp_path):
    workspace, leaver, path, result = sds_school(tmp_path)
    [upload] = result.deletion_lists
    users = list(csv.DictReader((upload.path / "users.csv").open(encoding="utf-8")))
    username = sds_account(workspace, leaver).username
    assert len(users) == 59 and f"{username}@{DOMAIN}" not in {u["username"] for u in users}
    with workspace.open_state() as state:
        [batch] = [b for b in state.batches("microsoft-365") if b.id == upload.batch_id]
    assert batch.kind is BatchKind.LEAVER_UPLOAD

    done = Cli(workspace)("confirm", "microsoft-365", "uploaded", "--json")
    assert done.exit_code == 0, done.output
    answer = json.loads(done.stdout)
    assert answer["marked_inactive_not_deleted"] is True
    # Disabled (inactive in SDS, not deleted), then at once on the deletion list for Entra: still held.
    assert {"batch": upload.batch_id, "by": "marked inactive by School Data Sync"} in audit_events(workspace, "account.disable")
    account = sds_account(workspace, leaver)
    assert account.status is AccountStatus.DELETION_REQUESTED and account.status.held
    [status] = [Provisioner(workspace).status(CLEANUP_DAY)["platforms"]["microsoft-365"]]
    assert status["accounts"].get("deleted") is None and len(status["awaiting_deletion"]) == 1

    [listed] = answer["deletion_lists"]
    text = words(workspace.root / listed["file"])
    assert f"{username}@{DOMAIN}" in text, "the list names the account as Entra shows it"
    assert "Microsoft Entra admin centre" in text and "Delete" in text
    assert "30 days under Deleted users, where it can still be restored, then deletes it permanently" in text
    assert Provisioner(workspace).plan_leavers(path, today=CLEANUP_DAY).platforms["microsoft-365"].steps == []

    Provisioner(workspace).confirm_deleted("microsoft-365", today=CLEANUP_DAY)
    assert sds_account(workspace, leaver).status is AccountStatus.DELETED


def test_the_cli_tells_the_admin_inactive_is_not_deleted(tmp_path):
    workspace, leaver, path, result = sds_school(tmp_path)
    done = Cli(workspace)("confirm", "microsoft-365", "uploaded")
    said = " ".join(done.stdout.split())
    assert done.exit_code == 0, done.output
    assert "marked inactive by School Data Sync, which does not delete their accounts" in said
    assert "provisioner confirm microsoft-365 deleted" in said and "-deletions-" in said


def test_an_sds_returner_before_the_upload_is_back_and_not_disabled(tmp_path):
    workspace, leaver, path, result = sds_school(tmp_path)
    rows = synthetic_pupils(60, seed=5, today=TODAY, leavers=0)  # the same school, the leaver back on roll
    write_roster_csv(path, rows)
    back = Provisioner(workspace).apply_leavers(path, confirm=yes, today=CLEANUP_DAY + timedelta(days=1))
    assert back.done["microsoft-365"] == {RESTORE: 1}
    Provisioner(workspace).confirm_uploaded("microsoft-365", today=CLEANUP_DAY + timedelta(days=1))
    assert sds_account(workspace, leaver).status is AccountStatus.ACTIVE, "uploading the old folder disables nobody back"
    assert Provisioner(workspace).deletion_lists_waiting("microsoft-365") == []


def test_erasing_an_sds_pupil_goes_through_the_upload_then_the_deletion_list(tmp_path):
    workspace = sds_workspace(tmp_path)
    rows, leaver, path = school_with_a_leaver(tmp_path, workspace)
    Provisioner(workspace).confirm_uploaded("microsoft-365", today=TODAY)
    result = Provisioner(workspace).erase_pupil(leaver["mis_id"], confirm=yes, today=TODAY)
    assert result.waiting == ["microsoft-365"] and not result.purged
    Provisioner(workspace).confirm_uploaded("microsoft-365", today=TODAY)
    assert audit_events(workspace, "account.disable"), "inactive first"
    assert sds_account(workspace, leaver).status is AccountStatus.DELETION_REQUESTED, "inactive is not erased"
    assert not Provisioner(workspace).erase_pupil(leaver["mis_id"], confirm=yes, today=TODAY).purged
    Provisioner(workspace).confirm_deleted("microsoft-365", today=TODAY)
    assert sds_account(workspace, leaver).status is AccountStatus.DELETED


def test_the_leavers_run_tells_the_admin_to_upload_the_sds_folder_not_to_delete(tmp_path):
    workspace = sds_workspace(tmp_path)
    rows, leaver, path = school_with_a_leaver(tmp_path, workspace)
    Provisioner(workspace).confirm_uploaded("microsoft-365", today=TODAY)
    done = Cli(workspace)("leavers", "apply", str(path), "--yes", "--as-of", CLEANUP_DAY.isoformat())
    said = " ".join(done.stdout.split())
    assert done.exit_code == 0, done.output
    assert "which leaves out 1 account(s) to be marked inactive (not deleted)" in said
    assert "provisioner confirm microsoft-365 uploaded --batch" in said
    assert "confirm microsoft-365 deleted" not in said


# A trust's lists, drawn on the other core


def test_a_trusts_deletion_lists_drawn_by_the_worker_are_those_drawn_here(tmp_path, monkeypatch):
    """A trust's cleanup draws its deletion lists in a worker process while it records them: the
    admin gets the same lists, byte for byte but the PDF's time of making, recorded the same."""
    import re
    import shutil

    import provisioner.checklist as checklist
    from provisioner.xlsx import text_rows

    made = init_workspace(tmp_path / "made", "Trust Primary", "trust.sch.uk", ["purple-mash", "tt-rockstars"])
    rows = synthetic_pupils(60, seed=5, today=TODAY, leavers=0)
    path = tmp_path / "roster.csv"
    write_roster_csv(path, rows)
    Provisioner(made).apply(path, confirm=yes, today=TODAY)
    for leaver in [r for r in rows if r["year_group"] in ("3", "4")][:4]:
        leaver["leaving_date"] = TODAY + timedelta(days=1)
    write_roster_csv(path, rows)
    drawn = []
    draw = checklist.ChecklistWorker.draw
    monkeypatch.setattr(checklist.ChecklistWorker, "draw", lambda self, title, *rest: drawn.append(title) or
                        draw(self, title, *rest))  # fmt: skip

    def cleaned(name: str, worker_from: int):
        workspace = type(made)(shutil.copytree(made.root, tmp_path / name))
        monkeypatch.setattr(checklist, "WORKER_PUPILS", worker_from)
        result = Provisioner(workspace).apply_leavers(path, confirm=yes, today=CLEANUP_DAY)
        return workspace, result

    here, here_result = cleaned("here", worker_from=10_000)
    assert drawn == []
    aside, aside_result = cleaned("aside", worker_from=1)
    assert len(drawn) == len(aside_result.deletion_lists) == 2
    assert all(f"(batch {b.batch_id})" in title for b, title in zip(aside_result.deletion_lists, drawn, strict=True))

    def pdf(path: Path) -> bytes:
        return re.sub(rb"/CreationDate \(D:\d+Z\)", b"", path.read_bytes())

    for ours, theirs in zip(here_result.deletion_lists, aside_result.deletion_lists, strict=True):
        assert (ours.platform, ours.batch_id, ours.rows) == (theirs.platform, theirs.batch_id, theirs.rows)
        assert ours.rows >= 3
        assert pdf(ours.path) == pdf(theirs.path)
        assert text_rows(ours.slips[1]) == text_rows(theirs.slips[1])

    def status(workspace) -> dict:  # each platform's accounts and lists, not when it last ran
        platforms = Provisioner(workspace).status(CLEANUP_DAY)["platforms"]
        return {platform: {k: v for k, v in shown.items() if k != "last_run"} for platform, shown in platforms.items()}

    assert status(here) == status(aside)

    def events(workspace) -> list[tuple]:
        with sqlite3.connect(workspace.state_path) as db:
            return db.execute("SELECT action, platform, subject, detail FROM audit ORDER BY seq").fetchall()

    assert events(here) == events(aside)


def test_a_trusts_worker_starts_first_thing_only_on_a_day_deletions_fall_due(tmp_path, monkeypatch):
    """The day pupils are first missed their deletions only start counting, and no list is
    drawn: the worker is left to start with a first list, if any. On the day the deletions fall
    due it starts first thing, so it is ready by the time the first list is."""
    import provisioner.checklist as checklist

    workspace = init_workspace(tmp_path / "ws", "Trust Primary", "trust.sch.uk", ["purple-mash"])
    rows = synthetic_pupils(60, seed=5, today=TODAY, leavers=0)
    path = tmp_path / "roster.csv"
    write_roster_csv(path, rows)
    Provisioner(workspace).apply(path, confirm=yes, today=TODAY)
    write_roster_csv(path, rows[3:])  # three pupils missing: first missed today
    started = []
    start = checklist.ChecklistWorker.__init__
    monkeypatch.setattr(checklist, "WORKER_PUPILS", 1)
    monkeypatch.setattr(checklist.ChecklistWorker, "__init__", lambda self, start_now: started.append(start_now) or
                        start(self, start_now))  # fmt: skip
    first = Provisioner(workspace).apply_leavers(path, confirm=yes, today=TODAY)
    with workspace.open_state() as state:
        waiting = [state.deletions_due(day) for day in (TODAY, CLEANUP_DAY - timedelta(days=11), CLEANUP_DAY)]
    due = Provisioner(workspace).apply_leavers(path, confirm=yes, today=CLEANUP_DAY)
    assert (first.deletion_lists, [batch.rows for batch in due.deletion_lists]) == ([], [3])
    assert waiting == [False, False, True]
    assert started == [False, True]
