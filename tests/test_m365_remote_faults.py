"""Microsoft Graph failing in the ways a school's connection and Microsoft's service do: a storm
of 429s, 503s, a connection cut mid-response, an answer slower than the client waits, a token
running out mid-run. After each the command says what happened (it finishes, or exits 4 with
what to do next, never 1 or a traceback), and the same command run again finishes the job with
nobody twice in the tenant and no account there the state does not know.

The faults are the stand-in's (tests/graph_standin.py), on a real HTTPS socket; the tenant is
read from the stand-in, never from the tool.
"""

from __future__ import annotations

import json

import pytest

from conftest import TODAY, Cli
from m365_helpers import configure
from provisioner.errors import ExitCode
from provisioner.synthetic import synthetic_pupils, write_roster_csv
from test_m365_faults import assert_the_tenant_is_whole, slips_named

FINISHED_OR_STOPPED = (ExitCode.OK, ExitCode.REMOTE_FAILED)


def storm_of(status: int):
    def arm(graph):
        graph.storm(share=0.9, status=status, retry_after=0)

    return arm


def cut_mid_response(graph):
    graph.cut_next(count=3)


def slower_than_the_timeout(graph):
    graph.slow_next(2.5, count=3)


def token_expiring_mid_run(graph):
    graph.expire_tokens_after(4)


def answered(status: int):
    return lambda graph: any(r.status == status for r in graph.request_log)


def all_spent(graph) -> bool:
    with graph._lock:
        return not graph._faults["graph"]


def expired(graph) -> bool:
    with graph._lock:
        return graph._expire_in is None and any(r.status == 401 for r in graph._log)


FAULTS = {
    # fault: (arm the stand-in, whether the run met it, the exit codes the first run may give)
    "429-storm": (storm_of(429), answered(429), (ExitCode.REMOTE_FAILED,)),
    "503-storm": (storm_of(503), answered(503), (ExitCode.REMOTE_FAILED,)),
    "cut-mid-response": (cut_mid_response, all_spent, FINISHED_OR_STOPPED),
    "slower-than-timeout": (slower_than_the_timeout, all_spent, FINISHED_OR_STOPPED),
    "token-expires": (token_expiring_mid_run, expired, FINISHED_OR_STOPPED),
}


def calm(graph) -> None:
    graph.storm(0)
    with graph._lock:
        graph._faults["graph"].clear()
        graph._expire_in = None


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_remote_fault_is_reported_and_the_next_apply_finishes_the_job(m365, graph, tmp_path, fault):
    arm, met, allowed = FAULTS[fault]
    rows = synthetic_pupils(45, seed=300, today=TODAY)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    configure(m365, graph, timeout="1")
    args = ("apply", str(roster), "--yes", "--as-of", TODAY.isoformat(), "--json")
    arm(graph)
    first = Cli(m365)(*args)
    assert first.exit_code in allowed, first.output
    assert "Traceback" not in first.output and "Unexpected" not in first.output
    answer = json.loads(first.stdout)
    if first.exit_code:
        error = answer["error"]
        assert error["code"] == "remote_failed" and "Microsoft Graph" in error["message"] and error["next"]
    assert met(graph), f"the run met the {fault}"
    named = slips_named(answer)
    calm(graph)
    again = Cli(m365)(*args)
    assert again.exit_code == 0, again.output
    named |= slips_named(json.loads(again.stdout))
    assert_the_tenant_is_whole(m365, graph, rows, named, TODAY)


def test_the_slips_of_a_batch_finished_by_a_later_run_are_kept_and_deleted_as_one(m365, graph, tmp_path):
    """A storm stops an apply part way, the next run of the same batch writes its slips beside
    the first ones (-2): the slips kept for the batch list both runs', and deleting the batch's
    slips once handed out deletes both, leaving no password behind in the outbox."""
    from provisioner.facade import Provisioner

    rows = synthetic_pupils(45, seed=301, today=TODAY)
    roster = tmp_path / "roster.csv"
    write_roster_csv(roster, rows)
    args = ("apply", str(roster), "--yes", "--as-of", TODAY.isoformat(), "--json")
    configure(m365, graph, workers="1")  # one $batch at a time: the first is the first pupils'
    graph.fail_in_batch([])  # the first $batch of creates goes through; every later one fails throughout
    for _ in range(40):
        graph.fail_in_batch(range(20), status=503, retry_after=0)
    first = Cli(m365)(*args)
    with graph._lock:
        graph._batch_faults.clear()
    again = Cli(m365)(*args)
    assert first.exit_code == ExitCode.REMOTE_FAILED and again.exit_code == 0, first.output + again.output
    folder = m365.outbox / "microsoft-365"
    written = sorted(p.name for p in folder.iterdir())
    batch = json.loads(again.stdout)["batches"][0]["batch"]
    assert written == [f"microsoft-365-login-slips-{batch}{part}{suffix}" for part in ("-2", "") for suffix in
                       (".pdf", ".xlsx")], "the first run's slips, and the second's beside them"  # fmt: skip
    kept = Provisioner(m365).login_slips()
    assert [(k.batch, sorted(k.files)) for k in kept] == [(batch, [f"outbox/microsoft-365/{n}" for n in written])]
    Provisioner(m365).remove_login_slips(batch)
    assert list(folder.iterdir()) == []
