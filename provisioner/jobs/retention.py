"""The tool's own retention: forget leavers once every account of theirs was deleted more than
``retention_days`` ago (an erased pupil at once), and remove outbox files of finished batches.
The audit log keeps the events under the keyed hash; deleted rows are overwritten and the file
compacted, so nothing can be read back from it. An erased pupil's files go with them: every
file in the outbox that names them (full sets and login cards included), or, where it still
waits for upload, named for the admin."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

from provisioner import files
from provisioner.delivery import crashpoint
from provisioner.connector import registry
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
    return removed


def _day(stamp: str) -> date:
    return datetime.fromisoformat(stamp).date()
