"""The audit log: checked against the head written after the last change, or against one kept on
paper (as the register and the Home page print it), and anchored again once the admin knows why
it no longer reaches its head file. The command line's 'audit verify' and 'audit reanchor'.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from provisioner.errors import UsageError
from provisioner.web.common import call, note, page, see_other, the_provisioner
from provisioner.web.security import Refused, checked_form


async def audit_page(request: Request) -> HTMLResponse:
    asked = request.query_params.get("head", "").strip()
    provisioner = the_provisioner(request)
    try:
        check = await call(provisioner.verify_audit, asked or None)
    except UsageError as exc:  # not a head as printed: say so beside the box, and check against the head file
        return page(request, "audit.html", check=(await call(provisioner.verify_audit)).as_dict(), head=asked,
                    wrong=exc, lost_head=False)  # fmt: skip
    # Anchoring again mends a log cut off from its own head file, never a head the admin kept
    # (that one must keep failing), nor a changed event (the state refuses that in any case).
    lost_head = not check.intact and check.first_broken is None and not asked
    return page(request, "audit.html", check=check.as_dict(), head=asked, wrong=None, lost_head=lost_head)


async def audit_reanchor(request: Request) -> Response:
    form = await checked_form(request)
    if form.get("checked") != "on":
        raise Refused(400, "Tick the box to say you know why the log lost its head (a backup restored without its "
                           "audit-head.txt, or that file lost) before anchoring it again. Nothing was changed.")  # fmt: skip
    before, after = await call(the_provisioner(request).reanchor_audit)
    note(request, f"Anchored the audit log again: the head recorded was {before.text if before else 'missing'}; its "
                  f"head now is {after.text} (the log itself records that it was anchored again). A head kept on "
                  "paper that counts more entries than the log holds will not pass the check again: tell whoever "
                  "keeps it.")  # fmt: skip
    return see_other("/audit")
