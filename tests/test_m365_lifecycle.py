"""The leaver cleanup's Microsoft 365 hooks: disable, enable, delete, restore, each read back."""

from __future__ import annotations

import pytest

from m365_helpers import DOMAIN, apply, pupils_in
from provisioner.synthetic import synthetic_pupils, write_roster_csv


@pytest.fixture
def made(m365, graph, tmp_path):
    """Twelve pupils made through apply; returns (connector, directory, their user ids)."""
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, synthetic_pupils(12, seed=3))
    apply(m365, roster)
    [connector] = m365.connectors()
    directory = connector.connect(m365.settings.school.domain)
    return connector, directory, sorted(u["id"] for u in pupils_in(graph))


def test_disable_then_enable_is_read_back_from_the_tenant(made, graph):
    connector, directory, ids = made
    assert connector.disable(directory, ids[:5]) == dict.fromkeys(ids[:5], True)
    assert [graph.user(u)["accountEnabled"] for u in ids] == [False] * 5 + [True] * 7
    assert connector.enable(directory, ids[:2]) == dict.fromkeys(ids[:2], True)
    assert [graph.user(u)["accountEnabled"] for u in ids[:5]] == [True, True, False, False, False]


def test_delete_is_soft_and_restore_brings_back_the_same_account(made, graph):
    connector, directory, ids = made
    before = graph.user(ids[0])
    assert connector.delete(directory, ids[:3]) == dict.fromkeys(ids[:3], True)
    assert set(ids[:3]) <= set(graph.deleted_users) and not set(ids[:3]) & set(graph.users)
    assert connector.delete(directory, ids[:3]) == dict.fromkeys(ids[:3], True), "deleting again is no harm"
    assert connector.restore(directory, ids[:1]) == {ids[0]: True}
    after = graph.user(ids[0])
    assert (after["userPrincipalName"], after["employeeId"]) == (before["userPrincipalName"], before["employeeId"])
    assert after["userPrincipalName"].endswith("@" + DOMAIN), "a returner keeps their sign-in name"


def test_a_call_that_failed_is_reported_by_the_read_back_not_trusted(made, graph):
    connector, directory, ids = made
    graph.fail_in_batch([1], status=400)
    result = connector.disable(directory, ids[:3])
    assert result == {ids[0]: True, ids[1]: False, ids[2]: True}
    assert graph.user(ids[1])["accountEnabled"] is True


def test_an_answer_lost_after_the_change_is_still_confirmed(made, graph):
    connector, directory, ids = made
    graph.drop_after_apply_next(count=1)
    assert connector.delete(directory, ids[:2]) == dict.fromkeys(ids[:2], True)


def test_an_account_purged_for_good_cannot_be_restored_and_says_so(made, graph):
    connector, directory, ids = made
    connector.delete(directory, ids[:1])
    directory.client.request("DELETE", f"/directory/deletedItems/{ids[0]}")
    assert connector.restore(directory, ids[:1]) == {ids[0]: False}


def test_erase_deletes_for_good_so_nothing_can_restore_it(made, graph):
    connector, directory, ids = made
    assert connector.erase(directory, ids[:2]) == dict.fromkeys(ids[:2], True)
    assert not set(ids[:2]) & (set(graph.users) | set(graph.deleted_users))
    assert connector.restore(directory, ids[:1]) == {ids[0]: False}
    assert connector.erase(directory, ids[:2]) == dict.fromkeys(ids[:2], True), "erasing again is no harm"
