"""The leaver cleanup's Microsoft 365 hooks: disable, enable, delete, restore, each read back by
asking for just the accounts concerned, and nothing sent while Graph says to wait."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl

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


def reads(graph) -> list[tuple[str, dict]]:
    """Each GET the tenant was sent (batch sub-requests included): its path and query."""
    return [(r.path, dict(parse_qsl(r.query))) for r in graph.request_log if r.method == "GET"]


def filtered_ids(query: dict) -> set[str]:
    return set(re.findall(r"'([^']+)'", re.fullmatch(r"id in \((.*)\)", query["$filter"]).group(1)))


@pytest.fixture
def crowded(made, graph):
    """The twelve pupils among 300 staff of a trust and 40 earlier pupils deleted: a tenant that
    is mostly other people's accounts."""
    connector, directory, ids = made
    for n in range(300):
        graph.add_user(userPrincipalName=f"staff{n}@trust.example.org", givenName="Staff", surname=f"Member{n}")
    others = [graph.add_user(userPrincipalName=f"old{n}@{DOMAIN}", employeeId=f"old-pupil-{n:04d}")["id"]
              for n in range(40)]  # fmt: skip
    connector.delete(directory, others)
    graph.reset_counters()
    return made


def test_read_back_asks_only_for_the_accounts_changed_never_the_whole_tenant(crowded, graph):
    connector, directory, ids = crowded
    assert connector.disable(directory, ids[:3]) == dict.fromkeys(ids[:3], True)
    [(path, query)] = reads(graph)
    assert path == "/v1.0/users" and filtered_ids(query) == set(ids[:3]), "one filtered read of the three"

    graph.reset_counters()
    assert connector.delete(directory, ids[3:5]) == dict.fromkeys(ids[3:5], True)
    [(path, query)] = reads(graph)
    assert path == "/v1.0/directory/deletedItems/microsoft.graph.user" and filtered_ids(query) == set(ids[3:5])

    graph.reset_counters()
    assert connector.erase(directory, ids[5:7]) == dict.fromkeys(ids[5:7], True)
    assert connector.restore(directory, ids[3:4]) == {ids[3]: True}
    assert all(filtered_ids(query) <= set(ids[3:7]) for _, query in reads(graph)), "nobody else is read"


def test_read_back_of_many_accounts_asks_15_at_a_time(crowded, graph):
    connector, directory, ids = crowded
    more = [graph.add_user(userPrincipalName=f"extra{n}@{DOMAIN}", employeeId=f"extra-pupil-{n:03d}")["id"]
            for n in range(28)]  # fmt: skip
    graph.reset_counters()
    wanted = ids + more  # 40 accounts
    assert connector.disable(directory, wanted) == dict.fromkeys(wanted, True)
    asked = [filtered_ids(query) for path, query in reads(graph)]
    assert sorted(len(a) for a in asked) == [10, 15, 15], "Graph's limit on one 'in' is 15 values"
    assert set().union(*asked) == set(wanted)


def test_no_request_is_sent_while_graph_says_to_wait(made, graph):
    connector, directory, ids = made
    graph.fail_next(status=429, count=1, retry_after=1)  # the first read is told to wait a second

    def read(chunk):
        return list(directory.client.pages("/users", {"$filter": f"id eq '{chunk}'", "$select": "id"}))

    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(read, ids))
    assert [user["id"] for [user] in found] == ids, "every read was answered in the end"
    assert any(r.status == 429 for r in graph.request_log), "the test did tell the client to wait"
    assert graph.violations == 0, "no read was sent while told to wait"

    graph.reset_counters()
    graph.fail_next(status=429, count=1, retry_after=1)  # now the first write of a cleanup
    assert connector.disable(directory, ids[:5]) == dict.fromkeys(ids[:5], True)
    assert graph.violations == 0, "neither the writes nor their read-back were sent while told to wait"
