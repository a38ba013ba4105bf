"""Microsoft 365's own list of pupil accounts, read from the tenant, for ``provisioner reconcile``.

A file platform's export is downloaded by the admin; the tenant is asked directly instead. The
users read are those at the pupils' sign-in domain that carry an ``employeeId``, as every
account this tool makes does (its pseudonymous id): staff at another domain, or without one,
are never listed as accounts the tool did not make. Each becomes a row as a file export's
would: the sign-in name, the pseudonymous id, the names and, when the school sends the class,
the ``department`` that holds it.
"""

from __future__ import annotations

from connectors.microsoft_365.directory import read_tenant
from connectors.microsoft_365.settings import Microsoft365Settings
from provisioner.roster.platform_export import ExportRow, PlatformExport

SELECT = "id,userPrincipalName,employeeId,givenName,surname,department"


def tenant_export(settings: Microsoft365Settings, school_domain: str, with_class: bool) -> PlatformExport:
    directory = read_tenant(settings, school_domain)
    rows = []
    for user in directory.client.pages("/users", {"$select": SELECT, "$top": "999"}):
        name = (user.get("userPrincipalName") or "").lower()
        if not user.get("employeeId") or name.partition("@")[2] != directory.domain:
            continue
        rows.append(ExportRow(len(rows) + 1, username=name, forename=user.get("givenName") or "",
                              surname=user.get("surname") or "", class_name=user.get("department") or "",
                              pseudonymous_id=user["employeeId"]))  # fmt: skip
    columns = {"username": "userPrincipalName", "pseudonymous_id": "employeeId", "forename": "givenName",
               "surname": "surname", **({"class_name": "department"} if with_class else {})}  # fmt: skip
    return PlatformExport(f"the Microsoft 365 tenant (users at {directory.domain})", rows, columns)
