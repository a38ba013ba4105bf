"""Microsoft 365 (Teams, Office 365): pupil accounts in Entra ID through Microsoft Graph.

Each pupil gets a user whose sign-in name comes from the username template at the school's
verified domain, whose names are the preferred names, and whose ``employeeId`` is this
school's pseudonymous id for Microsoft 365 (16 characters; never the UPN). That id is how an
account is found again: before creating, the tool adopts an account that already carries it,
so a run killed at any point and run again leaves exactly one account per pupil. Pupils are
licensed by adding them to a licence group, 20 members a write (reference/graph-msal.md §3).
The class goes to ``department`` only if the school turns ``class_name`` on.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field

from provisioner.connector import API, Connector, Outcome, PlatformSettings, Work
from provisioner.errors import RemoteError, SettingsError
from provisioner.graph import MAX_BATCH, GraphClient, GraphConfig, Reply
from provisioner.passwords import PasswordRule

SECRET_ENV = "PROVISIONER_M365_CLIENT_SECRET"
CREATE, UPDATE = "create", "update"


class Microsoft365Settings(PlatformSettings):
    tenant_id: str | None = Field(None, description="Directory (tenant) ID.")
    client_id: str | None = Field(None, description="Application (client) ID of the app registration.")
    domain: str | None = Field(None, description="Verified domain for pupils' sign-in names (default: the school's).")
    certificate: str | None = Field(None, description="PEM file with the app's private key and certificate.")
    authority_host: str = Field("https://login.microsoftonline.com", description="Sign-in host (national clouds).")
    graph_url: str = Field("https://graph.microsoft.com/v1.0", description="Graph endpoint (national clouds).")
    ca_bundle: str | None = Field(None, description="CA bundle for a TLS-inspecting proxy.")
    licence_group: str | None = Field(None, description="Display name of the group that carries pupils' licence.")
    writes_per_second: int = Field(20, ge=1, le=60, description="The per-app write quota (Microsoft: 3,000 / 150 s).")
    workers: int = Field(4, ge=1, le=16, description="Requests in flight at once.")
    force_password_change: bool = Field(False, description="Make pupils choose a new password at first sign-in.")


@dataclass
class Directory:
    """What the tenant holds, read once at the start of an apply."""

    client: GraphClient
    domain: str
    by_employee_id: dict[str, dict]
    taken_usernames: set[str]
    licence_group_id: str | None
    licence_members: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Microsoft365(Connector):
    id = "microsoft-365"
    name = "Microsoft 365"
    mode = API
    fields = ("forename", "surname", "pseudonymous_id", "username", "password")
    optional_fields = ("class_name",)
    username_template = "{forename}{surname}"
    username_max_length = 40
    # Entra's complexity rule: 8+ characters from 3 of 4 classes. Tiger-Cloud-47 has all 4.
    password_rule = PasswordRule(words=2, separator="-", min_length=8, max_length=64, require_upper=True,
                                 require_symbol=True)  # fmt: skip
    sign_in_url = "https://www.office.com/"
    Settings = Microsoft365Settings

    def settings_notes(self) -> list[str]:
        return [
            '# tenant_id = "00000000-0000-0000-0000-000000000000"',
            '# client_id = "00000000-0000-0000-0000-000000000000"',
            '# certificate = "C:/provisioner/m365-app.pem"  # or set PROVISIONER_M365_CLIENT_SECRET',
            '# licence_group = "Pupils - A1 licence"',
            "# domain = \"pupils.example.sch.uk\"  # default: the school's domain",
        ]

    # The engine's calls

    def connect(self, school_domain: str) -> Directory:
        """Sign in, and read the accounts and the licence group this apply works from."""
        settings = self.settings
        for key in ("tenant_id", "client_id"):
            if not getattr(settings, key):
                raise SettingsError(f"[platforms.microsoft-365] has no {key}",
                                    hint=f"set {key} from the app registration in Entra admin centre")  # fmt: skip
        config = GraphConfig(
            tenant_id=settings.tenant_id, client_id=settings.client_id, authority_host=settings.authority_host,
            graph_url=settings.graph_url, secret=os.environ.get(SECRET_ENV),
            certificate=Path(settings.certificate) if settings.certificate else None,
            ca_bundle=Path(settings.ca_bundle) if settings.ca_bundle else None,
            writes_per_second=settings.writes_per_second,
        )  # fmt: skip
        client = GraphClient(config)
        client.token()  # a wrong secret or tenant is reported now, before anything is planned
        domain = (settings.domain or school_domain).lower()
        by_employee_id, taken = {}, set()
        for user in client.pages("/users", {"$select": "id,userPrincipalName,employeeId,accountEnabled",
                                            "$top": "999"}):  # fmt: skip
            alias, _, at = (user.get("userPrincipalName") or "").lower().partition("@")
            if at == domain:
                taken.add(alias)
            if user.get("employeeId"):
                by_employee_id[user["employeeId"]] = user
        group_id, members = None, set()
        if settings.licence_group:
            name = settings.licence_group.replace("'", "''")
            found = list(client.pages("/groups", {"$filter": f"displayName eq '{name}'", "$select": "id"}))
            if len(found) != 1:
                raise SettingsError(
                    f"the licence group '{settings.licence_group}' was {'not found' if not found else 'found twice'}",
                    hint="create it in Entra with the pupils' licence assigned, or fix licence_group",
                )
            group_id = found[0]["id"]
            members = {m["id"] for m in client.pages(f"/groups/{group_id}/members", {"$select": "id"})}
        return Directory(client, domain, by_employee_id, taken, group_id, members)

    def push(self, directory: Directory, work: list[Work], next_username: Callable[[str], str],
             progress: Callable[[int], None] | None = None) -> Iterator[Outcome]:  # fmt: skip
        """Carry out recorded sends, 20 to a batch, ``workers`` batches in flight; yield each outcome.

        Chunks are submitted only as earlier ones finish, so a failure stops the run after at
        most ``workers`` more chunks (whose accounts the next apply adopts).
        """
        chunks = [work[i : i + MAX_BATCH] for i in range(0, len(work), MAX_BATCH)]
        pool = ThreadPoolExecutor(self.settings.workers)
        in_flight: deque = deque()
        try:
            for chunk in chunks:
                in_flight.append(pool.submit(self._push_chunk, directory, chunk, next_username))
                if len(in_flight) < self.settings.workers:
                    continue
                outcomes = in_flight.popleft().result()
                yield from outcomes
                if progress:
                    progress(len(outcomes))
            while in_flight:
                outcomes = in_flight.popleft().result()
                yield from outcomes
                if progress:
                    progress(len(outcomes))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    # One chunk: adopt or create, update, then licence

    def _push_chunk(self, directory: Directory, chunk: list[Work], next_username) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        requests, by_request = [], {}
        for item in chunk:
            existing = directory.by_employee_id.get(item.values["pseudonymous_id"])
            remote_id = item.remote_id or (existing or {}).get("id")
            if item.action == CREATE and existing is None:
                requests.append({"id": str(item.send_id), "method": "POST", "url": "/users",
                                 "body": self._new_user(directory, item.values)})  # fmt: skip
            else:
                # Already there (an earlier run made it before it was stopped, or the state was
                # restored from an old backup): adopt it, and set what this send would set.
                if remote_id is None:
                    outcomes[item.send_id] = Outcome(item.send_id, False, error="AccountNotFound")
                    continue
                changes = item.changed if item.action == UPDATE else list(item.values)
                requests.append({"id": str(item.send_id), "method": "PATCH", "url": f"/users/{remote_id}",
                                 "body": self._changes(item.values, changes)})  # fmt: skip
                username = (existing or {}).get("userPrincipalName", "").partition("@")[0] or None
                outcomes[item.send_id] = Outcome(item.send_id, True, username or item.values["username"], remote_id)
            by_request[str(item.send_id)] = item
        replies = directory.client.batch(requests)
        for request_id, reply in replies.items():
            item = by_request[request_id]
            if item.send_id in outcomes:  # a PATCH
                if not reply.ok:
                    outcomes[item.send_id] = Outcome(item.send_id, False, error=reply.error_code or str(reply.status))
                continue
            outcomes[item.send_id] = self._created(directory, item, reply, next_username)
        self._license(directory, [o.remote_id for o in outcomes.values() if o.ok and o.remote_id])
        return [outcomes[item.send_id] for item in chunk]

    def _created(self, directory: Directory, item: Work, reply: Reply, next_username) -> Outcome:
        """The outcome of a create; a sign-in name someone else holds takes the next counter."""
        client = directory.client
        for _ in range(20):
            if reply.ok:
                return Outcome(item.send_id, True, item.values["username"], reply.body["id"])
            if not _upn_conflict(reply):
                return Outcome(item.send_id, False, error=reply.error_code or str(reply.status))
            upn = f"{item.values['username']}@{directory.domain}"
            holder = client.request("GET", f"/users/{upn}", params={"$select": "id,employeeId"})
            if holder.ok and holder.body.get("employeeId") == item.values["pseudonymous_id"]:
                # Ours: the create went through but its answer was lost. Its password is this one.
                return Outcome(item.send_id, True, item.values["username"], holder.body["id"])
            item.values["username"] = next_username(item.values["username"])
            reply = client.request("POST", "/users", json=self._new_user(directory, item.values))
        return Outcome(item.send_id, False, error="NoFreeSignInName")

    def _license(self, directory: Directory, user_ids: list[str]) -> None:
        if directory.licence_group_id is None:
            return
        with directory.lock:
            new = [u for u in user_ids if u not in directory.licence_members]
        for start in range(0, len(new), MAX_BATCH):
            part = new[start : start + MAX_BATCH]
            reply = directory.client.request(
                "PATCH", f"/groups/{directory.licence_group_id}",
                json={"members@odata.bind": [f"{directory.client.base}/directoryObjects/{u}" for u in part]},
            )  # fmt: skip
            if not reply.ok:
                raise RemoteError(f"adding pupils to the licence group failed ({reply.error_code or reply.status})",
                                  hint="check the group is not role-assignable or dynamic, then run apply again")
            with directory.lock:
                directory.licence_members.update(part)

    # Request bodies: only what the platform holds

    def _new_user(self, directory: Directory, values: dict[str, str]) -> dict:
        body = {
            "accountEnabled": True,
            "mailNickname": values["username"],
            "userPrincipalName": f"{values['username']}@{directory.domain}",
            "employeeId": values["pseudonymous_id"],
            "usageLocation": "GB",
        }
        body.update(self._changes(values, [name for name in values if name != "pseudonymous_id"]))
        return body

    def _changes(self, values: dict[str, str], changed: list[str]) -> dict:
        body: dict = {}
        if "forename" in changed or "surname" in changed:
            body["displayName"] = " ".join(v for v in (values["forename"], values["surname"]) if v)
            body["givenName"] = values["forename"] or None
            body["surname"] = values["surname"] or None
        if "class_name" in changed and "class_name" in values:
            body["department"] = values["class_name"] or None
        if "password" in changed and values.get("password"):
            body["passwordProfile"] = {"password": values["password"],
                                       "forceChangePasswordNextSignIn": self.settings.force_password_change}
        return {k: v for k, v in body.items() if v is not None}


def _upn_conflict(reply: Reply) -> bool:
    """Graph's answer when the sign-in name is already someone's: 400 naming userPrincipalName."""
    if reply.status != 400:
        return False
    details = (reply.body.get("error") or {}).get("details") or [] if isinstance(reply.body, dict) else []
    return any(d.get("target") == "userPrincipalName" for d in details) or "userPrincipalName" in reply.error_message
