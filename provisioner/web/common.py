"""What the pages of the web interface share: the facade for a request and a worker thread to call
it in, a page rendered (with the templates ``app`` sets up), the note shown once on the next page,
a redirect; the options and platforms a roster's plan and its leaver cleanup are asked with, the
kept roster a page names, the plan's pupils listed and filtered; a workspace path as a download
address, a box of comma-separated values; and the pages' words for the core's actions, statuses,
exports and hints, one list for every page.

Kept apart from ``pages/`` so each page's module holds only its own handlers, and from ``app`` so
a page never imports the application that routes to it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from provisioner.errors import ProvisionerError
from provisioner.facade import Provisioner, platforms
from provisioner.fields import short_labels
from provisioner.planning.cleanup import REASON_WORDS

# The command line's words for each action (cli/render.py), for the same plan on a page.
ACTION_WORDS = {"create": "new account", "update": "update", "leaver": "leaver", "disable": "disable",
                "delete": "delete", "restore": "restore"}  # fmt: skip
STATUS_WORDS = {"issued_not_uploaded": "issued, not yet uploaded", "platform_hold": "held by the platform"}
EXPORTS = {"pdf": "PDF for governors", "html": "Web page", "xlsx": "Spreadsheet (xlsx)", "md": "Markdown (text)",
           "notice-docx": "Privacy notice section (Word)", "notice": "Privacy notice section (text)"}  # fmt: skip
ROW_ERRORS_HINT = ("fix the rows below in the MIS and choose the new export, or go back to the roster check and tick "
                   "'Leave out the rows with errors'")  # fmt: skip
# The core's hints name the command line's flags and commands; a page says the same next step
# in its own words: the box, button or page that does what the flag or command does. Wording
# only: which step is next stays the core's answer.
HINT_WORDS = [
    (r"run again with --allow-large-cleanup", "tick “I have checked: these pupils really left” under Options and "
     "look again"),
    (r"run again with --partial-roster and nobody it leaves out counts as absent", "tick “This file lists only "
     "some pupils on purpose” under Options (nobody it leaves out then counts as absent) and look again"),
    (r"run again with --partial-roster", "tick “This file lists only some pupils on purpose” under Options and "
     "look again"),
    (r"run again with --different-pupils", "tick “I have checked: … different children” under Options and look "
     "again"),
    (r"run 'provisioner relink \"[^\"]*\"' to match them[^;]*", "check each pairing listed on this page and, "
     "where it offers it, press “They are the same children: keep their accounts”"),
    (r"run 'provisioner register approve \S+ --by \"YOUR NAME\"'", "approve it on the Register page"),
    (r"run 'provisioner reconcile \S+ FILE'( again)?", "choose it under “Check a platform against its own pupil "
     "list” on the Downloads page"),
    (r"run 'provisioner confirm \S+ deleted --deleted-since-export'", "tick “I deleted the accounts the platform's "
     "last export still showed” on the Downloads page and say so again"),
    (r"run 'provisioner (apply|plan) FILE'", "choose the same roster again"),
    (r"--head ('[^']*'|\"[^\"]*\") is not an audit log head", r"\1 is not an audit log head"),  # repr's quotes
    (r"'provisioner audit verify' shows it", "the Audit log page shows it"),
    (r"'provisioner plan FILE' shows", "the roster's plan shows"),
    (r"until you set \S+( or \S+)? in \[platforms\.\S+?\] of provisioner\.toml", "until it is set"),
    (r"year_groups, classes and exclude_classes under \[platforms\.\S+?\]", "the year groups and classes on the "
     "Settings page"),
]
# Pupils listed per platform on a page: a trust's plan names tens of thousands; the filter finds the rest.
ROWS_SHOWN = 500
OUTSIDE = "outside"  # a pupil on roll whom a platform does not serve (the plan's filter)
# The options a roster's plan and cleanup take, as the command line's flags name them.
OPTIONS = ("skip_invalid_rows", "partial_roster", "allow_large_cleanup", "different_pupils")


def in_pages(hint: str | None) -> str:
    """A hint from the core as the pages say it (``HINT_WORDS``)."""
    text = hint or ""
    for pattern, words in HINT_WORDS:
        text = re.sub(pattern, words, text)
    return text


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
    html = state.templates.get_template(template).render(
        request=request, csrf=state.tokens.csrf, school=school, notes=notes, path=request.url.path,
        names=platforms(), **context)
    return HTMLResponse(html, status_code=status_code)


def note(request: Request, *lines: str) -> None:
    request.app.state.notes.extend(lines)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


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


def only_platforms(source: Any) -> list[str] | None:
    """The platforms a plan or cleanup is limited to (the command line's --platform), from the
    ticked boxes; None: every platform switched on."""
    return [str(platform) for platform in source.getlist("platform")] or None


def switched_on(provisioner: Provisioner) -> dict[str, str]:
    """The platforms switched on, id -> name, for the boxes that limit a plan to some of them."""
    return {connector.id: connector.name for connector in provisioner.connectors()}


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


def shown_path(path: Path | str, root: Path) -> str:
    """A path inside the workspace, as the download address and the admin both name it."""
    path = Path(path)
    return path.relative_to(root).as_posix() if path.is_absolute() and path.is_relative_to(root) else str(path)


def listed(text: object) -> list[str] | None:
    """A box of values separated by commas; empty means the default (the key is removed)."""
    values = [part.strip() for part in str(text or "").split(",") if part.strip()]
    return values or None
