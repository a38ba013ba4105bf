"""The delivery strategies' own promises, shown on a connector made here (not registered): an API
platform is asked only for the leaver hooks it offers; what it cannot do goes on a deletion list
for the admin instead of failing the cleanup."""

from __future__ import annotations

from datetime import date, timedelta

from conftest import TODAY, key_of, yes
from provisioner.connector import ApiConnector, ApiSession, Outcome
from provisioner.delivery import ApiDelivery
from provisioner.facade import Provisioner
from provisioner.jobs import cleanup, provisioning
from provisioner.jobs.create import init_workspace
from provisioner.planning.cleanup import policy
from provisioner.state import AccountStatus, Approval, now
from provisioner.synthetic import synthetic_pupils, write_roster_csv


class NoLeaverHooks(ApiConnector):
    """A platform whose API makes accounts but offers no way to disable or delete them."""

    id = "no-leaver-hooks"
    name = "No Leaver Hooks"
    Delivery = ApiDelivery
    fields = ("forename", "surname", "pseudonymous_id", "username", "password")
    sign_in_url = "https://no-hooks.example/"
    lifecycle = frozenset()

    def connect(self, school_domain):
        return ApiSession()

    def push(self, session, work, next_username, progress=None):
        for item in work:
            yield Outcome(item.send_id, True, item.values["username"], f"remote-{item.send_id}")


def test_an_api_platform_without_a_delete_hook_gets_a_deletion_list(tmp_path):
    workspace = init_workspace(tmp_path / "ws", "Hooks Primary", "hooks.sch.uk", [])
    connector = NoLeaverHooks()
    assert policy(connector)[0] is None, "never asked to disable: it cannot"
    with workspace.open_state() as state:
        state.record_approval(Approval(connector.id, now(), "Test Admin", "platform admin", [],
                                       list(connector.sent_fields), (TODAY + timedelta(days=365)).isoformat()))  # fmt: skip
    rows = synthetic_pupils(20, seed=4, today=TODAY, leavers=0)
    autumn, spring = tmp_path / "autumn.csv", tmp_path / "spring.csv"
    write_roster_csv(autumn, rows)
    write_roster_csv(spring, rows[2:])
    later = date(2027, 3, 1)
    with workspace.lock(), workspace.open_state() as state:
        roster = Provisioner(workspace).read_roster(autumn, today=TODAY)
        assert provisioning.apply(workspace, state, roster, [connector], TODAY, yes).batches
        roster = Provisioner(workspace).read_roster(spring, today=later)
        first = cleanup.apply(workspace, state, roster, [connector], later, yes, allow_large=True)
        assert not first.plan.has_work, "missed from today: their deletion falls due in 30 days"
        due = later + timedelta(days=31)
        result = cleanup.apply(workspace, state, roster, [connector], due, yes, allow_large=True)
        accounts = state.accounts(connector.id)
    [deletion_list] = result.deletion_lists
    assert deletion_list.rows == 2 and all(path.is_file() for path in deletion_list.slips)
    assert result.done[connector.id] == {"deletion_requested": 2}
    gone = {key_of(row) for row in rows[:2]}
    assert {key for key, a in accounts.items() if a.status is AccountStatus.DELETION_REQUESTED} == gone
