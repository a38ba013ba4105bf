"""A new roster, step by step: choose it, check it, look at the plan, apply it (the apply runs as a
task, whose page follows it), pair pupils the plan matched under other ids, and reset passwords
for the next apply. The command line's 'roster check', 'plan', 'apply', 'relink' and 'reset-passwords'.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from provisioner.errors import Aborted, RosterError
from provisioner.facade import check_roster
from provisioner.web.common import (
    ROWS_SHOWN,
    call,
    filtered,
    listed,
    note,
    only_platforms,
    options,
    page,
    plan_seen,
    problem_groups,
    pupil_rows,
    roster_path,
    see_other,
    shown_path,
    switched_on,
    the_provisioner,
)
from provisioner.web.security import Refused, checked_form
from provisioner.web.tasks import DONE


async def roster_choose(request: Request) -> Response:
    provisioner = the_provisioner(request)
    if request.method == "GET":
        return page(request, "roster.html", rosters=provisioner.kept_rosters())
    form = await checked_form(request)
    upload = form.get("roster")
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise Refused(400, "Choose the roster file exported from the MIS (xlsx or csv), then press Check it.")
    data = await upload.read()
    path = await call(provisioner.keep_roster, upload.filename, data)
    then = "leavers" if form.get("then") == "leavers" else "roster"
    return see_other(f"/{then}/{path.name}")


async def roster_checked(request: Request) -> HTMLResponse:
    provisioner, path = roster_path(request)
    try:
        roster, matching = await call(check_roster, path, provisioner.workspace.root)
    except RosterError as exc:
        return page(request, "error.html", status_code=400, error=exc, groups=problem_groups(exc.problems or []))
    return page(request, "roster_check.html", name=path.name, roster=roster, matching=matching,
                groups=problem_groups(roster.errors + roster.warnings), enabled=switched_on(provisioner), only=[])  # fmt: skip


async def plan_page(request: Request) -> HTMLResponse:
    provisioner, path = roster_path(request)
    chosen, only = options(request.query_params), only_platforms(request.query_params)
    the_plan = await call(provisioner.plan, path, platforms=only, **chosen)
    text, action = request.query_params.get("q", ""), request.query_params.get("action", "")
    matching = {platform: filtered(pupil_rows(p), text, action) for platform, p in the_plan.platforms.items()}
    shown = {platform: rows[:ROWS_SHOWN] for platform, rows in matching.items()}
    return page(request, "plan.html", name=path.name, plan=the_plan, chosen=chosen, shown=shown,
                matching={platform: len(rows) for platform, rows in matching.items()}, q=text,
                action=action, seen=plan_seen(the_plan), enabled=switched_on(provisioner), only=only or [])  # fmt: skip


async def plan_apply(request: Request) -> Response:
    form = await checked_form(request)
    provisioner, path = roster_path(request)
    chosen, seen, only = options(form), form.get("seen"), only_platforms(form)

    def same_plan(the_plan: Any) -> bool:
        return plan_seen(the_plan) == seen

    def work(progress):
        try:
            return provisioner.apply(path, confirm=same_plan, progress=progress, platforms=only, **chosen)
        except Aborted:
            raise Aborted("the plan changed since the page showed it; nothing was changed",
                          hint="look at the plan again, then apply it") from None  # fmt: skip

    task = request.app.state.tasks.start("apply", "Applying the roster", work)
    return see_other(f"/tasks/{task.id}")


async def task_page(request: Request) -> HTMLResponse:
    task = request.app.state.tasks.get(request.path_params["task"])
    if task is None:
        raise Refused(404, "That piece of work is not known: the interface was started again since. The Home page "
                           "shows what was done.")  # fmt: skip
    root = request.app.state.root
    answer = page(request, "task.html", task=task, shown=lambda p: shown_path(p, root))
    if task.kind == "apply" and task.state == DONE and task.result.owed_slips:
        # The answer naming the slips is made: they are owed no longer (``Provisioner.slips_shown``).
        await call(the_provisioner(request).slips_shown, task.result)
        task.result.owed_slips = []
    return answer


async def relink(request: Request) -> Response:
    """The pupils the plan paired with held pupils under other ids, recorded under this roster's ids."""
    form = await checked_form(request)
    provisioner, path = roster_path(request)
    skip = form.get("skip_invalid_rows") == "on"
    pairs = await call(provisioner.relink, path, confirm=lambda _pairs: True, skip_invalid_rows=skip)
    note(request, f"Recorded {len(pairs)} pupil(s) under this roster's ids: their accounts are kept."
         if pairs else "No pupil of this roster pairs with a held pupil; nothing changed.")  # fmt: skip
    return see_other(f"/plan/{quote(path.name)}" + ("?skip_invalid_rows=on" if skip else ""))


async def reset_passwords(request: Request) -> Response:
    """New passwords and slips at the next apply, for a class or some pupils on one platform."""
    form = await checked_form(request)
    provisioner, path = roster_path(request)
    classes, pupils = listed(form.get("classes")) or [], listed(form.get("pupils")) or []
    if not classes and not pupils:
        raise Refused(400, "Name a class or a pupil's MIS id whose passwords to reset.")
    connector, count = await call(provisioner.reset_passwords, str(form.get("platform", "")), path, classes=classes,
                                  pupils=pupils, skip_invalid_rows=form.get("skip_invalid_rows") == "on")  # fmt: skip
    note(request, f"{connector.name}: {count} password reset(s) recorded for the next apply. Apply the roster, upload "
                  "the file, then print the new slips.")  # fmt: skip
    return see_other(f"/roster/{quote(path.name)}")
