"""The files the admin takes away and what they say was done with them: the outbox's import files,
deletion lists and login slips to download, slips deleted once handed out, an upload or a deletion
confirmed, and a platform's own pupil list checked against the accounts (reconcile).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from provisioner.facade import platforms
from provisioner.state import BatchKind
from provisioner.web.common import call, note, page, see_other, shown_path, the_provisioner
from provisioner.web.security import Refused, checked_form


async def downloads(request: Request) -> HTMLResponse:
    provisioner = the_provisioner(request)
    report = await call(provisioner.status)
    listed = {item["file"] for info in report["platforms"].values()
              for item in info["awaiting_upload"] + info["awaiting_deletion"]}  # fmt: skip
    slips = await call(provisioner.login_slips)
    listed |= {name for kept in slips for name in kept.files}
    others = [name for name in await call(provisioner.outbox_files) if name not in listed
              and not any(name.startswith(f"{folder}/") for folder in listed)]  # fmt: skip
    return page(request, "downloads.html", report=report, others=others, slips=slips,
                slip_files={kept.batch: slip_downloads(kept, provisioner.workspace.root) for kept in slips})


def slip_downloads(slips: Any, root: Path) -> list[str]:
    """A batch's slip files to download: a trust's folder of cards is listed file by file."""
    found = []
    for name in slips.files:
        path = root / name
        found += [shown_path(p, root) for p in sorted(path.iterdir()) if p.is_file()] if path.is_dir() else [name]
    return found


async def slips_delete(request: Request) -> Response:
    """A batch's login slips deleted once handed out: the page names the files, the button removes them."""
    provisioner, batch = the_provisioner(request), request.path_params["batch"]
    if request.method == "GET":
        kept = next((s for s in await call(provisioner.login_slips) if s.batch == batch), None)
        if kept is None:
            raise Refused(404, "Those login slips are not in the outbox any more: they were deleted already. The "
                               "Downloads page lists the slips still kept.")  # fmt: skip
        return page(request, "slips_delete.html", slips=kept, files=slip_downloads(kept, provisioner.workspace.root))
    await checked_form(request)
    removed = await call(provisioner.remove_login_slips, batch)
    note(request, f"Deleted the login slips of {removed.issued} ({len(removed.files)} file(s)) from the outbox. "
                  "Printed copies are not affected: shred any left over.")  # fmt: skip
    return see_other("/downloads")


async def confirm(request: Request) -> Response:
    form = await checked_form(request)
    provisioner = the_provisioner(request)
    platform, batch, what = str(form.get("platform", "")), str(form.get("batch", "")) or None, form.get("what")
    if what == "deleted":
        done, earlier = await call(provisioner.confirm_deleted, platform, batch,
                                   deleted_since_export=form.get("deleted_since_export") == "on")  # fmt: skip
    else:
        done, earlier = await call(provisioner.confirm_uploaded, platform, batch)
    words, name = ("deleted" if what == "deleted" else "uploaded"), platforms().get(platform, platform)
    for batch_done in done:
        note(request, f"{name}: {batch_done.file} recorded as {words}.")
        until = await call(provisioner.held_until, platform, batch_done.id)
        if until:
            note(request, f"{name}: the platform still holds these accounts in its Leavers group until "
                          f"{until.isoformat()}, then deletes them for good; to end it sooner, delete them there.")  # fmt: skip
    for before in earlier:
        note(request, f"{name}: {before.file} was already recorded as {before.status}; nothing changed.")
    if any(batch_done.kind is BatchKind.LEAVER_UPLOAD for batch_done in done):
        note(request, f"{name}: the leavers in it are now marked inactive by School Data Sync, which does not delete "
                      "their accounts. Delete them in the Microsoft Entra admin centre as the deletion list below "
                      "says, then say so here.")  # fmt: skip
    return see_other("/downloads")


async def reconcile(request: Request) -> HTMLResponse:
    """A platform's own pupil export (or, for Microsoft 365, its tenant read now) against the
    accounts this tool made there; the deletions it proves are recorded."""
    form = await checked_form(request)
    provisioner, platform = the_provisioner(request), request.path_params["platform"]
    upload, path = form.get("export"), None
    if upload is not None and not isinstance(upload, str) and upload.filename:
        path = await call(provisioner.keep_export, platform, upload.filename, await upload.read())
    result = await call(provisioner.reconcile, platform, path)
    return page(request, "reconcile.html", result=result)


async def workspace_file(request: Request) -> FileResponse:
    path = await call(the_provisioner(request).workspace_file, request.path_params["path"])
    return FileResponse(path, filename=path.name)
