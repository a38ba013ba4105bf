"""Signing in to the tenant and reading what it holds at the start of a run: the accounts (by
their pseudonymous ``employeeId``), the sign-in names taken, the licence group or licence, and
the class groups this tool made, with their members."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from connectors.microsoft_365.graph import GraphClient, GraphConfig
from connectors.microsoft_365.settings import Microsoft365Settings
from provisioner.connector import ApiSession
from provisioner.errors import SettingsError

SECRET_ENV = "PROVISIONER_M365_CLIENT_SECRET"
# Every class group this tool makes says so: only those are ever changed, never a group that
# merely has a similar name (a trip group, the licence group).
CLASS_GROUP_MARK = "Pupils of one class, kept in step with the roster by provisioner."


@dataclass(kw_only=True)
class Directory(ApiSession):
    """What the tenant holds, read once at the start of an apply."""

    client: GraphClient
    domain: str
    by_employee_id: dict[str, dict]
    licence_group_id: str | None = None
    licence_members: set[str] = field(default_factory=set)
    sku_id: str | None = None  # direct licensing: the licence to assign
    free_seats: int = 0
    licensed: set[str] = field(default_factory=set)  # users holding sku_id
    group_ids: dict[str, str] = field(default_factory=dict)  # class group name -> id
    class_members: dict[str, set[str]] = field(default_factory=dict)  # class group id -> user ids
    live_ids: set[str] = field(default_factory=set)  # every account in the tenant (and those made since)
    lock: threading.Lock = field(default_factory=threading.Lock)


def sign_in(settings: Microsoft365Settings) -> GraphClient:
    """A client for the school's app, signed in now: a wrong secret or tenant is reported before
    anything is read or planned."""
    for key in ("tenant_id", "client_id"):
        if not getattr(settings, key):
            raise SettingsError(f"[platforms.microsoft-365] has no {key}",
                                hint=f"set {key} from the app registration in Entra admin centre")  # fmt: skip
    config = GraphConfig(
        tenant_id=settings.tenant_id, client_id=settings.client_id, authority_host=settings.authority_host,
        graph_url=settings.graph_url, secret=os.environ.get(SECRET_ENV),
        certificate=Path(settings.certificate) if settings.certificate else None,
        ca_bundle=Path(settings.ca_bundle) if settings.ca_bundle else None,
        writes_per_second=settings.writes_per_second, timeout=settings.timeout,
    )  # fmt: skip
    client = GraphClient(config)
    client.token()
    return client


def pupil_domain(settings: Microsoft365Settings, school_domain: str) -> str:
    return (settings.domain or school_domain).lower()


def read_tenant(settings: Microsoft365Settings, school_domain: str) -> Directory:
    """Sign in, and read the accounts and the licence group this run works from.

    Planning needs every account of the tenant once: an account already carrying a pupil's
    ``employeeId`` is adopted (a run killed after a create, a state restored from a backup),
    and a sign-in name anyone at the pupils' domain holds is never planned. Graph can narrow
    neither by default (``employeeId ne null`` and ``endswith`` on the sign-in name need its
    eventually consistent advanced queries, which can miss an account made a moment ago), and
    one listing is a request per 999 users, fewer than asking for a roster's ids 15 at a time.
    Everything read back after a change asks only for the accounts concerned (``lifecycle``).
    """
    client = sign_in(settings)
    domain = pupil_domain(settings, school_domain)
    select = "id,userPrincipalName,employeeId,accountEnabled" + (",assignedLicenses" * bool(settings.licence_sku))
    by_employee_id, taken, live = {}, set(), set()
    for user in client.pages("/users", {"$select": select, "$top": "999"}):
        live.add(user["id"])
        alias, _, at = (user.get("userPrincipalName") or "").lower().partition("@")
        if at == domain:
            taken.add(alias)
        if user.get("employeeId"):
            by_employee_id[user["employeeId"]] = user
    directory = Directory(client=client, domain=domain, by_employee_id=by_employee_id, taken_usernames=taken)
    if settings.licence_group:
        directory.licence_group_id = _licence_group(client, settings.licence_group)
        directory.licence_members = members(client, directory.licence_group_id)
    if settings.licence_sku:
        directory.sku_id, directory.free_seats = _sku(client, settings.licence_sku)
        directory.licensed = {u["id"] for u in by_employee_id.values()
                              if any(lic.get("skuId") == directory.sku_id for lic in u.get("assignedLicenses", ()))}
    # Read even when class groups are off: a school that turns them off gets them emptied.
    ours = [g for g in client.pages("/groups", {"$select": "id,displayName,description", "$top": "999"})
            if g.get("description") == CLASS_GROUP_MARK and g["id"] != directory.licence_group_id]  # fmt: skip
    for group in sorted(ours, key=lambda g: g["id"]):  # two of one name (a lost reply): the same one each time
        directory.group_ids.setdefault(group.get("displayName") or "", group["id"])
    for group_id in directory.group_ids.values():
        directory.class_members[group_id] = members(client, group_id)
    directory.live_ids = live
    return directory


def _licence_group(client: GraphClient, wanted: str) -> str:
    name = wanted.replace("'", "''")
    found = list(client.pages("/groups", {"$filter": f"displayName eq '{name}'", "$select": "id"}))
    if len(found) != 1:
        raise SettingsError(
            f"the licence group '{wanted}' was {'not found' if not found else 'found twice'}",
            hint="create it in Entra with the pupils' licence assigned, or fix licence_group",
        )
    return found[0]["id"]


def _sku(client: GraphClient, wanted: str) -> tuple[str, int]:
    """The licence's skuId and its free seats, from the tenant's subscriptions (never hard-coded)."""
    skus = list(client.pages("/subscribedSkus", {"$select": "skuId,skuPartNumber,prepaidUnits,consumedUnits"}))
    for sku in skus:
        if sku.get("skuPartNumber") == wanted:
            free = (sku.get("prepaidUnits") or {}).get("enabled", 0) - sku.get("consumedUnits", 0)
            return sku["skuId"], free
    held = ", ".join(sorted(s.get("skuPartNumber", "?") for s in skus)) or "none"
    raise SettingsError(f"the tenant has no licence '{wanted}'", hint=f"set licence_sku to one it has: {held}")


def members(client: GraphClient, group_id: str) -> set[str]:
    return {m["id"] for m in client.pages(f"/groups/{group_id}/members", {"$select": "id", "$top": "999"})}
