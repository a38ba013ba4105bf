"""The web interface put together: which address is which page, what an error becomes, and the
templates every page is rendered with.

Each page's handlers live in ``pages/`` (one module per part of the job, as the command line has
one per command group) and what they share in ``common``; this module only joins them into one
application. No rule lives here or there. What a plan, a cleanup or an erasure would do, whether
the guard refuses it, what the register lacks and which settings are valid are the facade's
answers; a page only chooses how to show them. A domain error becomes a page with the message and
the next step (``ProvisionerError.message`` and ``hint``, as ``cli/common.run`` prints them),
never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.formparsers import MultiPartParser
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from provisioner import times
from provisioner.errors import ProvisionerError, RosterError, WorkspaceNotFound
from provisioner.facade import is_workspace
from provisioner.fields import short_label, short_labels
from provisioner.models import rows_text, year_group_label
from provisioner.planning.cleanup import REASON_WORDS
from provisioner.web.common import (
    ACTION_WORDS,
    ROW_ERRORS_HINT,
    STATUS_WORDS,
    in_pages,
    page,
    problem_groups,
    see_other,
)
from provisioner.web.pages.audit import audit_page, audit_reanchor
from provisioner.web.pages.downloads import confirm, downloads, reconcile, slips_delete, workspace_file
from provisioner.web.pages.home import home, setup
from provisioner.web.pages.leavers import leavers_apply, leavers_choose, leavers_page
from provisioner.web.pages.pupil import erasure_letter, pupil_allow, pupil_erase, pupil_page, pupil_pdf
from provisioner.web.pages.register import (
    register_approve,
    register_dpia,
    register_export,
    register_letters,
    register_page,
    register_set,
)
from provisioner.web.pages.roster import (
    plan_apply,
    plan_page,
    relink,
    reset_passwords,
    roster_checked,
    roster_choose,
    task_page,
)
from provisioner.web.pages.settings import purge, settings_page, settings_save, stop_server
from provisioner.web.security import Guard, Refused, Tokens, refusal_page
from provisioner.web.tasks import Tasks

# A file chosen in a form (a roster, a platform's export) holds every pupil's data: it is read in
# memory and kept only inside the workspace, never spooled to the system's temporary folder, as
# Starlette does past 1 MB. A trust's roster of 50,000 pupils is a few megabytes.
MultiPartParser.spool_max_size = 512 * 1024 * 1024

templates = Environment(loader=PackageLoader("provisioner.web", "templates"), autoescape=select_autoescape(),
                        trim_blocks=True, lstrip_blocks=True)  # fmt: skip
templates.filters.update(hint=in_pages, label=short_label, labels=short_labels, year=year_group_label, rows=rows_text,
                         action=lambda a: ACTION_WORDS.get(a, a), reason=lambda r: REASON_WORDS.get(r, r),
                         status=lambda s: STATUS_WORDS.get(s, s.replace("_", " ")), when=times.shown)  # fmt: skip


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
            Route("/slips/{batch}", slips_delete, methods=["GET", "POST"]),
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
            Route("/register/letters", register_letters, methods=["POST"]),
            Route("/pupil", pupil_page),
            Route("/pupil/report.pdf", pupil_pdf),
            Route("/pupil/erase", pupil_erase, methods=["GET", "POST"]),
            Route("/pupil/allow", pupil_allow, methods=["POST"]),
            Route("/letters/{letter}", erasure_letter),
            Route("/audit", audit_page),
            Route("/audit/reanchor", audit_reanchor, methods=["POST"]),
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
    app.state.templates = templates  # what common.page renders with
    return Guard(app, app.state.tokens)


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
