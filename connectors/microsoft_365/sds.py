"""School Data Sync v2.1 files, for a school that will not give an app write access
(``provisioning = "sds-files"``): each apply writes a folder of SDS files for the admin to upload.
SDS marks anyone missing from an upload inactive, so every folder lists every pupil the tool
holds, and a deletion list is the next upload without the leavers.

The files carry the required headers only, since optional headers may be left out
(reference/platforms.md §3.6).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from provisioner import files
from provisioner.connector import PupilView
from provisioner.delivery import FileDelivery

SDS_FILES_WRITTEN = ("orgs.csv", "users.csv", "roles.csv", "classes.csv", "enrollments.csv")


class SchoolDataSync(FileDelivery):
    """Files to upload, as School Data Sync's folder of v2.1 CSV files."""

    full_set = True

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



def sds_files(settings, pupils: list[PupilView], school_name: str) -> dict[str, bytes]:
    """Each SDS file's bytes, by file name."""
    org = settings.domain  # a stable id for the school that is no one's personal data
    users = [[p["pseudonymous_id"], f"{p['username']}@{settings.domain}", p["forename"], p["surname"],
              p.get("password", "")] for p in pupils]  # fmt: skip
    out = {
        "orgs.csv": files.csv_bytes(["sourcedId", "name", "type"], [[org, school_name, "school"]]),
        "users.csv": files.csv_bytes(["sourcedId", "username", "givenName", "familyName", "password"], users),
        "roles.csv": files.csv_bytes(["userSourcedId", "orgSourcedId", "role"],
                                     [[p["pseudonymous_id"], org, "student"] for p in pupils]),
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
