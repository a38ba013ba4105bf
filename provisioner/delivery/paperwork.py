"""What the admin is handed: login slips for new passwords, and deletion lists for accounts
to delete by hand (or, for a platform that takes whole uploads, the next upload without them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path

from provisioner import files
from provisioner.checklist import write_checklist
from provisioner.connector import Connector
from provisioner.delivery.base import IssuedBatch, Job
from provisioner.models import Pupil
from provisioner.planning.cleanup import Step
from provisioner.slips import Slip, write_slips
from provisioner.state import Batch, BatchKind, BatchStatus, now


def print_slips(job: Job, connector: Connector, batch_id: str, slips: list[Slip]) -> list[Path]:
    """Write a batch's login slips (PDF and xlsx) next to its files; none when no password is new."""
    if not slips:
        return []
    folder = files.make_private_dir(job.workspace.outbox / connector.id)
    paths = [folder / connector.slips_file_name(batch_id, suffix) for suffix in (".pdf", ".xlsx")]
    write_slips(*paths, job.workspace.settings.school.name, slips)
    return paths


def login_slip(connector: Connector, values: Mapping[str, str], pupil: Pupil | None, school_domain: str) -> Slip:
    """One pupil's slip. The name and class come from the roster: slips stay in school, so they
    may show what the platform does not receive. Where to sign in and the school code come from
    the platform's settings, since some platforms' pupils cannot find their school without them."""
    if pupil is not None:
        name, class_name = pupil.display_name, pupil.class_name or ""
        forename, surname = pupil.forename, pupil.surname
    else:  # left the roster between a crash and this resume: what was recorded will do
        forename, surname = values.get("forename", ""), values.get("surname", "")
        name = " ".join(v for v in (forename, surname) if v) or values["username"]
        class_name = values.get("class_name", "")
    return Slip(name, class_name, connector.name, connector.sign_in_name(values["username"], school_domain),
                values["password"], connector.effective_sign_in_url, connector.slip_school_code,
                forename=forename, surname=surname)  # fmt: skip


def remove_stale_temporaries(folder: Path) -> None:
    """Half-written files of a run killed mid-write (atomic writes leave them under a dot name)."""
    for leftover in folder.glob(".*.tmp-*"):
        leftover.unlink(missing_ok=True)


def issue_deletion_list(job: Job, connector: Connector, steps: Sequence[Step]) -> IssuedBatch:
    """A batch asking the admin to delete these accounts: a checklist to print and tick, or for a
    platform that takes whole uploads (School Data Sync), the next upload without them."""
    state, workspace, platform = job.state, job.workspace, connector.id
    batch_id = state.next_batch_id(job.today.isoformat())
    folder = files.make_private_dir(workspace.outbox / platform)
    due = job.today + timedelta(days=workspace.settings.leavers.confirm_within_days)
    accounts = state.accounts(platform)
    leaving = {s.pupil_key for s in steps}
    written: list[Path] = []
    if connector.delivery.full_set:
        path = folder / f"{platform}-deletions-{batch_id}"
        connector.delivery.write(path, connector.delivery.everyone_else(job, leaving), workspace.settings.school.name)
        file = path
    else:
        # A platform that reads the MIS holds names the tool never copied: the MIS id finds the pupil.
        rows = sorted((accounts[s.pupil_key].username or "(its own)",
                       _name(accounts[s.pupil_key].sent) or f"MIS record {s.pupil_key.partition(':')[2]}",
                       accounts[s.pupil_key].sent.get("class_name", "")) for s in steps)  # fmt: skip
        written = [folder / f"{platform}-deletions-{batch_id}{suffix}" for suffix in (".pdf", ".xlsx")]
        write_checklist(
            *written,
            title=f"{connector.name}: delete these leavers' accounts (batch {batch_id})",
            lines=[f"{workspace.settings.school.name}. {connector.deletion_instruction()}, tick it, then run: "
                   f"provisioner confirm {platform} deleted --batch {batch_id}", f"Do this by {due.isoformat()}."],
            header=["Username", "Name", "Class"],
            rows=rows,
        )  # fmt: skip
        file = written[0]
    stamp = now()
    batch = Batch(batch_id, platform, job.run_id, file.relative_to(workspace.root).as_posix(), BatchStatus.ISSUED,
                  stamp, stamp, BatchKind.DELETION, due.isoformat())  # fmt: skip
    state.issue_deletion_list(batch, {s.pupil_key: s.reason for s in steps})
    return IssuedBatch(platform, batch_id, file, len(steps), slips=written)


def _name(sent: Mapping[str, str]) -> str:
    """A name for the checklist from what the platform was sent (so it matches what it shows)."""
    if sent.get("forename") or sent.get("surname"):
        return " ".join(v for v in (sent.get("forename"), sent.get("surname")) if v)
    return sent.get("full_name", "")
