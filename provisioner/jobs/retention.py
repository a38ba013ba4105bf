"""The tool's own retention: forget leavers once every account of theirs was deleted more than
``retention_days`` ago (an erased pupil at once), and remove outbox files of finished batches.
The audit log keeps the events under the keyed hash; deleted rows are overwritten and the file
compacted, so nothing can be read back from it. An erased pupil's files go with them: every
file in the outbox that names them (full sets and login cards included), or, where it still
waits for upload, named for the admin.

Login slips hold first passwords, so the admin removes a batch's slips once they are handed
out (``remove_slips``), without waiting for the purge: only the files the slips are written
under go (``paperwork.slip_files``), never the batch's import file, which may still wait for
upload, nor its deletion list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from provisioner import files
from provisioner.connector import registry
from provisioner.delivery import crashpoint
from provisioner.delivery.paperwork import slip_files
from provisioner.errors import UsageError
from provisioner.state import AccountStatus, BatchKind, BatchStatus, RunStatus, State
from provisioner.workspace import Workspace

OUTBOX_KEEP_DAYS = 30  # confirmed batches' files (passwords, names) are kept this long, then removed


def purge(workspace: Workspace, state: State, today: date, only: str | None = None) -> dict:
    """Forget the leavers due to be forgotten; ``only``: just this pupil (an erasure), leaving
    everything else to the next purge."""
    state.end_platform_holds(today)
    retention = timedelta(days=workspace.settings.leavers.retention_days)
    by_pupil = state.statuses_by_pupil(only)
    cutoff = today - retention
    held_back = state.erasure_held()  # an erasure request waits for no retention period
    erased = {key for key in by_pupil if state.subject(key) in held_back}
    forgotten = [
        key for key, held in by_pupil.items()
        if all(s is AccountStatus.DELETED and at and (_day(at) <= cutoff or key in erased) for s, at in held)
    ]  # fmt: skip
    # An erased pupil's name is also in the outbox: the files of every batch that held them
    # go now if the batch is done with; one still to upload is named for the admin.
    erased_files, kept = _erased_pupils_files(workspace, state, [k for k in forgotten if k in erased])
    run_id = state.begin_run("purge", None)
    crashpoint("purge")
    state.forget_pupils(run_id, forgotten)
    removed_files = erased_files + ([] if only else _purge_outbox(workspace, state, today))
    state.finish_run(run_id, RunStatus.OK, {"pupils": len(forgotten), "files": len(removed_files)})
    crashpoint("compacting")  # the rows are gone and overwritten (secure_delete): compacting only shrinks the file
    state.compact()
    return {"as_of": today.isoformat(), "pupils_purged": len(forgotten), "retention_days": retention.days,
            "files_removed": removed_files, "files_kept": kept}  # fmt: skip


def _batch_files(workspace: Workspace, platform: str, batch_id: str) -> list[Path]:
    folder = workspace.outbox / platform
    return sorted(folder.glob(f"*{batch_id}*")) if folder.is_dir() else []


def _erased_pupils_files(workspace: Workspace, state: State, keys: list[str]) -> tuple[list[str], list[str]]:
    """(files removed, files kept) that name these pupils: a finished batch's files go now,
    whatever their age; an import still waiting for upload stays, named.

    The batches sent to them, and on a platform that takes whole uploads (School Data Sync)
    every upload whose files name them, since each lists every pupil then held, whoever it was
    made for; and the combined login cards of those batches, which go once every platform's
    batch of theirs is finished."""
    naming = state.batches_naming(keys)
    for platform in {platform for platform, _, _ in naming} & set(registry()):
        if workspace.connector(platform).delivery.full_set:
            naming |= _full_sets_naming(workspace, state, platform, keys)
    removed, kept = [], []

    def remove_or_name(path: Path, finished: bool) -> None:
        shown = path.relative_to(workspace.root).as_posix()
        if finished:
            files.remove_tree(path)
            removed.append(shown)
            crashpoint("file-removed")  # some of the files that name the pupil gone, the rest not yet
        else:
            kept.append(shown)

    for platform, batch_id, status in sorted(naming):
        for path in _batch_files(workspace, platform, batch_id):
            remove_or_name(path, status.finished)
    for batch_id in sorted({batch_id for _, batch_id, _ in naming}):
        finished = all(b.status.finished for b in state.batches() if b.id == batch_id)
        for path in sorted(workspace.outbox.glob(f"login-slips-{batch_id}*")):
            remove_or_name(path, finished)
    return removed, kept


def _full_sets_naming(workspace: Workspace, state: State, platform: str,
                      keys: list[str]) -> set[tuple[str, str, BatchStatus]]:  # fmt: skip
    """The platform's uploads whose files hold one of these pupils' usernames as a whole cell."""
    accounts = state.accounts(platform)
    usernames = [accounts[key].username for key in keys if key in accounts and accounts[key].username]
    if not usernames:
        return set()
    cell = re.compile("|".join(rf'(?:^|[,;\t"]){re.escape(name)}(?=$|[,;\t"@])' for name in usernames).encode(),
                      re.MULTILINE | re.IGNORECASE)  # fmt: skip
    found = set()
    for batch in state.batches(platform):
        if batch.kind is BatchKind.DELETION:
            continue  # a deletion list names only the pupils sent to it, found above
        for path in _batch_files(workspace, platform, batch.id):
            written = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
            if any(cell.search(part.read_bytes()) for part in written):
                found.add((platform, batch.id, batch.status))
    return found


def _purge_outbox(workspace: Workspace, state: State, today: date) -> list[str]:
    removed = []
    keep = timedelta(days=OUTBOX_KEEP_DAYS)
    for platform, batch_id, stamp in state.finished_batches():
        if _day(stamp) + keep > today:
            continue
        for path in _batch_files(workspace, platform, batch_id):
            files.remove_tree(path)
            removed.append(path.relative_to(workspace.root).as_posix())
            crashpoint("file-removed")  # some finished batches' files gone, the rest not yet
    return removed


def _day(stamp: str) -> date:
    return datetime.fromisoformat(stamp).date()


@dataclass(frozen=True)
class Slips:
    """One apply's login slips still in the outbox."""

    batch: str
    issued: str  # the day the batch was made (YYYY-MM-DD)
    platforms: list[str]  # the platforms of the batch, by id
    files: list[str]  # the slips' files (a trust's cards: their folder), relative to the workspace
    awaiting_upload: list[str]  # the batch's import files still to upload (kept: they are no slips)


def slips_kept(workspace: Workspace, state: State) -> list[Slips]:
    """Every batch whose login slips are still in the outbox, newest first."""
    by_batch: dict[str, list] = {}
    for batch in state.batches():
        by_batch.setdefault(batch.id, []).append(batch)
    found = []
    for batch_id, batches in by_batch.items():
        paths = slip_files(workspace, batch_id, [workspace.connector(b.platform) for b in batches])
        if paths:
            waiting = [b.file for b in batches
                       if b.kind is BatchKind.IMPORT and b.status is BatchStatus.ISSUED and b.file]  # fmt: skip
            found.append(Slips(batch_id, min(b.created_at for b in batches)[:10], sorted({b.platform for b in batches}),
                               [path.relative_to(workspace.root).as_posix() for path in paths], waiting))  # fmt: skip
    found.sort(key=lambda slips: (slips.issued, slips.batch), reverse=True)
    return found


def remove_slips(workspace: Workspace, state: State, batch_id: str) -> Slips:
    """Remove one batch's login slips once they are handed out, recorded in the audit log (how
    many files, not what they held); what was removed."""
    slips = next((s for s in slips_kept(workspace, state) if s.batch == batch_id), None)
    if slips is None:
        raise UsageError(f"no login slips of batch {batch_id} are in the outbox",
                         hint="they were removed already; the Downloads page lists the slips still kept")  # fmt: skip
    run_id = state.begin_run("remove slips", None)
    for relative in slips.files:
        files.remove_tree(workspace.root / relative)
    state.record_event(run_id, "slips.removed", detail={"batch": batch_id, "files": len(slips.files)})
    state.finish_run(run_id, RunStatus.OK, {"files": len(slips.files)})
    return slips
