"""Microsoft 365 throughput: new pupils per second against a stand-in that enforces Graph's
documented per-app write quota, through the real msal, requests and connector code, and the
reads an apply and a leaver cleanup send.

    .venv/bin/python bench/m365_throughput.py [--pupils 2000] [--latency-ms 50] [--writes-per-second 20]
        [--tenant-users 5000] [--leavers 200] [--direct-licence]

The stand-in (tests/graph_standin.py) allows ``--writes-per-second`` writes per second per app
and adds ``--latency-ms`` to every request; the defaults are the target's (20 writes a second,
50 ms). The tenant already holds ``--tenant-users`` other users (staff of a trust, at another
domain). Each new pupil costs one create, and the licence group takes 20 members per write, so
the ceiling is limit * 20 / 21 pupils a second (about 19 at 20 writes/s; the issue's 1.1 writes
a pupil gives 18). Reported: pupils a second over the whole apply (sign-in and directory read
included), the ratio to that ceiling, 429s received, requests sent while told to wait (must be
0), and the GET requests (batch sub-requests counted one each) of the apply and of disabling
then deleting ``--leavers`` of the new pupils, each read back from the tenant. ``--direct-licence``
assigns the licence to each pupil with assignLicense instead: two writes a pupil, a ceiling of
limit / 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from graph_standin import GraphStandIn  # noqa: E402

from provisioner.facade import Provisioner  # noqa: E402
from provisioner.jobs import provisioning  # noqa: E402
from provisioner.synthetic import synthetic_pupils, write_roster_csv  # noqa: E402
from provisioner.jobs.create import init_workspace  # noqa: E402

TODAY = date(2026, 11, 22)
GROUP = "Pupils licence"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--writes-per-second", type=int, default=20)
    parser.add_argument("--tenant-users", type=int, default=5000)
    parser.add_argument("--leavers", type=int, default=200)
    parser.add_argument("--direct-licence", action="store_true")
    args = parser.parse_args()
    limit = args.writes_per_second
    with tempfile.TemporaryDirectory() as folder, GraphStandIn(write_limit=limit, latency=args.latency_ms / 1000) as g:
        g.add_group(GROUP)
        for n in range(args.tenant_users):
            g.add_user(userPrincipalName=f"staff{n:05d}@trust.example.org", givenName="Staff", surname=f"S{n:05d}")
        os.environ["PROVISIONER_M365_CLIENT_SECRET"] = g.client_secret
        workspace = init_workspace(Path(folder) / "ws", "Bench Primary", "bench.sch.uk", ["microsoft-365"])
        settings = {
            "tenant_id": json.dumps(g.tenant_id), "client_id": json.dumps(g.client_id),
            "authority_host": json.dumps(g.authority_host), "graph_url": json.dumps(g.graph_url),
            "ca_bundle": json.dumps(str(g.ca_path)), "writes_per_second": str(limit),
        }  # fmt: skip
        if args.direct_licence:
            settings["licence_sku"] = json.dumps("STANDARDWOFFPACK_STUDENT")
        else:
            settings["licence_group"] = json.dumps(GROUP)
        text = workspace.settings_path.read_text(encoding="utf-8")
        block = "".join(f"{k} = {v}\n" for k, v in settings.items())
        text = text.replace("[platforms.microsoft-365]\n", "[platforms.microsoft-365]\n" + block, 1)
        workspace.settings_path.write_text(text)
        workspace.__dict__.pop("settings", None)  # read again, with the tenant
        roster = Path(folder) / "roster.csv"
        write_roster_csv(roster, synthetic_pupils(args.pupils, seed=1, today=TODAY))
        loaded = Provisioner(workspace).read_roster(roster, today=TODAY)
        g.reset_counters()
        started = time.perf_counter()
        with workspace.lock(), workspace.open_state() as state:
            provisioning.apply(workspace, state, loaded, workspace.connectors(), TODAY, confirm=lambda plan: True)
        elapsed = time.perf_counter() - started
        made = sorted(u["id"] for u in g.users.values() if u.get("employeeId"))
        ceiling = limit / 2 if args.direct_licence else limit * 20 / 21
        print(f"tenant: {args.tenant_users} other users; pupils: {args.pupils}, accounts made: {len(made)}, "
              f"writes: {g.write_count}")  # fmt: skip
        print(f"apply: {elapsed:.1f} s, {len(made) / elapsed:.2f} pupils/s; ceiling {ceiling:.2f}/s; "
              f"ratio {len(made) / elapsed / ceiling:.3f}")  # fmt: skip
        print(f"429s received: {g.throttled}; requests sent while told to wait: {g.violations}; "
              f"peak requests in flight: {g.max_concurrency}")  # fmt: skip
        print(f"apply reads: {reads(g)}")
        [connector] = workspace.connectors()
        directory = connector.connect(workspace.settings.school.domain)
        leavers = made[: args.leavers]
        for step in (connector.disable, connector.delete):
            g.reset_counters()
            confirmed = step(directory, leavers)
            print(f"{step.__name__} {len(leavers)} leavers ({sum(confirmed.values())} confirmed): "
                  f"reads {reads(g)}; sent while told to wait: {g.violations}")  # fmt: skip


def reads(g: GraphStandIn) -> str:
    """The GET requests logged since the counters were reset, by kind: a listing (a page of the
    tenant or a group), a filtered query, or one account by id (a batch sub-request each)."""
    kinds: Counter = Counter()
    for entry in g.request_log:
        if entry.method != "GET" or not entry.path.startswith("/v1.0/"):
            continue
        if "filter=" in entry.query:
            kinds["filtered"] += 1
        elif entry.path.count("/") > 2 and not entry.path.endswith(("/members", "/microsoft.graph.user")):
            kinds["by id"] += 1
        else:
            kinds["listing pages"] += 1
    return f"{sum(kinds.values())} GETs (" + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + ")"


if __name__ == "__main__":
    main()
