"""MIS sync: the platform reads the school's MIS itself (LGfL's USO-AutoUpdate) and makes its own
accounts. The tool sends nothing; it records which pupils the platform holds and which fields,
never their values (the MIS is the record), so the register is true and leavers are tracked
like everywhere else. The platform removes leavers itself; an erasure cannot wait for that, so
it goes on a deletion list for the admin to ask for."""

from __future__ import annotations

from collections import Counter

from provisioner.connector import ImportFileConnector
from provisioner.delivery.base import ApplyResult, CleanupResult, Delivery, IssuedBatch, Job
from provisioner.delivery.file_import import FileImport
from provisioner.delivery.paperwork import issue_deletion_list
from provisioner.planning.cleanup import ERASED, RESTORE, PlatformCleanup
from provisioner.planning.provisioning import PlatformPlan
from provisioner.state import Batch, BatchKind

VIA = "mis-sync"


class MisSync(Delivery):
    kind = "mis-sync"
    makes_accounts = False
    erasure_effect = "recorded as removed (the platform reads the MIS)"

    def sent_fields(self) -> tuple[str, ...]:
        """What the platform copies from the MIS (``mis_sync_fields``), whatever the settings."""
        return self.connector.mis_sync_fields

    def deliver(self, job: Job, plan: PlatformPlan, result: ApplyResult) -> None:
        if plan.to_send:
            result.recorded[plan.platform] = job.state.record_synced(job.run_id, plan.platform, plan.to_send, VIA)

    def can_resume(self, batch: Batch) -> bool:
        # A bulk file begun before the school switched to the MIS sync is finished as it was begun.
        return batch.kind is BatchKind.IMPORT and isinstance(self.connector, ImportFileConnector)

    def resume(self, job: Job, batch: Batch) -> IssuedBatch:
        return FileImport(self.connector).resume(job, batch)

    def clean_up(self, job: Job, cleanup: PlatformCleanup, result: CleanupResult) -> int:
        connector, done = self.connector, Counter()
        erasing = [s for s in cleanup.steps if s.reason == ERASED]
        if erasing:
            result.deletion_lists.append(issue_deletion_list(job, connector, erasing))
            done["deletion_requested"] = len(erasing)
        with job.state.transaction():
            for step in [s for s in cleanup.steps if s.reason != ERASED]:
                record = job.state.mark_restored if step.action == RESTORE else job.state.mark_deleted
                record(job.run_id, connector.id, {step.pupil_key: {"reason": step.reason, "via": VIA}})
                done[step.action] += 1
        result.done[connector.id] = dict(done)
        return 0

    def erasure_note(self) -> str:
        return (f"{self.connector.name} reads the MIS itself: ask it to erase the pupil's data too, and stop the MIS "
                "sharing it")
