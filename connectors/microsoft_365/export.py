"""Microsoft 365's own list of pupil accounts, read from the tenant, for ``provisioner reconcile``.

A file platform's export is downloaded by the admin; the tenant is asked directly instead. The
users read are those at the pupils' sign-in domain that carry an ``employeeId``, as every
account this tool makes does (its pseudonymous id): staff at another domain, or without one,
are never listed as accounts the tool did not make. Each becomes a row as a file export's
would: the sign-in name, the pseudonymous id, the names and, when the school sends the class,
the ``department`` that holds it. The tenant is listed once: it is signed in to, not read
as an apply reads it (licence, groups and a second listing of the users are not needed here).
"""

from __future__ import annotations

from connectors.microsoft_365.directory import pupil_domain, sign_in
from connectors.microsoft_365.settings import Microsoft365Settings
from provisioner.roster.platform_export import ExportRow, PlatformExport

SELECT = "id,userPrincipalName,employeeId,givenName,surname,department"


def tenant_export(settings: Microsoft365Settings, school_domain: str, with_class: bool) -> PlatformExport:
    client, domain = sign_in(settings), pupil_domain(settings, school_domain)
    rows = []
    for user in client.pages("/users", {"$select": SELECT, "$top": "999"}):
        name = (user.get("userPrincipalName") or "").lower()
        if not user.get("employeeId") or name.partition("@")[2] != domain:
            continue
        rows.append(ExportRow(len(rows) + 1, username=name, forename=user.get("givenName") or "",
                              surname=user.get("surname") or "", class_name=user.get("department") or "",
                              pseudonymous_id=user["employeeId"]))  # fmt: skip
    columns = {"username": "userPrincipalName", "pseudonymous_id": "employeeId", "forename": "givenName",
               "surname": "surname", **({"class_name": "department"} if with_class else {})}  # fmt: skip
    return PlatformExport(f"the Microsoft 365 tenant (users at {domain})", rows, columns)
