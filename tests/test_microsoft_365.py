"""Microsoft 365 through the real msal and requests against the loopback Graph stand-in."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TODAY, Cli, key_of
from m365_helpers import DOMAIN, apply, bodies, configure, licence_members, on_roll, pupils_in, slips_of, writes
from provisioner.delivery import CRASH_ENV
from provisioner.synthetic import synthetic_pupils, write_roster_csv
from provisioner.workspace import Workspace

def test_a_400_pupil_apply_makes_each_on_roll_pupil_once_licensed_then_nothing(m365, graph, tmp_path):
    rows = synthetic_pupils(400, seed=5, today=TODAY, leavers=4)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    result = apply(m365, roster)
    made = pupils_in(graph)
    assert len(made) == len(on_roll(rows))
    assert len({u["employeeId"] for u in made}) == len(made)
    assert {u["id"] for u in made} == licence_members(graph)
    assert all(u["userPrincipalName"].endswith("@" + DOMAIN) and u["usageLocation"] == "GB" for u in made)
    assert all(len(u["employeeId"]) == 16 and "department" not in u for u in made)
    [batch] = result.batches
    assert batch.rows == len(made) and batch.path is None
    slips = slips_of(m365)
    assert len(slips) == len(made)
    for user in made[::25]:
        alias = user["userPrincipalName"].partition("@")[0]
        assert slips[alias] == user["passwordProfile"]["password"], "the slip shows the password that was set"
        assert re.fullmatch(r"[A-Z][a-z]+-[A-Z][a-z]+-[2-9]{2}", slips[alias])
    before = len(writes(graph))
    again = apply(m365, roster)
    assert again.batches == [] and not again.plan.has_work
    assert len(writes(graph)) == before, "a second apply sends no writes"


def test_no_request_carries_a_upn_a_date_of_birth_or_an_undeclared_field(m365, graph, tmp_path):
    rows = synthetic_pupils(80, seed=9, today=TODAY)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    apply(m365, roster)
    sent = bodies(graph)
    assert sent
    text = "\n".join(sent)
    for row in rows:
        assert row["upn"] not in text and row["mis_id"] not in text
        for form in ("%Y-%m-%d", "%d/%m/%Y"):
            assert row["date_of_birth"].strftime(form) not in text
    users = pupils_in(graph)
    by_pseudonym = {u["employeeId"]: u for u in users}
    for row in rows:
        user = by_pseudonym[m365.pseudonymous_id("microsoft-365", key_of(row))]
        assert user["givenName"] == row["preferred_forename"], "the preferred name, never the legal one"
    allowed = {"accountEnabled", "mailNickname", "userPrincipalName", "employeeId", "usageLocation", "displayName",
               "givenName", "surname", "passwordProfile"}  # fmt: skip
    for body in (r.body for r in graph.request_log if r.method == "POST" and r.path == "/v1.0/users"):
        assert set(body) <= allowed
    assert all("department" not in u for u in users), "the class is off until the school turns it on"


def test_the_class_goes_to_department_only_when_turned_on(m365, graph, tmp_path, pupils, roster_file):
    configure(m365, graph, optional_fields='["class_name"]')
    apply(m365, roster_file)
    classes = {u.get("department") for u in pupils_in(graph)}
    assert classes == {p["class_name"] for p in on_roll(pupils)}


def test_a_rename_patches_only_the_names(m365, graph, tmp_path, pupils):
    roster = tmp_path / "a.csv"
    write_roster_csv(roster, pupils)
    apply(m365, roster)
    mover = on_roll(pupils)[0]
    mover["preferred_forename"] = "Renamed"
    write_roster_csv(roster, pupils)
    before = len(graph.request_log)
    apply(m365, roster)
    [patch] = [r for r in graph.request_log[before:] if r.method == "PATCH"]
    assert set(patch.body) == {"displayName", "givenName", "surname"}
    assert patch.body["givenName"] == "Renamed"


def test_throttled_503_dropped_and_partial_batches_still_give_one_account_each(m365, graph, tmp_path):
    rows = synthetic_pupils(60, seed=21, today=TODAY)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    graph.write_limit, graph.write_window = 20, 1.0
    configure(m365, graph, writes_per_second="40")  # faster than allowed: 429s will come
    graph.fail_next(status=503, count=2, retry_after=1)
    graph.drop_next(count=1)
    graph.drop_after_apply_next(count=2)
    graph.fail_in_batch([2, 5], status=503, retry_after=1)
    apply(m365, roster)
    made = pupils_in(graph)
    assert len(made) == len(rows) and len({u["employeeId"] for u in made}) == len(rows)
    assert graph.throttled > 0, "the test did provoke throttling"
    assert graph.violations == 0, "no request was sent while told to wait"
    assert {u["id"] for u in made} == licence_members(graph)


def test_a_sign_in_name_someone_else_holds_takes_the_next_counter(m365, graph, tmp_path, pupils, roster_file):
    from provisioner.usernames import ascii_fold

    first = on_roll(pupils)[0]
    taken = ascii_fold(first["preferred_forename"] + first["preferred_surname"])
    other = graph.add_user(userPrincipalName=f"{taken}@{DOMAIN}", displayName="Staff Member",
                           mailNickname=taken, accountEnabled=True)  # fmt: skip
    apply(m365, roster_file)
    assert graph.user(other["id"])["displayName"] == "Staff Member", "never overwritten"
    names = {u["userPrincipalName"] for u in pupils_in(graph)}
    assert f"{taken}2@{DOMAIN}" in names and f"{taken}@{DOMAIN}" not in names


def test_an_account_already_carrying_the_pupils_id_is_adopted_not_duplicated(m365, graph, pupils, roster_file):
    first = on_roll(pupils)[0]
    key = key_of(first)
    pseudonym = m365.pseudonymous_id("microsoft-365", key)
    existing = graph.add_user(userPrincipalName=f"old.account@{DOMAIN}", displayName="Old", mailNickname="old.account",
                              accountEnabled=True, employeeId=pseudonym)  # fmt: skip
    apply(m365, roster_file)
    carrying = [u for u in pupils_in(graph) if u["employeeId"] == pseudonym]
    assert [u["id"] for u in carrying] == [existing["id"]]
    assert carrying[0]["givenName"] == first["preferred_forename"]
    assert slips_of(m365)["old.account"] == carrying[0]["passwordProfile"]["password"], "a new password, on a slip"


def test_a_certificate_signs_in_instead_of_a_secret(m365, graph, tmp_path, roster_file, monkeypatch):
    monkeypatch.delenv("PROVISIONER_M365_CLIENT_SECRET")
    credential = graph.issue_client_certificate()
    pem = tmp_path / "app.pem"
    pem.write_text(credential["private_key"] + credential["public_certificate"], encoding="ascii")
    configure(m365, graph, certificate=json.dumps(str(pem)))
    apply(m365, roster_file)
    assert pupils_in(graph)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"secret": "wrong"}, "client secret"),
        ({"tenant_id": '"00000000-dead-beef-0000-000000000000"'}, "tenant"),
        ({"client_id": '"11111111-2222-3333-4444-555555555555"'}, "client_id"),
        ({"permission": True}, "User.ReadWrite.All"),
    ],
)
def test_each_auth_failure_says_what_to_fix(m365, graph, roster_file, monkeypatch, change, message):
    if "secret" in change:
        monkeypatch.setenv("PROVISIONER_M365_CLIENT_SECRET", change["secret"])
    elif "permission" in change:
        graph.permission_denied = True
    else:
        configure(m365, graph, **change)
    result = Cli(m365)("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat())
    assert result.exit_code == 2, result.output
    assert message in result.output and "Next:" in result.output
    assert graph.client_secret not in result.output
    assert pupils_in(graph) == []


def command(workspace: Workspace, roster: Path) -> list[str]:
    return [sys.executable, "-m", "provisioner", "apply", str(roster), "--yes", "--as-of", TODAY.isoformat(),
            "--workspace", str(workspace.root)]  # fmt: skip


@pytest.mark.parametrize("step", ["prepared", "pushing"])
def test_killed_mid_apply_then_applied_again_leaves_one_account_each(m365, graph, tmp_path, step):
    rows = synthetic_pupils(200, seed=13, today=TODAY)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    killed = subprocess.run(command(m365, roster), env={**os.environ, CRASH_ENV: step}, capture_output=True, text=True)
    assert killed.returncode != 0
    if step == "pushing":
        assert 0 < len(pupils_in(graph)) < len(rows), "killed with some accounts made and none recorded"
    finished = subprocess.run(command(m365, roster), capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    made = pupils_in(graph)
    assert len(made) == len(rows) and len({u["employeeId"] for u in made}) == len(rows)
    assert {u["id"] for u in made} == licence_members(graph)
    slips = slips_of(m365)
    for user in made:
        alias = user["userPrincipalName"].partition("@")[0]
        assert slips.get(alias) == user["passwordProfile"]["password"], "every pupil's slip is right"
    again = subprocess.run(command(m365, roster), capture_output=True, text=True)
    assert "Nothing to do" in again.stdout


def test_the_garbage_collector_runs_while_graph_is_written_to(m365, graph, tmp_path, pupils, monkeypatch):
    """A trust's push to Graph runs for minutes and leaves reference cycles of its own (HTTP, TLS):
    the collector, paused while an import file's rows are written, must run here, or they pile
    up until the apply ends."""
    import gc

    from provisioner.delivery.api import ApiDelivery

    seen, deliver = [], ApiDelivery.deliver

    def watched(self, *args, **kwargs):
        seen.append(gc.isenabled())
        return deliver(self, *args, **kwargs)

    monkeypatch.setattr(ApiDelivery, "deliver", watched)
    roster = tmp_path / "a.csv"
    write_roster_csv(roster, pupils)
    apply(m365, roster)
    assert seen == [True]
    assert len(pupils_in(graph)) == len(on_roll(pupils))
