"""Microsoft 365 licences (group or direct) and class groups, kept in step with the roster."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import TODAY, Cli, key_of
from graph_standin import A1_SKUS, GraphStandIn
from m365_helpers import apply, configure, licence_members, on_roll, pupils_in, writes
from provisioner.errors import RemoteError
from provisioner.synthetic import synthetic_pupils, write_roster_csv

A1 = "STANDARDWOFFPACK_STUDENT"


def by_class_group(graph: GraphStandIn) -> dict[str, set[str]]:
    """Class group name -> the employeeIds of its members."""
    employee = {u["id"]: u.get("employeeId") for u in graph.users.values()}
    return {g["displayName"]: {employee[m] for m in g["members"]} for g in graph.groups.values()
            if g["displayName"].startswith("Class ")}  # fmt: skip


def expected_classes(workspace, rows: list[dict]) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for row in on_roll(rows):
        pseudonym = workspace.pseudonymous_id("microsoft-365", key_of(row))
        wanted.setdefault(f"Class {row['class_name']} pupils", set()).add(pseudonym)
    return wanted


def roster_of(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "roster.csv"
    write_roster_csv(path, rows)
    return path


def test_a_licence_assigned_directly_is_found_by_its_part_number(m365, graph, tmp_path, pupils):
    configure(m365, graph, licence_group=None, licence_sku=f'"{A1}"')
    apply(m365, roster_of(tmp_path, pupils))
    made = pupils_in(graph)
    assert len(made) == len(on_roll(pupils))
    assert all([lic["skuId"] for lic in u["assignedLicenses"]] == [A1_SKUS[A1]] for u in made)
    assigns = [r for r in graph.request_log if r.path.endswith("/assignLicense")]
    assert len(assigns) == len(made), "one assignLicense per pupil, none twice"
    before = len(writes(graph))
    again = apply(m365, roster_of(tmp_path, pupils))
    assert not again.plan.has_work and len(writes(graph)) == before


def test_too_few_free_licences_stops_before_anything_is_sent(tmp_path, pupils, monkeypatch):
    from provisioner.jobs.create import init_workspace

    with GraphStandIn(write_limit=None, skus={A1: 10}) as graph:
        monkeypatch.setenv("PROVISIONER_M365_CLIENT_SECRET", graph.client_secret)
        workspace = init_workspace(tmp_path / "ws", "Few Seats Primary", "few.sch.uk", ["microsoft-365"])
        configure(workspace, graph, licence_group=None, licence_sku=f'"{A1}"')
        with pytest.raises(RemoteError, match=r"need a 'STANDARDWOFFPACK_STUDENT' licence and 10 are free"):
            apply(workspace, roster_of(tmp_path, pupils))
        assert pupils_in(graph) == [] and writes(graph) == [], "no pupil's name went to Microsoft"


def test_an_unknown_licence_names_the_ones_the_tenant_has(m365, graph, roster_file):
    configure(m365, graph, licence_group=None, licence_sku='"M365EDU_A5_STUDENT"')
    result = Cli(m365)("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat())
    assert result.exit_code == 2, result.output
    assert "no licence 'M365EDU_A5_STUDENT'" in result.output and A1 in result.output
    assert pupils_in(graph) == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"licence_sku": f'"{A1}"'}, "not both"),
        ({"class_groups": "true"}, "class_name"),
        ({"class_groups": "true", "optional_fields": '["class_name"]', "class_group_name": '"Pupils"'},
         "{class_name}"),
    ],
)  # fmt: skip
def test_settings_that_cannot_work_are_refused_before_anything_is_sent(m365, graph, roster_file, extra, message):
    configure(m365, graph, **extra)
    result = Cli(m365)("apply", str(roster_file), "--yes", "--as-of", TODAY.isoformat())
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert graph.request_log == []


def test_class_groups_follow_joiners_moves_and_leavers(m365, graph, tmp_path):
    configure(m365, graph, optional_fields='["class_name"]', class_groups="true")
    rows = synthetic_pupils(90, seed=31, today=TODAY)
    apply(m365, roster_of(tmp_path, rows))
    assert by_class_group(graph) == expected_classes(m365, rows)
    assert {u["id"] for u in pupils_in(graph)} == licence_members(graph)

    # Next term: one pupil moves class, one leaves, one joins.
    mover, leaver = rows[0], rows[1]
    other_classes = sorted({r["class_name"] for r in rows} - {mover["class_name"]})
    mover["class_name"] = other_classes[0]
    leaver["leaving_date"] = TODAY
    joiner = synthetic_pupils(91, seed=31, today=TODAY)[-1]
    joiner["mis_id"], joiner["upn"] = "990001", ""
    rows.append(joiner)
    before = len(graph.request_log)
    result = apply(m365, roster_of(tmp_path, rows))
    assert by_class_group(graph) == expected_classes(m365, rows)
    counts = result.plan.platforms["microsoft-365"].fix_counts()
    assert counts == {"leave": 1}, "the plan showed the leaver leaving (the move is part of the update)"
    leaver_id = m365.pseudonymous_id("microsoft-365", key_of(leaver))
    assert any(u["employeeId"] == leaver_id for u in pupils_in(graph)), "the account is the leaver cleanup's"
    moved = [u for u in pupils_in(graph) if u["employeeId"] == m365.pseudonymous_id("microsoft-365", key_of(mover))]
    assert moved[0]["department"] == mover["class_name"]
    assert any(r.method == "DELETE" and "/members/" in r.path for r in graph.request_log[before:])

    before = len(writes(graph))
    again = apply(m365, roster_of(tmp_path, rows))
    assert not again.plan.has_work and len(writes(graph)) == before, "in step: nothing to send"


def test_a_licence_removed_by_hand_is_put_back_without_touching_accounts(m365, graph, tmp_path, pupils):
    roster = roster_of(tmp_path, pupils)
    apply(m365, roster)
    [group] = [g for g in graph.groups.values() if g["displayName"] == "Pupils - A1 licence"]
    removed = group["members"][-1]
    graph.remove_member(group["id"], removed)
    before = len(graph.request_log)
    result = apply(m365, roster)
    assert result.plan.platforms["microsoft-365"].fix_counts() == {"license": 1}
    assert removed in licence_members(graph)
    sent = [r for r in graph.request_log[before:] if r.method != "GET" and "/oauth2/" not in r.path]
    assert all("/users" not in r.path for r in sent if r.path != "/v1.0/$batch")
    assert result.batches == [], "no account was changed"


def test_groups_the_tool_did_not_make_are_never_touched(m365, graph, tmp_path):
    configure(m365, graph, optional_fields='["class_name"]', class_groups="true")
    rows = synthetic_pupils(40, seed=37, today=TODAY)
    apply(m365, roster_of(tmp_path, rows))
    some = sorted(u["id"] for u in pupils_in(graph))[:5]
    trip = graph.add_group("Class trip pupils", members=some)  # matches the name pattern, made by hand
    before = len(writes(graph))
    again = apply(m365, roster_of(tmp_path, rows))
    assert not again.plan.has_work and len(writes(graph)) == before
    assert sorted(graph.groups[trip["id"]]["members"]) == some


def test_turning_class_groups_off_empties_the_groups_it_made(m365, graph, tmp_path):
    configure(m365, graph, optional_fields='["class_name"]', class_groups="true")
    rows = synthetic_pupils(30, seed=43, today=TODAY)
    apply(m365, roster_of(tmp_path, rows))
    assert any(by_class_group(graph).values())
    configure(m365, graph)
    apply(m365, roster_of(tmp_path, rows))
    assert not any(by_class_group(graph).values()), "Microsoft no longer holds the pupils' classes"


def test_turning_class_groups_on_for_accounts_already_made_puts_each_pupil_in_their_class(m365, graph, tmp_path):
    rows = synthetic_pupils(30, seed=44, today=TODAY)
    apply(m365, roster_of(tmp_path, rows))
    assert not any(by_class_group(graph).values())
    configure(m365, graph, optional_fields='["class_name"]', class_groups="true")
    apply(m365, roster_of(tmp_path, rows))
    assert by_class_group(graph) == expected_classes(m365, rows)


def test_a_member_already_there_does_not_stop_the_others_joining(m365, graph, tmp_path, pupils):
    apply(m365, roster_of(tmp_path, pupils))
    [group] = [g for g in graph.groups.values() if g["displayName"] == "Pupils - A1 licence"]
    taken_out = group["members"][:3]
    for user_id in taken_out:
        graph.remove_member(group["id"], user_id)
    [connector] = m365.connectors()
    directory = connector.connect(m365.settings.school.domain)
    held = {u: {} for u in taken_out}
    fixes = connector.drift(directory, held)
    assert len(fixes) == 3
    graph.add_member(group["id"], taken_out[1])  # put back by hand after the tool read the group
    connector.reconcile(directory, fixes)  # its 3-member write fails as a whole; each is then added alone
    assert set(taken_out) <= licence_members(graph)


def test_pupils_made_are_licensed_even_when_another_pupil_failed(m365, graph, tmp_path, pupils):
    from provisioner.errors import PartialFailure

    graph.fail_in_batch([0], status=400)
    with pytest.raises(PartialFailure):
        apply(m365, roster_of(tmp_path, pupils))
    made = pupils_in(graph)
    assert len(made) == len(on_roll(pupils)) - 1
    assert {u["id"] for u in made} == licence_members(graph)
