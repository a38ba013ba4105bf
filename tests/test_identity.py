"""The same child under another export's ids keeps their accounts; a partial roster is refused
when its absences would first be counted; the admin sees who is affected before agreeing.

Each school's export is made here, in the house style that MIS writes: SIMS xlsx with
zero-padded admission numbers, Arbor csv without the padding, an export with no admission
number (pupils keyed by UPN), and one whose ids are of another scheme with no UPN at all.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import TODAY, Cli, apply, approve_register, set_platform
from provisioner.errors import GuardRefused
from provisioner.facade import Provisioner
from provisioner.synthetic import synthetic_pupils, write_roster_csv, write_roster_xlsx


@pytest.fixture
def school() -> list[dict]:
    return synthetic_pupils(60, seed=11, today=TODAY, leavers=0)


def resets_by_import(workspace) -> None:
    """Turn on a platform that takes new passwords through its import (Purple Mash does not)."""
    set_platform(workspace, "education-city", enabled="true")
    approve_register(workspace)


def _file(tmp_path: Path, name: str, rows: list[dict], **kw) -> Path:
    path = tmp_path / name
    if name.endswith(".xlsx"):
        write_roster_xlsx(path, rows, **kw)
    else:
        write_roster_csv(path, rows, **kw)
    return path


def _accounts(workspace) -> dict[str, str]:
    with workspace.open_state() as state:
        return {key: a.username for key, a in state.accounts("purple-mash").items() if a.status.held}


def _snapshot(workspace) -> tuple[bytes, list[str]]:
    outbox = sorted(str(p.relative_to(workspace.root)) for p in (workspace.root / "outbox").rglob("*"))
    return (workspace.root / "state.sqlite3").read_bytes(), outbox


def test_a_change_of_export_without_zero_padding_creates_and_retires_nobody(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    before = _accounts(workspace)
    assert len(before) == len(school)

    arbor = [{**p, "mis_id": str(int(p["mis_id"]))} for p in school]  # Arbor: 1000, not 001000
    plan = Provisioner(workspace).plan(_file(tmp_path, "arbor.csv", arbor), today=TODAY)

    counts = plan.platforms["purple-mash"].counts()
    assert (counts["create"], counts["leavers"]) == (0, 0)
    result = apply(workspace, tmp_path / "arbor.csv")
    # Arbor also sends preferred surnames, which SIMS's export left out: updates, never creates.
    assert result.plan.platforms["purple-mash"].counts()["create"] == 0
    assert _accounts(workspace) == before  # same keys, same usernames: no second account


def test_an_export_without_the_admission_number_is_matched_by_upn(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    before = _accounts(workspace)
    by_upn = tmp_path / "no-admission-number.csv"
    write_roster_csv(by_upn, [{**p, "mis_id": None} for p in school], style="arbor")
    text = by_upn.read_text(encoding="utf-8-sig").splitlines()  # drop the first column, the MIS id
    by_upn.write_text("\n".join(",".join(line.split(",")[1:]) for line in text) + "\n", encoding="utf-8")

    plan = Provisioner(workspace).plan(by_upn, today=TODAY)

    counts = plan.platforms["purple-mash"].counts()
    assert (counts["create"], counts["leavers"]) == (0, 0)
    assert len(plan.relinked) == len(school) and {r.by for r in plan.relinked} == {"UPN"}
    apply(workspace, by_upn)
    assert _accounts(workspace) == before


def test_new_admission_numbers_with_the_same_upns_are_relinked_and_reported(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    before = _accounts(workspace)
    renumbered = [{**p, "mis_id": f"A{i:05d}"} for i, p in enumerate(school)]  # a new MIS, the same UPNs
    path = _file(tmp_path, "new-mis.xlsx", renumbered)

    result = Cli(workspace)("plan", str(path), "--json", "--as-of", TODAY.isoformat())

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["relinked"]) == len(school)
    assert data["platforms"]["purple-mash"]["create"] == 0
    apply(workspace, path)
    assert _accounts(workspace) == before
    # The held pupils now carry the new ids: the next plan matches them by MIS id, not UPN.
    assert Provisioner(workspace).plan(path, today=TODAY).relinked == []


def test_another_id_scheme_without_upns_is_refused_and_relink_pairs_by_name_and_birth(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    before_accounts = _accounts(workspace)
    other = [{**p, "mis_id": f"X{i:04d}", "upn": None} for i, p in enumerate(school)]
    path = _file(tmp_path, "other.xlsx", other)
    before = _snapshot(workspace)
    cli = Cli(workspace)

    planned = cli("plan", str(path), "--as-of", TODAY.isoformat())
    applied = cli("apply", str(path), "--yes", "--as-of", TODAY.isoformat())

    assert planned.exit_code == 6 and applied.exit_code == 6
    assert "same child under another id" in applied.output and "provisioner relink" in applied.output
    assert _snapshot(workspace) == before

    shown = cli("relink", str(path), input="n\n")  # shows every pairing, then asks
    assert shown.exit_code != 0 or "Stopped" in shown.output
    assert _snapshot(workspace) == before
    first = school[0]
    assert first["preferred_forename"] in shown.output and "legal name and date of birth" in shown.output

    done = cli("relink", str(path), "--yes", "--json")
    assert done.exit_code == 0, done.output
    assert len(json.loads(done.stdout)["relinked"]) == len(school)
    plan = Provisioner(workspace).plan(path, today=TODAY)
    counts = plan.platforms["purple-mash"].counts()
    assert (counts["create"], counts["leavers"], plan.refusal) == (0, 0, None)
    apply(workspace, path)
    assert _accounts(workspace) == before_accounts


def test_a_partial_roster_is_refused_by_apply_and_leavers_apply_with_the_state_unchanged(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    one = _file(tmp_path, "one.xlsx", school[:1])
    before = _snapshot(workspace)
    cli = Cli(workspace)

    applied = cli("apply", str(one), "--yes", "--as-of", TODAY.isoformat())
    cleaned = cli("leavers", "apply", str(one), "--yes", "--as-of", TODAY.isoformat())

    as_json = cli("apply", str(one), "--yes", "--json", "--as-of", TODAY.isoformat())

    for result in (applied, cleaned):
        assert result.exit_code == 6, result.output
        assert f"leaves out {len(school) - 1} of the {len(school)}" in result.output
        assert "--partial-roster" in result.output and "--allow-large-cleanup" in result.output
    assert as_json.exit_code == 6
    error = json.loads(as_json.stdout)["error"]
    assert error["exit_code"] == 6 and "--partial-roster" in error["hint"]
    assert _snapshot(workspace) == before


def test_a_roster_called_partial_counts_nobody_absent(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school[:-1]))
    newcomer = _file(tmp_path, "newcomer.xlsx", school[-1:])

    plan = Provisioner(workspace).plan(newcomer, today=TODAY, partial_roster=True)
    apply(workspace, newcomer, partial_roster=True)
    cleanup = Provisioner(workspace).apply_leavers(newcomer, confirm=lambda _: True, today=TODAY, partial_roster=True)

    counts = plan.platforms["purple-mash"].counts()
    assert (counts["create"], counts["leavers"]) == (1, 0)
    assert len(_accounts(workspace)) == len(school)
    assert not cleanup.plan.has_work and all(not p.waiting for p in cleanup.plan.platforms.values())


def test_a_small_share_of_absences_goes_ahead_and_starts_the_clock(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    most = _file(tmp_path, "most.xlsx", school[2:])  # two pupils left: under the 10% limit

    result = Provisioner(workspace).apply_leavers(most, confirm=lambda _: True, today=TODAY)

    waiting = result.plan.platforms["purple-mash"].waiting + result.plan.platforms["purple-mash"].steps
    assert {s.name for s in waiting} == {f"{p['preferred_forename']} {p['preferred_surname']}" for p in school[:2]}
    with pytest.raises(GuardRefused):  # the guard is about first absences, not the ones already counted
        Provisioner(workspace).apply_leavers(_file(tmp_path, "one.xlsx", school[:1]), confirm=lambda _: True,
                                             today=TODAY)  # fmt: skip


def test_pupils_already_counted_missing_are_not_counted_again_by_the_next_plan(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    most = _file(tmp_path, "most.xlsx", school[20:])  # a third missing: over the 10% limit
    assert Provisioner(workspace).plan(most, today=TODAY).refusal is not None
    Provisioner(workspace).apply_leavers(most, confirm=lambda _: True, today=TODAY, allow_large_cleanup=True)

    plan = Provisioner(workspace).plan(most, today=TODAY)

    leavers = plan.platforms["purple-mash"].of("leaver")
    assert len(leavers) == 20 and not any(c.first_missed for c in leavers)  # their clock started already
    assert plan.refusal is None


def test_plan_json_and_details_name_every_pupil_affected(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school[:-3]))
    moved = [{**p, "class_name": "4Z"} if i == 0 else p for i, p in enumerate(school)]
    path = _file(tmp_path, "next.xlsx", moved[1:])  # one moves class, three join, one leaves
    cli = Cli(workspace)

    data = json.loads(cli("plan", str(path), "--json", "--as-of", TODAY.isoformat()).stdout)
    details = cli("plan", str(path), "--details", "--as-of", TODAY.isoformat())

    changes = data["platforms"]["purple-mash"]["changes"]
    by_action = {}
    for change in changes:
        assert {"action", "pupil", "name", "class", "fields_changed"} <= set(change)
        by_action.setdefault(change["action"], []).append(change)
    joiners = {f"{p['preferred_forename']} {p['preferred_surname']}" for p in school[-3:]}
    assert {c["name"] for c in by_action["create"]} == joiners
    assert [c["name"] for c in by_action["leaver"]] == [f"{school[0]['preferred_forename']} "
                                                       f"{school[0]['preferred_surname']}"]  # fmt: skip
    assert by_action["leaver"][0]["reason"] == "absent"
    assert "update" not in by_action  # the pupil who moved class left this roster: no update for them
    for name in joiners:
        assert name in details.output


def test_apply_asks_with_the_first_names_and_says_how_to_see_the_rest(workspace, tmp_path, school):
    path = _file(tmp_path, "sims.xlsx", school)

    result = Cli(workspace)("apply", str(path), "--as-of", TODAY.isoformat(), input="n\n")

    shown = [p for p in school
             if f"{p['preferred_forename']} {p['preferred_surname']} ({p['class_name']})" in result.output]  # fmt: skip
    assert 1 <= len(shown) <= 5
    assert f"and {len(school) - 5} more" in result.output and "--details" in result.output


def test_leavers_plan_json_names_each_leaver_and_when(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    gone = school[0]
    data = json.loads(Cli(workspace)("leavers", "plan", str(_file(tmp_path, "rest.xlsx", school[1:])), "--json",
                                     "--as-of", TODAY.isoformat()).stdout)  # fmt: skip

    platform = data["platforms"]["purple-mash"]
    listed = platform["changes"] + platform["upcoming"]
    assert [(c["name"], c["class"], c["reason"]) for c in listed] == [
        (f"{gone['preferred_forename']} {gone['preferred_surname']}", gone["class_name"], "absent")]
    assert listed[0]["due"]


def test_a_password_reset_finds_the_pupil_by_id_in_any_padding_after_a_change_of_export(workspace, tmp_path, school):
    resets_by_import(workspace)
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    arbor = _file(tmp_path, "arbor.csv", [{**p, "mis_id": str(int(p["mis_id"]))} for p in school])

    connector, count = Provisioner(workspace).reset_passwords("education-city", arbor, classes=[],
                                                              pupils=[school[0]["mis_id"], school[1]["upn"].lower()])  # fmt: skip

    assert count == 2
    plan = Provisioner(workspace).plan(arbor, today=TODAY)
    reset = [c for c in plan.platforms["education-city"].of("update") if "password" in c.changed]
    assert {c.name for c in reset} == {f"{p['preferred_forename']} {p['preferred_surname']}" for p in school[:2]}


def test_roster_check_says_how_a_new_export_matches_the_pupils_held(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    rows = [{**p, "mis_id": str(int(p["mis_id"]))} for p in school[:50]]  # Arbor's ids: no zero-padding
    rows += [{**p, "mis_id": f"N{i}"} for i, p in enumerate(school[50:55])]  # new ids, the same UPNs
    path = _file(tmp_path, "arbor.csv", rows)

    data = json.loads(Cli(workspace)("roster", "check", str(path), "--json").stdout)
    shown = Cli(workspace)("roster", "check", str(path))

    assert data["matching"] == {"same_id": 0, "other_padding": 50, "by_upn": 5, "new": 0, "not_listed": 5}
    assert "50 by MIS id written another way" in shown.output and "5 by UPN" in shown.output


def test_ids_handed_out_again_by_a_new_mis_follow_the_upn_not_the_number(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    before = _accounts(workspace)
    swapped = [dict(p) for p in school]
    swapped[0]["mis_id"], swapped[1]["mis_id"] = school[1]["mis_id"], school[0]["mis_id"]

    plan = Provisioner(workspace).plan(_file(tmp_path, "swapped.xlsx", swapped), today=TODAY)

    changes = plan.platforms["purple-mash"]

    assert changes.counts()["create"] == 0 and changes.counts()["update"] == 0  # each child keeps their own account
    assert {r.name for r in plan.relinked} == {f"{p['preferred_forename']} {p['preferred_surname']}" for p in school[:2]}
    assert _accounts(workspace) == before


def test_leavers_apply_asks_with_the_names_of_those_it_acts_on(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    path = _file(tmp_path, "rest.xlsx", school[2:])
    Cli(workspace)("leavers", "apply", str(path), "--yes", "--as-of", TODAY.isoformat())  # first missed today
    later = TODAY + timedelta(days=40)  # past the grace period: the two are deleted now

    result = Cli(workspace)("leavers", "apply", str(path), "--as-of", later.isoformat(), input="n\n")

    for gone in school[:2]:
        assert f"{gone['preferred_forename']} {gone['preferred_surname']} ({gone['class_name']})" in result.output
    assert result.exit_code == 2  # no terminal to answer: it stops before changing anything


def test_a_temporary_upn_made_permanent_is_matched_by_the_former_upn_column(workspace, tmp_path, school):
    from provisioner.upn import check_letter

    def upn(body: str) -> str:  # 12 characters: LA, establishment, year, serial
        return check_letter("A" + body) + body

    temporary = [upn(f"823201726{i:02d}A") for i in range(len(school))]  # what the first export said
    first = [{**p, "mis_id": None, "upn": t} for p, t in zip(school, temporary)]
    path = tmp_path / "by-upn.csv"
    write_roster_csv(path, first, style="arbor")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    path.write_text("\n".join(",".join(line.split(",")[1:]) for line in lines) + "\n", encoding="utf-8")
    apply(workspace, path)
    before = _accounts(workspace)

    permanent = [upn(f"823201726{i:03d}") for i in range(len(school))]
    later = tmp_path / "later.csv"
    later.write_text("UPN,Former UPN,Legal Forename,Legal Surname,Year,Reg Group\n" + "".join(
        f"{new},{old},{p['legal_forename']},{p['legal_surname']},{p['year_group']},{p['class_name']}\n"
        for p, new, old in zip(school, permanent, temporary)), encoding="utf-8")  # fmt: skip

    plan = Provisioner(workspace).plan(later, today=TODAY)

    counts = plan.platforms["purple-mash"].counts()
    assert (counts["create"], counts["leavers"]) == (0, 0) and len(plan.relinked) == len(school)
    apply(workspace, later)
    assert _accounts(workspace) == before


def test_a_upn_two_rows_give_leaves_the_held_child_their_account_and_makes_the_other_row_new(workspace, tmp_path, school):
    from provisioner.upn import check_letter

    def upn(body: str) -> str:  # 12 characters: LA, establishment, year, serial
        return check_letter("A" + body) + body

    upns = [upn(f"823201726{i:03d}") for i in range(len(school))]
    header = "UPN,Former UPN,Legal Forename,Legal Surname,Year,Reg Group\n"

    def lines(rows) -> str:
        return "".join(f"{u},{former},{p['legal_forename']},{p['legal_surname']},{p['year_group']},{p['class_name']}\n"
                       for p, u, former in rows)  # fmt: skip

    first = tmp_path / "by-upn.csv"
    first.write_text(header + lines((p, u, "") for p, u in zip(school, upns)), encoding="utf-8")
    apply(workspace, first)
    before = _accounts(workspace)
    # A new pupil whose row gives the first child's UPN as a former UPN: two rows name one child.
    newcomer = {**school[1], "legal_forename": "Zara", "legal_surname": "Newcombe"}
    later = tmp_path / "later.csv"
    later.write_text(header + lines([*((p, u, "") for p, u in zip(school, upns)),
                                     (newcomer, upn("823201726999"), upns[0])]), encoding="utf-8")  # fmt: skip

    plan = Provisioner(workspace).plan(later, today=TODAY)

    changes = plan.platforms["purple-mash"]
    assert [c.name for c in changes.of("create")] == ["Zara Newcombe"]  # an account of her own
    assert changes.of("update") == [] and changes.of("leaver") == []  # the child keeps theirs, unchanged
    apply(workspace, later)
    after = _accounts(workspace)
    assert {k: v for k, v in after.items() if k in before} == before and len(after) == len(before) + 1


def test_a_returner_with_a_new_admission_number_keeps_their_account_when_the_old_one_goes_to_a_new_pupil(
    workspace, tmp_path, school
):
    from provisioner.upn import check_letter

    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    before = _accounts(workspace)
    again = [dict(p) for p in school]
    again[0]["mis_id"] = "009999"  # readmitted under a new admission number, the same UPN
    newcomer = {**school[1], "mis_id": school[0]["mis_id"], "upn": check_letter("A823201726999") + "823201726999",
                "legal_forename": "Zara", "preferred_forename": "Zara", "legal_surname": "Newcombe",
                "preferred_surname": "Newcombe"}  # the old number, given to a new pupil
    again.append(newcomer)

    plan = Provisioner(workspace).plan(_file(tmp_path, "again.xlsx", again), today=TODAY)

    changes = plan.platforms["purple-mash"]
    assert [c.name for c in changes.of("create")] == ["Zara Newcombe"]  # a new account of her own
    assert changes.of("update") == []  # nobody's account is renamed to another child
    returner = f"{school[0]['preferred_forename']} {school[0]['preferred_surname']}"
    assert [(r.name, r.by) for r in plan.relinked] == [(returner, "UPN")]
    apply(workspace, tmp_path / "again.xlsx")
    after = _accounts(workspace)
    assert {k: v for k, v in after.items() if k in before} == before and len(after) == len(before) + 1
    # The next export, the same: each keeps the account they now have, nothing new, nothing moved.
    again_plan = Provisioner(workspace).plan(tmp_path / "again.xlsx", today=TODAY).platforms["purple-mash"]
    assert again_plan.counts()["create"] == 0 and again_plan.of("update") == [] and again_plan.of("leaver") == []


def test_a_login_slip_after_ids_were_swapped_names_the_child_whose_account_it_is(workspace, tmp_path, school):
    from openpyxl import load_workbook

    resets_by_import(workspace)
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    Provisioner(workspace).confirm_uploaded("purple-mash")
    swapped = [dict(p) for p in school]
    swapped[0]["mis_id"], swapped[1]["mis_id"] = school[1]["mis_id"], school[0]["mis_id"]
    path = _file(tmp_path, "swapped.xlsx", swapped)
    apply(workspace, path)  # each child keeps their own account, re-linked by UPN
    first = school[0]
    Provisioner(workspace).reset_passwords("education-city", path, classes=[], pupils=[swapped[0]["mis_id"]])

    result = apply(workspace, path)

    [batch] = result.batches
    sheet = load_workbook(next(p for p in batch.slips if p.suffix == ".xlsx")).active
    header, *slips = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [slip[header.index("Name")] for slip in slips] == [f"{first['preferred_forename']} {first['preferred_surname']}"]


def test_a_relink_with_nothing_to_send_is_in_the_audit_log(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    Provisioner(workspace).confirm_uploaded("purple-mash")
    renumbered = [{**p, "mis_id": f"A{i:05d}"} for i, p in enumerate(school)]  # a new MIS, the same UPNs

    result = apply(workspace, _file(tmp_path, "new-mis.xlsx", renumbered))

    assert not result.plan.has_work and len(result.plan.relinked) == len(school)
    with workspace.open_state() as state:
        events = state.db.execute("SELECT count(*) FROM audit WHERE action = 'pupil.relinked'").fetchone()[0]
    assert events == len(school)


def test_the_same_children_under_other_ids_are_refused_in_a_partial_roster_too(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    # Three pupils re-exported by a new MIS with new ids and no UPN, as "the new starters".
    three = _file(tmp_path, "three.xlsx", [{**p, "mis_id": f"X{i}", "upn": None} for i, p in enumerate(school[:3])])

    plan = Provisioner(workspace).plan(three, today=TODAY, partial_roster=True, allow_large_cleanup=True)

    assert len(plan.pairable) == 3 and plan.refusal is not None  # the flag for leavers is not the one for this
    assert "--different-pupils" in plan.refusal.hint
    with pytest.raises(GuardRefused):
        apply(workspace, three, partial_roster=True, allow_large_cleanup=True)
    result = apply(workspace, three, partial_roster=True, different_pupils=True)  # the admin says: other children
    assert result.plan.platforms["purple-mash"].counts()["create"] == 3


def test_a_mis_id_match_with_another_legal_name_and_birth_date_is_shown_for_checking(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    swapped = [dict(p) for p in school]
    for row in swapped[:2]:
        row["upn"] = None  # no UPN to tell them apart
    swapped[0]["mis_id"], swapped[1]["mis_id"] = school[1]["mis_id"], school[0]["mis_id"]
    path = _file(tmp_path, "swapped.xlsx", swapped)

    shown = Cli(workspace)("plan", str(path), "--as-of", TODAY.isoformat())
    plan = Provisioner(workspace).plan(path, today=TODAY)

    assert {d.name for d in plan.doubtful} == {f"{p['preferred_forename']} {p['preferred_surname']}" for p in school[:2]}
    assert "check each is the same child" in shown.output


def test_an_export_without_the_upn_column_keeps_the_upn_recorded(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    apply(workspace, _file(tmp_path, "no-upn.xlsx", [{**p, "upn": None} for p in school]))
    by_upn = tmp_path / "by-upn.csv"
    write_roster_csv(by_upn, [{**p, "mis_id": None} for p in school], style="arbor")
    lines = by_upn.read_text(encoding="utf-8-sig").splitlines()  # no MIS id column at all
    by_upn.write_text("\n".join(",".join(line.split(",")[1:]) for line in lines) + "\n", encoding="utf-8")

    plan = Provisioner(workspace).plan(by_upn, today=TODAY)

    assert plan.platforms["purple-mash"].counts()["create"] == 0 and len(plan.relinked) == len(school)


def test_the_partial_roster_guard_says_which_year_groups_are_missing(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "july.xlsx", school))
    september = [p for p in school if p["year_group"] != "6"]  # Year 6 have gone up to secondary
    gone = len(school) - len(september)

    result = Cli(workspace)("apply", str(_file(tmp_path, "september.xlsx", september)), "--yes",
                            "--as-of", TODAY.isoformat())  # fmt: skip

    assert result.exit_code == 6
    assert f"leaves out {gone} of the {len(school)} pupils who hold accounts (Year 6: {gone})" in " ".join(
        result.output.split())


def test_leavers_plan_counts_pupils_absent_whose_clock_starts_now(workspace, tmp_path, school):
    apply(workspace, _file(tmp_path, "sims.xlsx", school))
    data = json.loads(Cli(workspace)("leavers", "plan", str(_file(tmp_path, "rest.xlsx", school[2:])), "--json",
                                     "--as-of", TODAY.isoformat()).stdout)  # fmt: skip

    assert data["absent_only"] == 2  # waiting for their deletion date, but leavers only by their absence


def test_accounts_made_before_identities_were_recorded_are_known_by_their_keys(workspace, tmp_path, school):
    # A state from before the pupils table was kept: some accounts, on two platforms, have no
    # identity. Each is known from its key alone, once, after the identities recorded and in the
    # order of the accounts table (platform, then key), as one search of every account gave them.
    set_platform(workspace, "ixl", enabled="true")
    approve_register(workspace)
    apply(workspace, _file(tmp_path, "roster.xlsx", school))
    with workspace.open_state() as state:
        dropped = sorted(state.identities())[::7]
        on_ixl = {key for (key,) in state.db.execute("SELECT pupil_key FROM accounts WHERE platform = 'ixl'")}
        purple_mash_only = min(on_ixl & set(dropped))  # its IXL account gone: only the later platform holds it
        with state.db:
            state.db.executemany("DELETE FROM pupils WHERE pupil_key = ?", [(key,) for key in dropped])
            state.db.execute("DELETE FROM accounts WHERE platform = 'ixl' AND pupil_key = ?", (purple_mash_only,))
        known = state.identities()
        one_search = [key for (key,) in state.db.execute(
            "SELECT DISTINCT pupil_key FROM accounts WHERE pupil_key NOT IN (SELECT pupil_key FROM pupils)")]
    assert list(known)[-len(dropped):] == one_search and sorted(one_search) == dropped
    still_on_ixl = on_ixl & set(dropped) - {purple_mash_only}
    assert still_on_ixl and all(one_search.index(key) < one_search.index(purple_mash_only) for key in still_on_ixl)
    for key in dropped:
        assert known[key].mis_id == key.removeprefix("mis:") and known[key].shown_id == key.removeprefix("mis:")
        assert not known[key].match_hash and not known[key].name
