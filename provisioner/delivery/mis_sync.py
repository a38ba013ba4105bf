"""MIS sync: someone other than this tool feeds the platform from the school's MIS and the
platform makes its own accounts: a data broker (Wonde, Groupcall Xporter on Demand) for any
import-file platform whose settings say ``provisioning = "broker"``, or the platform's own sync
(LGfL's USO-AutoUpdate). The tool sends nothing; it records which pupils the platform holds and
which fields, never their values (the MIS is the record), so the register is true and leavers
are tracked like everywhere else.

What happens to a leaver depends on who feeds the platform, so it is said when the strategy is
made (``removes_leavers``), never by asking which platform this is. LGfL documents that
AutoUpdate removes leavers itself (reference/platforms-checked.md §1.6), so a leaver's account
is recorded as deleted. A broker only stops sending a leaver: the platform may keep the account
(Wonde's apps differ, and a Groupcall scope removed "will not remove any data", §3), so leavers'
accounts go on a list for the admin to check on the platform, counted overdue like any deletion
list until ``confirm PLATFORM deleted``. An erasure cannot wait for either, so it goes on a
deletion list for the admin to ask for.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from provisioner.connector import Connector, ImportFileConnector
from provisioner.delivery.base import ApplyResult, CleanupResult, Delivery, IssuedBatch, Job
from provisioner.delivery.paperwork import issue_deletion_list
from provisioner.planning.actions import DELETE, ERASED, RESTORE
from provisioner.state import AccountStatus, Batch, BatchKind

if TYPE_CHECKING:
    from provisioner.planning.cleanup import PlatformCleanup
    from provisioner.planning.provisioning import PlatformPlan

A_BROKER = "a data broker reading the MIS"


class MisSync(Delivery):
    """``broker``: who sends the platform its pupils (recorded as the ``via`` of each account);
    ``fields``: which of their fields; ``role``: what the sender is, in words for the register;
    ``removes_leavers``: whether the sender removes leavers' accounts itself."""

    kind = "mis-sync"
    makes_accounts = False

    def __init__(self, connector: Connector, broker: str, fields: tuple[str, ...], *, role: str = A_BROKER,
                 removes_leavers: bool = False):  # fmt: skip
        # Instance attributes over the class defaults: the connector says who feeds it and how.
        super().__init__(connector)
        self.broker, self.fields, self.role, self.removes_leavers = broker, tuple(fields), role, removes_leavers

    @property
    def sent_by(self) -> str:
        return self.broker

    @property
    def erasure_effect(self) -> str:
        # An erasure waits for no sync, whoever removes leavers: a deletion list either way.
        return f"put on a deletion list for you to carry out, and to stop {self.broker} copying from the MIS"

    def accounts_made_by(self) -> str:
        return f"{self.broker} ({self.role}); this tool records which pupils and fields"

    def leaver_effect(self) -> str:
        name = self.connector.name
        if self.removes_leavers:
            return f"{self.broker} removes leavers from {name} itself: their accounts are recorded as removed"
        return (f"{self.broker} stops sending leavers, but {name} may keep their accounts: each goes on a list "
                f"for you to check on {name}, and to delete if it is still there")  # fmt: skip

    def sent_fields(self) -> tuple[str, ...]:
        """What the sender copies from the MIS, whatever the import file would have held."""
        return self.fields

    def deliver(self, job: Job, plan: PlatformPlan, result: ApplyResult) -> None:
        if plan.to_send:
            result.recorded[plan.platform] = job.state.record_synced(job.run_id, plan.platform, plan.holding(),
                                                                     self.broker)  # fmt: skip

    def can_resume(self, batch: Batch) -> bool:
        # A file begun before the school switched to the MIS sync is finished as it was begun.
        return batch.kind is BatchKind.IMPORT and isinstance(self.connector, ImportFileConnector)

    def resume(self, job: Job, batch: Batch) -> IssuedBatch:
        return self.connector.Delivery(self.connector).resume(job, batch)

    def clean_up(self, job: Job, cleanup: PlatformCleanup, result: CleanupResult) -> int:
        connector, state, done = self.connector, job.state, Counter()
        erasing = [s for s in cleanup.steps if s.reason == ERASED]
        if erasing:
            result.deletion_lists.append(issue_deletion_list(job, connector, erasing,
                                                             instruction=self.erasure_instruction()))  # fmt: skip
            done["deletion_requested"] = len(erasing)
        restores = cleanup.of(RESTORE)
        leaving = [s for s in cleanup.of(DELETE) if s.reason != ERASED]
        removed = leaving if self.removes_leavers else []
        with state.transaction():  # the returners, then the leavers the sender removed: one statement each
            for record, steps in ((state.mark_restored, restores), (state.mark_deleted, removed)):
                if steps:
                    record(job.run_id, connector.id, {s.pupil_key: {"reason": s.reason, "via": self.broker} for s in steps})
                    done[steps[0].action] += len(steps)
        for step in restores:
            if step.was is AccountStatus.DELETION_REQUESTED:
                result.notes.append(f"{connector.name}: a pupil on a list to check is back on roll; leave their "
                                    "account be")  # fmt: skip
        if leaving and not self.removes_leavers:
            title = f"{connector.name}: leavers to check ({self.broker} no longer sends them)"
            instruction = (f"{self.broker} no longer sends these pupils, but {connector.name} may keep their "
                           f"accounts: check on {connector.name} that each account was removed or archived, and "
                           "delete it if not")  # fmt: skip
            checklist = issue_deletion_list(job, connector, leaving, title=title, instruction=instruction)
            result.deletion_lists.append(checklist)
            done["deletion_requested"] += len(leaving)
        result.done[connector.id] = dict(done)
        return 0

    def erasure_instruction(self) -> str:
        """What the admin does on the platform for each pupil on an erasure's deletion list: the
        sender must stop sharing the pupil (else the account is made again), and the account goes."""
        deletion = self.connector.deletion_instruction(at_once=True)
        return (f"For each pupil: stop the MIS sharing them with {self.broker} (else it makes the account again), "
                f"and {deletion[:1].lower()}{deletion[1:]}")  # fmt: skip

    def erasure_note(self) -> str:
        if self.removes_leavers:
            return (f"{self.connector.name} reads the MIS itself: ask it to erase the pupil's data too, and stop the "
                    "MIS sharing it")  # fmt: skip
        return (f"{self.broker} sends {self.connector.name} its pupils from the MIS: stop it sharing this pupil, "
                f"and ask {self.connector.name} to erase the pupil's data too")  # fmt: skip
