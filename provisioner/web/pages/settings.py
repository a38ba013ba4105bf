"""Each platform's settings written back into provisioner.toml from its form, the purge of leavers
kept past their retention, and the Stop button that ends the interface.
"""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from provisioner.facade import platforms
from provisioner.web.common import call, listed, note, page, see_other, the_provisioner
from provisioner.web.security import Refused, checked_form


async def settings_page(request: Request) -> HTMLResponse:
    provisioner = the_provisioner(request)
    forms = [await call(provisioner.platform_form, platform) for platform in platforms()]
    return page(request, "settings.html", forms=forms)


async def settings_save(request: Request) -> Response:
    form = await checked_form(request)
    platform = request.path_params["platform"]
    values = {
        "enabled": form.get("enabled") == "on",
        "year_groups": listed(form.get("year_groups")),
        "classes": listed(form.get("classes")),
        "exclude_classes": listed(form.get("exclude_classes")),
        "optional_fields": [str(name) for name in form.getlist("optional_fields")] or None,
        "sign_in_url": str(form.get("sign_in_url", "")).strip() or None,
        "school_code": str(form.get("school_code", "")).strip() or None,
    }
    changed = await call(the_provisioner(request).configure_platform, platform, values)
    if not changed.changed:
        note(request, f"{changed.name}: nothing changed.")
    else:
        note(request, f"Saved {changed.name}: {', '.join(key.replace('_', ' ') for key in changed.changed)}.")
    if changed.fields_changed:
        note(request, f"What {changed.name} is sent changed: approve it on the Register page before the next apply.")
    return see_other(f"/settings#{platform}")


async def purge(request: Request) -> Response:
    await checked_form(request)
    report = await call(the_provisioner(request).purge)
    note(request, f"Forgot {report['pupils_purged']} leaver(s) whose accounts were all deleted more than "
                  f"{report['retention_days']} days ago, and removed {len(report['files_removed'])} old outbox "
                  "file(s). The audit log keeps the events, unnamed.")  # fmt: skip
    for path in report["files_kept"]:
        note(request, f"{path} is waiting for upload and holds an erased pupil's data: take out their row before "
                      "uploading it, and delete the file once it is uploaded.")  # fmt: skip
    return see_other("/")


async def stop_server(request: Request) -> HTMLResponse:
    await checked_form(request)
    running = request.app.state.tasks.running()
    if running:  # an apply stopped half way finishes at the next one, but the admin would not know it had stopped
        raise Refused(409, f"{running[0].title} is still under way: stopping now would cut it short. Wait until its "
                           "page says Done, then stop the interface.")  # fmt: skip
    if request.app.state.stop is not None:
        request.app.state.stop()
    return page(request, "stopped.html", today=date.today())
