"""The processor register: its state and open questions, a fact learned written into an entry, an
approval, the register exported for governors, a DPIA draft and the letters asking suppliers for
what is missing. The command line's 'register'.
"""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from provisioner.fields import short_labels
from provisioner.web.common import EXPORTS, call, note, page, see_other, shown_path, the_provisioner
from provisioner.web.security import Refused, checked_form


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
                items=provisioner.register_items(),
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
    review = str(form.get("next_review", "")).strip()
    try:
        next_review = date.fromisoformat(review) if review else None
    except ValueError:
        raise Refused(400, f"'{review}' is not a date for the next review: choose one in the box, or leave it "
                           "empty for a year from today.") from None  # fmt: skip
    receipt = await call(the_provisioner(request).approve, str(form.get("entry", "")), by,
                         role=str(form.get("role", "")).strip() or "platform admin", next_review=next_review,
                         note=str(form.get("note", "")).strip())  # fmt: skip
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


async def register_letters(request: Request) -> Response:
    """The letters asking the suppliers for the facts the register lacks, one zip to download."""
    await checked_form(request)
    made = await call(the_provisioner(request).supplier_letters)
    if made is None:
        note(request, "No letters to write: no supplier has a fact to ask for.")
        return see_other("/register")
    name, data = made
    return Response(data, media_type="application/zip", headers={"content-disposition": f'attachment; filename="{name}"'})
