"""The leaver cleanup: choose a roster, see which accounts would be disabled, deleted or restored
(now, or once a platform's own hold ends), and carry it out as a task, only on the steps the page
showed. The command line's 'leavers'.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from provisioner.errors import Aborted
from provisioner.web.common import (
    ROWS_SHOWN,
    call,
    only_platforms,
    options,
    page,
    roster_path,
    see_other,
    switched_on,
    the_provisioner,
)
from provisioner.web.security import checked_form


async def leavers_choose(request: Request) -> HTMLResponse:
    return page(request, "leavers_choose.html", rosters=the_provisioner(request).kept_rosters())


async def leavers_page(request: Request) -> HTMLResponse:
    provisioner, path = roster_path(request)
    chosen, only = options(request.query_params), only_platforms(request.query_params)
    the_plan = await call(provisioner.plan_leavers, path, platforms=only, skip_invalid_rows=chosen["skip_invalid_rows"],
                          partial_roster=chosen["partial_roster"],
                          allow_large_cleanup=chosen["allow_large_cleanup"])  # fmt: skip
    text = request.query_params.get("q", "").strip().casefold()
    matching = {platform: [(step, when) for when, steps in (("now", p.steps), ("later", p.waiting)) for step in steps
                           if not text or text in step.name.casefold() or text in step.class_name.casefold()]
                for platform, p in the_plan.platforms.items()}  # fmt: skip
    return page(request, "leavers.html", name=path.name, plan=the_plan, chosen=chosen, q=text,
                shown={platform: rows[:ROWS_SHOWN] for platform, rows in matching.items()},
                matching={platform: len(rows) for platform, rows in matching.items()}, seen=cleanup_seen(the_plan),
                enabled=switched_on(provisioner), only=only or [])  # fmt: skip


def cleanup_seen(the_plan: Any) -> str:
    """A fingerprint of the cleanup as the page showed it: it goes ahead only on the same steps."""
    steps = sorted((platform, step.action, step.pupil_key) for platform, p in the_plan.platforms.items()
                   for step in p.steps)  # fmt: skip
    return hashlib.sha256(json.dumps(steps).encode()).hexdigest()[:32]


async def leavers_apply(request: Request) -> Response:
    form = await checked_form(request)
    provisioner, path = roster_path(request)
    chosen, seen, only = options(form), form.get("seen"), only_platforms(form)

    def work(progress):
        try:
            return provisioner.apply_leavers(path, confirm=lambda the_plan: cleanup_seen(the_plan) == seen, platforms=only,
                                             progress=progress,
                                             skip_invalid_rows=chosen["skip_invalid_rows"],
                                             partial_roster=chosen["partial_roster"],
                                             allow_large_cleanup=chosen["allow_large_cleanup"])  # fmt: skip
        except Aborted:
            raise Aborted("the cleanup changed since the page showed it; nothing was changed",
                          hint="look at the cleanup again, then carry it out") from None  # fmt: skip

    task = request.app.state.tasks.start("leavers", "Carrying out the leaver cleanup", work)
    return see_other(f"/tasks/{task.id}")
