"""A parent's requests about one pupil: what each platform holds (on the page and as a PDF to send),
an erasure (typed to confirm) with its letter, and an erasure request lifted. The letters are kept
in memory only until the interface stops.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from provisioner.errors import Aborted, UsageError
from provisioner.jobs.requests import describe
from provisioner.planning.cleanup import DELETE
from provisioner.web.common import call, note, page, see_other, shown_path, the_provisioner
from provisioner.web.security import Refused, checked_form


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
