"""School Data Sync v2.1 files, for a school that will not give an app write access
(``provisioning = "sds-files"``): each apply writes a folder of SDS files for the admin to upload.
SDS marks anyone missing from an upload inactive, so every folder lists every pupil the tool
holds. Inactive is not deleted: the Entra account stays. So a leaver's account goes in two
steps: the next upload without them (``issue_leaver_upload``), which once confirmed uploaded
leaves the account disabled, still held; then a deletion list naming each account by its
sign-in name, for the admin to delete in the Microsoft Entra admin centre, and only confirming
that list records the account deleted. (Entra keeps a deleted user 30 days under Deleted users,
where it can be restored, then deletes it for good: the list says so.)

The files carry the required headers only, since optional headers may be left out
(reference/platforms.md §3.6).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner import files
from provisioner.connector import PupilView
from provisioner.delivery import CleanupResult, FileDelivery, IssuedBatch, Job
from provisioner.delivery.paperwork import issue_deletion_list, issue_leaver_upload
from provisioner.planning.actions import DELETE, ERASED, LEFT
from provisioner.state import AccountStatus, Batch, BatchKind

if TYPE_CHECKING:
    from provisioner.planning.cleanup import PlatformCleanup, Step

SDS_FILES_WRITTEN = ("orgs.csv", "users.csv", "roles.csv", "classes.csv", "enrollments.csv")


class SchoolDataSync(FileDelivery):
    """Files to upload, as School Data Sync's folder of v2.1 CSV files."""

    full_set = True
    erasure_effect = ("left out of the next School Data Sync upload (which marks the account inactive), then put on a "
                      "deletion list for you to delete in Microsoft Entra")  # fmt: skip
    inactive_by = "marked inactive by School Data Sync"

    def sent_fields(self) -> tuple[str, ...]:
        """users.csv has no column for the class: it goes only through class groups."""
        settings = self.connector.settings
        return (*self.connector.fields, *(("class_name",) if settings.class_groups else ()))

    def file_name(self, batch_id: str) -> str:
        return f"{self.connector.id}-sds-{batch_id}"  # a folder: SDS needs each file under its own name

    def write(self, path: Path, pupils: list[PupilView], school_name: str) -> None:
        """The full set of SDS v2.1 files in the folder ``path``; users.csv is written last, so a
        folder whose users.csv exists is whole."""
        written = sds_files(self.connector.settings, pupils, school_name)
        folder = files.make_private_dir(path)
        for leftover in folder.iterdir():  # a file from other settings would be uploaded with the rest
            if leftover.name not in written:
                leftover.unlink()
        for name in sorted(written, key=lambda n: n == "users.csv"):
            files.atomic_write_bytes(folder / name, written[name])

    def passwords_in(self, path: Path) -> dict[str, str]:
        users = path / "users.csv"
        if not users.is_file():
            return {}
        rows = list(csv.DictReader(io.StringIO(users.read_text(encoding="utf-8"))))
        return {row["username"].partition("@")[0]: row["password"] for row in rows if row.get("password")}

    def clean_up(self, job: Job, cleanup: PlatformCleanup, result: CleanupResult) -> int:
        """Returners are active again; an account still in use goes on the next upload's leaver
        folder (SDS marks it inactive), and one already inactive on a deletion list for Entra."""
        done = self.restore(job, cleanup, result)
        deletes = cleanup.of(DELETE)
        inactive = [s for s in deletes if s.was in (AccountStatus.DISABLED, AccountStatus.PLATFORM_HOLD)]
        in_use = [s for s in deletes if s not in inactive]
        if in_use:
            result.deletion_lists.append(issue_leaver_upload(job, self.connector, in_use))
            result.notes.append(f"{self.connector.name}: School Data Sync marks the leavers inactive, which does not "
                                "delete their accounts; once the upload is confirmed, a deletion list for Microsoft "
                                "Entra follows")  # fmt: skip
        if inactive:
            result.deletion_lists.append(self.entra_deletion_list(job, inactive))
        if deletes:
            done["deletion_requested"] = len(deletes)
        result.done[self.connector.id] = dict(done)
        return 0

    def confirm_upload(self, job: Job, batch: Batch) -> list[IssuedBatch]:
        """A leaver upload uploaded: its leavers are inactive in SDS, so disabled here and still
        held, and a deletion list for Entra is issued at once. Any other upload is recorded as usual."""
        if batch.kind is not BatchKind.LEAVER_UPLOAD:
            return super().confirm_upload(job, batch)
        disabled = job.state.confirm_leaver_upload(job.run_id, batch, by=self.inactive_by)
        if not disabled:
            return []
        from provisioner.planning.cleanup import Step  # the planning loads only when it is used (actions.py)

        accounts, erased = job.state.accounts_of(self.connector.id, disabled), job.state.erasure_held()
        steps = [Step(DELETE, key, accounts[key].username, ERASED if job.state.subject(key) in erased else LEFT, None,
                      job.today, AccountStatus.DISABLED) for key in disabled]  # fmt: skip
        return [self.entra_deletion_list(job, steps)]

    def entra_deletion_list(self, job: Job, steps: list[Step]) -> IssuedBatch:
        return issue_deletion_list(job, self.connector, steps, at_once=True, sign_in_names=True)



def sds_files(settings, pupils: list[PupilView], school_name: str) -> dict[str, bytes]:
    """Each SDS file's bytes, by file name."""
    org = settings.domain  # a stable id for the school that is no one's personal data
    users = [[p["pseudonymous_id"], f"{p['username']}@{settings.domain}", p["forename"], p["surname"],
              p.get("password", "")] for p in pupils]  # fmt: skip
    out = {
        "orgs.csv": files.csv_bytes(["sourcedId", "name", "type"], [[org, school_name, "school"]]),
        "users.csv": files.csv_bytes(["sourcedId", "username", "givenName", "familyName", "password"], users),
        "roles.csv": files.csv_bytes(["userSourcedId", "orgSourcedId", "role"],
                                     [(user[0], org, "student") for user in users]),  # each pupil's id, read once
    }  # fmt: skip
    if settings.class_groups:
        classes = sorted({p["class_name"] for p in pupils if p.get("class_name")})
        class_id = {name: f"{org}-class-{name}" for name in classes}
        out["classes.csv"] = files.csv_bytes(
            ["sourcedId", "orgSourcedId", "title"],
            [[class_id[name], org, settings.class_group_name.replace("{class_name}", name)] for name in classes],
        )
        out["enrollments.csv"] = files.csv_bytes(
            ["classSourcedId", "userSourcedId", "role"],
            [[class_id[p["class_name"]], p["pseudonymous_id"], "student"] for p in pupils if p.get("class_name")],
        )
    return out
