"""The pages of the web interface and what each form does: parse the request, call one method of
the facade (in a worker thread, as a command would run), render what comes back.

No rule lives here. What a plan, a cleanup or an erasure would do, whether the guard refuses it,
what the register lacks and which settings are valid are the facade's answers; this module only
chooses which page shows them. A domain error becomes a page with the message and the next step
(``ProvisionerError.message`` and ``hint``, as ``cli/common.run`` prints them), never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.formparsers import MultiPartParser
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from provisioner.errors import Aborted, ProvisionerError, RosterError, UsageError, WorkspaceNotFound
from provisioner.facade import Provisioner, check_roster, is_workspace, platforms
from provisioner.fields import short_label, short_labels
from provisioner.jobs.requests import describe
from provisioner.models import rows_text, year_group_label
from provisioner.planning.cleanup import DELETE, REASON_WORDS
from provisioner.state import BatchKind
from provisioner.web.security import Guard, Refused, Tokens, checked_form, refusal_page
from provisioner.web.tasks import Tasks

# The command line's words for each action (cli/render.py), for the same plan on a page.
ACTION_WORDS = {"create": "new account", "update": "update", "leaver": "leaver", "disable": "disable",
                "delete": "delete", "restore": "restore"}  # fmt: skip
STATUS_WORDS = {"issued_not_uploaded": "issued, not yet uploaded", "platform_hold": "held by the platform"}
EXPORTS = {"pdf": "PDF for governors", "html": "Web page", "xlsx": "Spreadsheet (xlsx)",
           "notice-docx": "Privacy notice section (Word)", "notice": "Privacy notice section (text)"}  # fmt: skip
ROW_ERRORS_HINT = ("fix the rows below in the MIS and choose the new export, or go back to the roster check and tick "
                   "'Leave out the rows with errors'")  # fmt: skip
# Pupils listed per platform on a page: a trust's plan names tens of thousands; the filter finds the rest.
ROWS_SHOWN = 500
OUTSIDE = "outside"  # a pupil on roll whom a platform does not serve (the plan's filter)
# The options a roster's plan and cleanup take, as the command line's flags name them.
OPTIONS = ("skip_invalid_rows", "partial_roster", "allow_large_cleanup", "different_pupils")

# A file chosen in a form (a roster, a platform's export) holds every pupil's data: it is read in
# memory and kept only inside the workspace, never spooled to the system's temporary folder, as
# Starlette does past 1 MB. A trust's roster of 50,000 pupils is a few megabytes.
MultiPartParser.spool_max_size = 512 * 1024 * 1024

templates = Environment(loader=PackageLoader("provisioner.web", "templates"), autoescape=select_autoescape(),
                        trim_blocks=True, lstrip_blocks=True)  # fmt: skip
templates.filters.update(label=short_label, labels=short_labels, year=year_group_label, rows=rows_text,
                         action=lambda a: ACTION_WORDS.get(a, a), reason=lambda r: REASON_WORDS.get(r, r),
                         status=lambda s: STATUS_WORDS.get(s, s.replace("_", " ")))  # fmt: skip


def create_app(root: Path, tokens: Tokens | None = None, stop: Callable[[], None] | None = None) -> Guard:
    """The interface for the workspace at ``root``, behind its ``Guard``. ``stop`` ends the server
    (the Stop button)."""
    app = Starlette(
        routes=[
            Route("/", home),
            Route("/setup", setup, methods=["GET", "POST"]),
            Route("/roster", roster_choose, methods=["GET", "POST"]),
            Route("/roster/{name}", roster_checked),
            Route("/plan/{name}", plan_page),
            Route("/plan/{name}/apply", plan_apply, methods=["POST"]),
            Route("/relink/{name}", relink, methods=["POST"]),
            Route("/reset/{name}", reset_passwords, methods=["POST"]),
            Route("/tasks/{task}", task_page),
            Route("/downloads", downloads),
            Route("/confirm", confirm, methods=["POST"]),
            Route("/files/{path:path}", workspace_file),
            Route("/reconcile/{platform}", reconcile, methods=["POST"]),
            Route("/leavers", leavers_choose),
            Route("/leavers/{name}", leavers_page),
            Route("/leavers/{name}/apply", leavers_apply, methods=["POST"]),
            Route("/register", register_page),
            Route("/register/set", register_set, methods=["POST"]),
            Route("/register/approve", register_approve, methods=["POST"]),
            Route("/register/export", register_export, methods=["POST"]),
            Route("/register/dpia", register_dpia, methods=["POST"]),
            Route("/pupil", pupil_page),
            Route("/pupil/report.pdf", pupil_pdf),
            Route("/pupil/erase", pupil_erase, methods=["GET", "POST"]),
            Route("/pupil/allow", pupil_allow, methods=["POST"]),
            Route("/letters/{letter}", erasure_letter),
            Route("/settings", settings_page),
            Route("/settings/{platform}", settings_save, methods=["POST"]),
            Route("/purge", purge, methods=["POST"]),
            Route("/stop", stop_server, methods=["POST"]),
            Mount("/static", StaticFiles(packages=[("provisioner.web", "static")]), name="static"),
        ],
        exception_handlers={ProvisionerError: domain_error, Refused: refused, Exception: unexpected},
    )
    app.state.root = Path(root).resolve()
    app.state.tokens = tokens or Tokens()
    app.state.tasks = Tasks()
    app.state.notes = []  # what the last form did, shown once on the next page
    app.state.letters = {}  # erasure letters, kept in memory until the server stops
    app.state.stop = stop
    return Guard(app, app.state.tokens)


# Shared parts


def the_provisioner(request: Request) -> Provisioner:
    """A fresh facade for each request: settings saved by a form are read by the next page."""
    return Provisioner.find(request.app.state.root)


async def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The facade works on files and SQLite: run it off the event loop, as a command would run."""
    return await run_in_threadpool(function, *args, **kwargs)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    state = request.app.state
    notes, state.notes = state.notes, []
    try:
        school = Provisioner.find(state.root).workspace.settings.school.name
    except ProvisionerError:
        school = ""
    html = templates.get_template(template).render(
        request=request, csrf=state.tokens.csrf, school=school, notes=notes, path=request.url.path,
        names=platforms(), **context)
    return HTMLResponse(html, status_code=status_code)


def note(request: Request, *lines: str) -> None:
    request.app.state.notes.extend(lines)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProvisionerError)
    if isinstance(exc, WorkspaceNotFound) and not is_workspace(request.app.state.root):
        return see_other("/setup")  # a folder named for a new workspace: make it first
    problems = exc.problems if isinstance(exc, RosterError) and exc.problems else []
    if problems and "name" in request.path_params:  # the next step in this interface's words, not a command's
        exc = RosterError(exc.message, hint=ROW_ERRORS_HINT, problems=problems)
    return page(request, "error.html", status_code=400, error=exc, groups=problem_groups(problems))


async def unexpected(request: Request, exc: Exception) -> HTMLResponse:
    """The last line of defence, as the command line's: the kind of error, never its details."""
    return refusal_page(500, f"Unexpected error ({type(exc).__name__}). Nothing more was changed. Run the same step "
                             "from the command line with --debug for the details, and report them.")  # fmt: skip


async def refused(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, Refused)
    return page(request, "refused.html", status_code=exc.status, message=exc.message)


def problem_groups(problems: list) -> list[dict]:
    """Problems of one kind together, as 'roster check' groups them: the rows, the column, what
    to fix, and a few of the cells (for the admin's own screen; never logged)."""
    groups: dict[tuple, list] = {}
    for problem in problems:
        groups.setdefault((problem.severity, problem.column, problem.message), []).append(problem)
    return [{"severity": severity, "column": column, "message": message,
             "rows": [p.row for p in listed if p.row is not None], "count": len(listed),
             "cells": list(dict.fromkeys(p.value for p in listed if p.value))[:3]}
            for (severity, column, message), listed in groups.items()]  # fmt: skip


def options(source: Any) -> dict[str, bool]:
    """The plan's options from a query string or a form: each a checkbox."""
    return {name: source.get(name) == "on" for name in OPTIONS}


def roster_path(request: Request) -> tuple[Provisioner, Path]:
    provisioner = the_provisioner(request)
    return provisioner, provisioner.kept_roster(request.path_params["name"])


def plan_seen(the_plan: Any) -> str:
    """A fingerprint of a plan as the page showed it: apply goes ahead only on the same plan."""
    changes = sorted((platform, change.action, change.pupil_key, change.changed)
                     for platform, p in the_plan.platforms.items() for change in p.changes)  # fmt: skip
    return hashlib.sha256(json.dumps(changes).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class PupilRow:
    """One pupil of a platform's plan as the page lists it."""

    name: str
    class_name: str
    kind: str  # create, update, leaver, outside: what the filter chooses by
    what: str
    detail: str = ""


def pupil_rows(platform_plan: Any) -> list[PupilRow]:
    """Every pupil a platform's plan affects, then the pupils on roll it does not serve, in words."""
    rows = []
    for change in platform_plan.affected:
        detail = (f"changes {short_labels(change.changed)}" if change.action == "update"
                  else REASON_WORDS.get(change.reason, change.reason))  # fmt: skip
        rows.append(PupilRow(change.name or "(no name recorded)", change.class_name, change.action,
                             ACTION_WORDS.get(change.action, change.action), detail))  # fmt: skip
    for name, class_name in platform_plan.outside:
        rows.append(PupilRow(name, class_name, OUTSIDE, "no account", "on roll, outside the year groups or classes "
                             "it serves"))  # fmt: skip
    return rows


def filtered(rows: list[PupilRow], text: str, kind: str) -> list[PupilRow]:
    """The pupils the page's filter asks for: a name or class containing ``text``, of ``kind``."""
    text = text.strip().casefold()
    return [r for r in rows if (not kind or r.kind == kind)
            and (not text or text in r.name.casefold() or text in r.class_name.casefold())]  # fmt: skip


# Home


async def home(request: Request) -> HTMLResponse:
    provisioner = the_provisioner(request)
    report = await call(provisioner.status)
    _register, verdict = await call(provisioner.check_register)
    return page(request, "home.html", report=report, verdict=verdict)


async def setup(request: Request) -> Response:
    """A new workspace in the folder the interface was started for: the school, its domain, the
    platforms, and who approves what each is sent (as 'provisioner init' asks)."""
    root = request.app.state.root
    if is_workspace(root):
        return see_other("/")
    if request.method == "GET":
        return page(request, "setup.html", root=root)
    form = await checked_form(request)
    school, domain = str(form.get("school", "")).strip(), str(form.get("domain", "")).strip()
    by = str(form.get("approved_by", "")).strip()
    if not school or not domain or not by:
        raise Refused(400, "Give the school's name, the domain for pupils' accounts and your name.")
    chosen = [str(platform) for platform in form.getlist("platforms")]
    await call(Provisioner.create, root, school, domain, chosen, by)
    note(request, f"Created the workspace in {root}. Back up its school-secret.key, and never share it: without it "
                  "every platform would see new pupils.")  # fmt: skip
    return see_other("/")


# A new roster: choose it, check it, plan, apply


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
                groups=problem_groups(roster.errors + roster.warnings))  # fmt: skip


async def plan_page(request: Request) -> HTMLResponse:
    provisioner, path = roster_path(request)
    chosen = options(request.query_params)
    the_plan = await call(provisioner.plan, path, **chosen)
    text, action = request.query_params.get("q", ""), request.query_params.get("action", "")
    matching = {platform: filtered(pupil_rows(p), text, action) for platform, p in the_plan.platforms.items()}
    shown = {platform: rows[:ROWS_SHOWN] for platform, rows in matching.items()}
    return page(request, "plan.html", name=path.name, plan=the_plan, chosen=chosen, shown=shown,
                matching={platform: len(rows) for platform, rows in matching.items()}, q=text,
                action=action, seen=plan_seen(the_plan))  # fmt: skip


async def plan_apply(request: Request) -> Response:
    form = await checked_form(request)
    provisioner, path = roster_path(request)
    chosen, seen = options(form), form.get("seen")

    def same_plan(the_plan: Any) -> bool:
        return plan_seen(the_plan) == seen

    def work(progress):
        try:
            return provisioner.apply(path, confirm=same_plan, progress=progress, **chosen)
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
    return page(request, "task.html", task=task, shown=lambda p: shown_path(p, root))


def shown_path(path: Path | str, root: Path) -> str:
    """A path inside the workspace, as the download address and the admin both name it."""
    path = Path(path)
    return path.relative_to(root).as_posix() if path.is_absolute() and path.is_relative_to(root) else str(path)


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


# Downloads and confirming


async def downloads(request: Request) -> HTMLResponse:
    provisioner = the_provisioner(request)
    report = await call(provisioner.status)
    listed = {item["file"] for info in report["platforms"].values()
              for item in info["awaiting_upload"] + info["awaiting_deletion"]}  # fmt: skip
    others = [name for name in await call(provisioner.outbox_files) if name not in listed
              and not any(name.startswith(f"{folder}/") for folder in listed)]  # fmt: skip
    return page(request, "downloads.html", report=report, others=others)


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


# The leaver cleanup


async def leavers_choose(request: Request) -> HTMLResponse:
    return page(request, "leavers_choose.html", rosters=the_provisioner(request).kept_rosters())


async def leavers_page(request: Request) -> HTMLResponse:
    provisioner, path = roster_path(request)
    chosen = options(request.query_params)
    the_plan = await call(provisioner.plan_leavers, path, skip_invalid_rows=chosen["skip_invalid_rows"],
                          partial_roster=chosen["partial_roster"],
                          allow_large_cleanup=chosen["allow_large_cleanup"])  # fmt: skip
    text = request.query_params.get("q", "").strip().casefold()
    matching = {platform: [(step, when) for when, steps in (("now", p.steps), ("later", p.waiting)) for step in steps
                           if not text or text in step.name.casefold() or text in step.class_name.casefold()]
                for platform, p in the_plan.platforms.items()}  # fmt: skip
    return page(request, "leavers.html", name=path.name, plan=the_plan, chosen=chosen, q=text,
                shown={platform: rows[:ROWS_SHOWN] for platform, rows in matching.items()},
                matching={platform: len(rows) for platform, rows in matching.items()}, seen=cleanup_seen(the_plan))  # fmt: skip


def cleanup_seen(the_plan: Any) -> str:
    """A fingerprint of the cleanup as the page showed it: it goes ahead only on the same steps."""
    steps = sorted((platform, step.action, step.pupil_key) for platform, p in the_plan.platforms.items()
                   for step in p.steps)  # fmt: skip
    return hashlib.sha256(json.dumps(steps).encode()).hexdigest()[:32]


async def leavers_apply(request: Request) -> Response:
    form = await checked_form(request)
    provisioner, path = roster_path(request)
    chosen, seen = options(form), form.get("seen")

    def work(_progress):
        try:
            return provisioner.apply_leavers(path, confirm=lambda the_plan: cleanup_seen(the_plan) == seen,
                                             skip_invalid_rows=chosen["skip_invalid_rows"],
                                             partial_roster=chosen["partial_roster"],
                                             allow_large_cleanup=chosen["allow_large_cleanup"])  # fmt: skip
        except Aborted:
            raise Aborted("the cleanup changed since the page showed it; nothing was changed",
                          hint="look at the cleanup again, then carry it out") from None  # fmt: skip

    task = request.app.state.tasks.start("leavers", "Carrying out the leaver cleanup", work)
    return see_other(f"/tasks/{task.id}")


# The register


async def register_page(request: Request) -> HTMLResponse:
    provisioner = the_provisioner(request)
    register, verdict = await call(provisioner.check_register)
    gaps = await call(provisioner.register_gaps)
    by_processor: dict[str, list] = {}
    for gap in gaps:
        by_processor.setdefault(gap.name, []).append(gap)
    errors = {}
    for problem in register.problems:
        if problem.severity == "error":
            errors.setdefault(problem.entry_id, []).append(problem)
    reports = provisioner.workspace.reports
    exported = sorted((p for p in reports.iterdir() if p.is_file()), key=lambda p: -p.stat().st_mtime) \
        if reports.is_dir() else []  # fmt: skip
    return page(request, "register.html", register=register, verdict=verdict, gaps=by_processor, errors=errors,
                exports=EXPORTS, exported=[shown_path(p, provisioner.workspace.root) for p in exported[:8]])  # fmt: skip


async def register_set(request: Request) -> Response:
    form = await checked_form(request)
    provisioner = the_provisioner(request)
    value = str(form.get("value", "")).strip()
    if not value:
        raise Refused(400, "Type what you learned in the box before pressing Save.")
    edited = await call(provisioner.set_register_value, str(form.get("entry", "")), str(form.get("key", "")), value,
                        by=str(form.get("by", "")).strip() or None)  # fmt: skip
    for change in edited.changes:
        note(request, f"Saved {change.key} for {edited.name}. Open questions for it: {edited.gaps_before} before, "
                      f"{edited.gaps_left} now.")  # fmt: skip
    if not edited.changes:
        note(request, f"Nothing changed in {edited.name}'s entry: it already said that.")
    if edited.fields_changed:
        note(request, f"{edited.name}'s field list changed: approve it again below.")
    return see_other("/register")


async def register_approve(request: Request) -> Response:
    form = await checked_form(request)
    by = str(form.get("by", "")).strip()
    if not by:
        raise Refused(400, "Type the name of the person approving (it is printed on the register).")
    receipt = await call(the_provisioner(request).approve, str(form.get("entry", "")), by,
                         role=str(form.get("role", "")).strip() or "platform admin")  # fmt: skip
    note(request, f"Approved {form.get('entry')} by {receipt.approved_by}: it receives "
                  f"{short_labels(receipt.fields_after) or 'nothing'}; next review {receipt.next_review}.")  # fmt: skip
    return see_other("/register")


async def register_export(request: Request) -> Response:
    form = await checked_form(request)
    fmt = str(form.get("format", ""))
    if fmt not in EXPORTS:
        raise Refused(400, "Choose one of the formats offered.")
    provisioner = the_provisioner(request)
    path, _register = await call(provisioner.export_register, fmt)
    note(request, f"Wrote {shown_path(path, provisioner.workspace.root)}: download it below.")
    return see_other("/register")


async def register_dpia(request: Request) -> Response:
    form = await checked_form(request)
    fmt = "docx" if form.get("format") == "docx" else "pdf"
    provisioner = the_provisioner(request)
    path, draft = await call(provisioner.write_dpia, str(form.get("platform", "")), fmt=fmt)
    note(request, f"Wrote {shown_path(path, provisioner.workspace.root)}: {len(draft.to_decide)} question(s) marked "
                  f"'To decide' for the school, {len(draft.questions)} to send {draft.supplier}. Complete it with your "
                  "data protection officer; the headteacher signs it off.")  # fmt: skip
    return see_other("/register")


# A parent's requests about one pupil


async def pupil_page(request: Request) -> HTMLResponse:
    asked = request.query_params.get("q", "").strip()
    report, not_found = None, None
    if asked:
        try:
            report = await call(the_provisioner(request).pupil_report, asked)
        except UsageError as exc:  # nobody, or several, by that name: say so beside the search box
            not_found = exc
    return page(request, "pupil.html", q=asked, report=report, not_found=not_found)


async def pupil_pdf(request: Request) -> Response:
    provisioner = the_provisioner(request)
    report = await call(provisioner.pupil_report, request.query_params.get("q", "").strip())
    data = await call(provisioner.pupil_report_pdf, report)
    return Response(data, media_type="application/pdf",
                    headers={"content-disposition": f'attachment; filename="access-request-{report.get("id")}.pdf"'})


async def pupil_erase(request: Request) -> Response:
    provisioner = the_provisioner(request)
    if request.method == "GET":
        asked = request.query_params.get("q", "").strip()
        the_request = await call(provisioner.erasure_request, asked)
        return page(request, "erase.html", q=asked, asked=the_request, delete=DELETE)
    form = await checked_form(request)
    asked, typed = str(form.get("q", "")).strip(), str(form.get("typed", ""))
    try:
        result = await call(provisioner.erase_pupil, asked, confirm=lambda the_request: the_request.confirmed_by(typed))
    except Aborted:
        shown = typed.strip()
        raise Refused(400, (f"'{shown}' is not the name or id asked for" if shown else "Nothing was typed")
                      + ": nothing was changed. Go back and type the child's name or id.") from None  # fmt: skip
    letter = secrets.token_urlsafe(9)
    request.app.state.letters[letter] = await call(provisioner.erasure_letter_pdf, result)
    root = provisioner.workspace.root
    return page(request, "erased.html", result=result, letter=letter, who=describe(result.pupil),
                shown=lambda p: shown_path(p, root))


async def pupil_allow(request: Request) -> Response:
    form = await checked_form(request)
    asked = str(form.get("q", "")).strip()
    allowed = await call(the_provisioner(request).allow_pupil, asked)
    who = describe(allowed.pupil) if allowed.pupil else f"pupil {asked}"
    note(request, f"Lifted the erasure request for {who}: the next apply makes their accounts." if allowed.lifted
         else f"No erasure request was recorded for {who}; nothing changed.")  # fmt: skip
    return see_other(f"/pupil?q={quote(asked)}")


async def erasure_letter(request: Request) -> Response:
    data = request.app.state.letters.get(request.path_params["letter"])
    if data is None:
        raise Refused(404, "That letter is gone: letters are kept only until the interface stops. Erase the pupil "
                           "again (it changes nothing more) to make it again.")  # fmt: skip
    return Response(data, media_type="application/pdf",
                    headers={"content-disposition": 'attachment; filename="erasure-letter.pdf"'})


# Settings


async def settings_page(request: Request) -> HTMLResponse:
    provisioner = the_provisioner(request)
    forms = [await call(provisioner.platform_form, platform) for platform in platforms()]
    return page(request, "settings.html", forms=forms)


def listed(text: object) -> list[str] | None:
    """A box of values separated by commas; empty means the default (the key is removed)."""
    values = [part.strip() for part in str(text or "").split(",") if part.strip()]
    return values or None


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
    if request.app.state.stop is not None:
        request.app.state.stop()
    return page(request, "stopped.html", today=date.today())
