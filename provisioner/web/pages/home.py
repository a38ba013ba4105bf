"""The home page (where the workspace stands, and whether the register lets it go ahead) and the
form that makes a new workspace when the interface was started in an empty folder (as
'provisioner init' asks).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from provisioner.facade import Provisioner, is_workspace
from provisioner.web.common import call, note, page, see_other, the_provisioner
from provisioner.web.security import Refused, checked_form


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
