"""Microsoft 365 (Teams, Office 365): pupil accounts in Entra ID through Microsoft Graph.

Each pupil gets a user whose sign-in name comes from the username template at the school's
verified domain, whose names are the preferred names, and whose ``employeeId`` is this
school's pseudonymous id for Microsoft 365 (16 characters; never the UPN). That id is how an
account is found again: before creating, the tool adopts an account that already carries it,
so a run killed at any point and run again leaves exactly one account per pupil.

After the accounts, ``reconcile`` brings what hangs off them in step with the state, from
what the tenant holds (so a run killed part way is finished by the next): each pupil's
licence, through a licence group (20 members a write, reference/graph-msal.md §3) or
directly with ``assignLicense``, and, if the school turns them on, one security group per
class. The class (in ``department`` and in class groups) goes only if the school turns
``class_name`` on. ``disable``, ``delete``, ``restore`` and ``enable`` are the leaver
cleanup's hooks; each is checked by listing the accounts afterwards.

A school that will not give an app write access sets ``provisioning = "sds-files"``: the
connector then writes School Data Sync v2.1 files instead, for the admin to upload.
"""

from __future__ import annotations

import csv
import io
import os
import re
import threading
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from provisioner import files
from provisioner.connector import API, FILE, Connector, Outcome, PlatformSettings, PupilView, Work
from provisioner.errors import RemoteError, SettingsError
from provisioner.graph import MAX_BATCH, GraphClient, GraphConfig, Reply
from provisioner.passwords import PasswordRule

SECRET_ENV = "PROVISIONER_M365_CLIENT_SECRET"
CREATE, UPDATE = "create", "update"
GRAPH, SDS_FILES = "graph", "sds-files"
# Every class group this tool makes says so: only those are ever changed, never a group that
# merely has a similar name (a trip group, the licence group).
CLASS_GROUP_MARK = "Pupils of one class, kept in step with the roster by provisioner."


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
    licence_sku: str | None = Field(None, description="Licence to assign directly (its skuPartNumber), "
                                    "when not through licence_group.")  # fmt: skip
    class_groups: bool = Field(False, description="Keep one security group per class (needs class_name sent).")
    class_group_name: str = Field("Class {class_name} pupils", description="The name of a class's group.")
    provisioning: Literal["graph", "sds-files"] = Field(
        GRAPH, description="graph: this tool makes the accounts; sds-files: it writes School Data Sync files."
    )

    @field_validator("class_group_name")
    @classmethod
    def _names_the_class(cls, template: str) -> str:
        if template.count("{class_name}") != 1 or re.search(r"{(?!class_name})", template):
            raise ValueError("must contain {class_name} once and no other {...} part")
        if template.strip() == "{class_name}":
            raise ValueError("needs words around {class_name}, so a class group is never just '3B'")
        return template

    @model_validator(mode="after")
    def _one_way_to_license(self) -> Microsoft365Settings:
        if self.licence_group and self.licence_sku:
            raise ValueError("set licence_group or licence_sku, not both: a pupil needs one licence")
        if self.class_groups and "class_name" not in self.optional_fields:
            raise ValueError('class_groups tells Microsoft each pupil\'s class: add "class_name" to optional_fields')
        if self.columns is not None:
            raise ValueError("columns: Microsoft 365 takes no import file of ours to lay out (SDS files have fixed "
                             "headers)")  # fmt: skip
        if self.provisioning == SDS_FILES and not self.domain:
            raise ValueError('provisioning = "sds-files" needs domain, the sign-in domain written in users.csv')
        return self


@dataclass
class Directory:
    """What the tenant holds, read once at the start of an apply."""

    client: GraphClient
    domain: str
    by_employee_id: dict[str, dict]
    taken_usernames: set[str]
    licence_group_id: str | None
    licence_members: set[str] = field(default_factory=set)
    sku_id: str | None = None  # direct licensing: the licence to assign
    free_seats: int = 0
    licensed: set[str] = field(default_factory=set)  # users holding sku_id
    group_ids: dict[str, str] = field(default_factory=dict)  # class group name -> id
    class_members: dict[str, set[str]] = field(default_factory=dict)  # class group id -> user ids
    live_ids: set[str] = field(default_factory=set)  # every account in the tenant (and those made since)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Fix:
    """One thing out of step with the state: a licence to assign, a class group to join or leave."""

    kind: Literal["license", "join", "leave"]
    user_id: str
    group: str = ""  # join: the class group's name (it may not exist yet); leave: its id


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

    def __init__(self, settings: PlatformSettings | None = None):
        super().__init__(settings)
        if self.settings.provisioning == SDS_FILES:
            self.mode = FILE
            self.full_set = True  # SDS marks anyone missing from an upload inactive

    @property
    def sent_fields(self) -> tuple[str, ...]:
        if self.mode == FILE:  # SDS files: the class only through class groups (users.csv has no column for it)
            return (*self.fields, *(("class_name",) if self.settings.class_groups else ()))
        return super().sent_fields

    def sign_in_name(self, username: str, school_domain: str) -> str:
        return f"{username}@{(self.settings.domain or school_domain).lower()}"

    def settings_notes(self) -> list[str]:
        return [
            '# tenant_id = "00000000-0000-0000-0000-000000000000"',
            '# client_id = "00000000-0000-0000-0000-000000000000"',
            '# certificate = "C:/provisioner/m365-app.pem"  # or set PROVISIONER_M365_CLIENT_SECRET',
            '# licence_group = "Pupils - A1 licence"',
            "# domain = \"pupils.example.sch.uk\"  # default: the school's domain",
            '# licence_sku = "STANDARDWOFFPACK_STUDENT"  # instead of licence_group: assign the licence directly',
            '# class_groups = true  # one security group per class; needs optional_fields = ["class_name"]',
            '# provisioning = "sds-files"  # no app access: write School Data Sync v2.1 files to upload instead',
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
        select = "id,userPrincipalName,employeeId,accountEnabled" + (",assignedLicenses" * bool(settings.licence_sku))
        by_employee_id, taken, live = {}, set(), set()
        for user in client.pages("/users", {"$select": select, "$top": "999"}):
            live.add(user["id"])
            alias, _, at = (user.get("userPrincipalName") or "").lower().partition("@")
            if at == domain:
                taken.add(alias)
            if user.get("employeeId"):
                by_employee_id[user["employeeId"]] = user
        directory = Directory(client, domain, by_employee_id, taken, None)
        if settings.licence_group:
            directory.licence_group_id = self._licence_group(client)
            directory.licence_members = self._members(client, directory.licence_group_id)
        if settings.licence_sku:
            directory.sku_id, directory.free_seats = self._sku(client)
            directory.licensed = {u["id"] for u in by_employee_id.values()
                                  if any(lic.get("skuId") == directory.sku_id for lic in u.get("assignedLicenses", ()))}
        # Read even when class groups are off: a school that turns them off gets them emptied.
        ours = [g for g in client.pages("/groups", {"$select": "id,displayName,description", "$top": "999"})
                if g.get("description") == CLASS_GROUP_MARK and g["id"] != directory.licence_group_id]  # fmt: skip
        for group in sorted(ours, key=lambda g: g["id"]):  # two of one name (a lost reply): the same one each time
            directory.group_ids.setdefault(group.get("displayName") or "", group["id"])
        for group_id in directory.group_ids.values():
            directory.class_members[group_id] = self._members(client, group_id)
        directory.live_ids = live
        return directory

    def _licence_group(self, client: GraphClient) -> str:
        wanted = self.settings.licence_group
        name = wanted.replace("'", "''")
        found = list(client.pages("/groups", {"$filter": f"displayName eq '{name}'", "$select": "id"}))
        if len(found) != 1:
            raise SettingsError(
                f"the licence group '{wanted}' was {'not found' if not found else 'found twice'}",
                hint="create it in Entra with the pupils' licence assigned, or fix licence_group",
            )
        return found[0]["id"]

    def _sku(self, client: GraphClient) -> tuple[str, int]:
        """The licence's skuId and its free seats, from the tenant's subscriptions (never hard-coded)."""
        skus = list(client.pages("/subscribedSkus", {"$select": "skuId,skuPartNumber,prepaidUnits,consumedUnits"}))
        for sku in skus:
            if sku.get("skuPartNumber") == self.settings.licence_sku:
                free = (sku.get("prepaidUnits") or {}).get("enabled", 0) - sku.get("consumedUnits", 0)
                return sku["skuId"], free
        held = ", ".join(sorted(s.get("skuPartNumber", "?") for s in skus)) or "none"
        raise SettingsError(f"the tenant has no licence '{self.settings.licence_sku}'",
                            hint=f"set licence_sku to one it has: {held}")  # fmt: skip

    @staticmethod
    def _members(client: GraphClient, group_id: str) -> set[str]:
        return {m["id"] for m in client.pages(f"/groups/{group_id}/members", {"$select": "id", "$top": "999"})}

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
                body = self._changes(item.values, changes)
                if item.action == CREATE:  # adopted: it may have been made without, and cannot be licensed then
                    body["usageLocation"] = "GB"
                requests.append({"id": str(item.send_id), "method": "PATCH", "url": f"/users/{remote_id}",
                                 "body": body})  # fmt: skip
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
        with directory.lock:
            directory.live_ids.update(o.remote_id for o in outcomes.values() if o.ok and o.remote_id)
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

    # In step: licences and class groups

    def drift(self, directory: Directory, held: Mapping[str, PupilView], gone: set[str] = frozenset()) -> list[Fix]:
        """What differs from the state: ``held`` maps the remote id of each account on roll to
        what it was sent; ``gone`` are leavers' accounts, which leave their class groups."""
        settings, fixes = self.settings, []
        for user_id, values in held.items():
            if user_id not in directory.live_ids:
                continue  # deleted by hand: the leaver cleanup's to notice, and no group can take it
            if settings.licence_group and user_id not in directory.licence_members:
                fixes.append(Fix("license", user_id))
            if settings.licence_sku and user_id not in directory.licensed:
                fixes.append(Fix("license", user_id))
            if not settings.class_groups:
                fixes.extend(Fix("leave", user_id, gid) for gid, members in directory.class_members.items()
                             if user_id in members)  # fmt: skip
                continue
            class_name = values.get("class_name", "")
            wanted = settings.class_group_name.replace("{class_name}", class_name) if class_name else ""
            wanted_id = directory.group_ids.get(wanted)
            fixes.extend(Fix("leave", user_id, gid) for gid, members in directory.class_members.items()
                         if user_id in members and gid != wanted_id)  # fmt: skip
            if wanted and user_id not in directory.class_members.get(wanted_id, ()):
                fixes.append(Fix("join", user_id, wanted))
        for user_id in gone:
            fixes.extend(Fix("leave", user_id, gid) for gid, members in directory.class_members.items()
                         if user_id in members)
        return fixes

    def preflight(self, directory: Directory, new_accounts: int, fixes: list[Fix]) -> None:
        """Refuse before anything is sent when the licences needed are not free (direct licensing;
        a licence group's seats are Entra's to count)."""
        needed = new_accounts + sum(1 for f in fixes if f.kind == "license")
        if self.settings.licence_sku and needed > directory.free_seats:
            raise RemoteError(
                f"{needed} pupils need a '{self.settings.licence_sku}' licence and "
                f"{max(directory.free_seats, 0)} are free; nothing was sent",
                hint="free or add licences in the Microsoft 365 admin centre, then run apply again",
            )

    def reconcile(self, directory: Directory, fixes: list[Fix]) -> Counter:
        """Carry out ``drift``'s fixes; returns how many of each kind were done. Safe to repeat."""
        licences = [f.user_id for f in fixes if f.kind == "license"]
        self.preflight(directory, 0, fixes)
        joins: dict[str, list[str]] = {}
        for fix in fixes:
            if fix.kind == "join":
                joins.setdefault(fix.group, []).append(fix.user_id)
        for name in joins:
            if name not in directory.group_ids:
                directory.group_ids[name] = self._class_group(directory, name)
                directory.class_members[directory.group_ids[name]] = set()
        binds = [(directory.licence_group_id, licences)] if self.settings.licence_group else []
        binds += [(directory.group_ids[name], users) for name, users in joins.items()]
        # Each request below is one write; group adds carry 20 members a write.
        requests = [self._bind(directory, gid, users[i : i + MAX_BATCH])
                    for gid, users in binds for i in range(0, len(users), MAX_BATCH)]  # fmt: skip
        if self.settings.licence_sku:
            body = {"addLicenses": [{"skuId": directory.sku_id, "disabledPlans": []}], "removeLicenses": []}
            requests += [{"method": "POST", "url": f"/users/{u}/assignLicense", "body": body} for u in licences]
        requests += [{"method": "DELETE", "url": f"/groups/{f.group}/members/{f.user_id}/$ref"}
                     for f in fixes if f.kind == "leave"]  # fmt: skip
        for number, request in enumerate(requests):
            request["id"] = str(number)
        chunks = [requests[i : i + MAX_BATCH] for i in range(0, len(requests), MAX_BATCH)]
        with ThreadPoolExecutor(self.settings.workers) as pool:
            replies = {k: v for part in pool.map(directory.client.batch, chunks) for k, v in part.items()}
        failed, one_by_one = Counter(), []
        for request in requests:
            reply = replies[request["id"]]
            binds = (request.get("body") or {}).get("members@odata.bind") or []
            if not reply.ok and _already(reply) and len(binds) > 1:
                # All or nothing: one member already there and none of the others was added.
                one_by_one += [{"id": f"{request['id']}.{n}", "method": "POST", "url": f"{request['url']}/members/$ref",
                                "body": {"@odata.id": ref}} for n, ref in enumerate(binds)]  # fmt: skip
            elif not reply.ok and not _already(reply):  # already done (a lost answer, or by hand) is done
                failed[reply.error_code or str(reply.status)] += 1
        for start in range(0, len(one_by_one), MAX_BATCH):
            for reply in directory.client.batch(one_by_one[start : start + MAX_BATCH]).values():
                if not reply.ok and not _already(reply):
                    failed[reply.error_code or str(reply.status)] += 1
        if failed:
            codes = ", ".join(sorted(failed))
            raise RemoteError(f"{sum(failed.values())} licence or group change(s) failed ({codes})",
                              hint="check the groups are not dynamic or role-assignable, then run apply again")
        with directory.lock:
            directory.licence_members.update(licences if self.settings.licence_group else ())
            directory.licensed.update(licences if self.settings.licence_sku else ())
            for name, users in joins.items():
                directory.class_members[directory.group_ids[name]].update(users)
            for fix in fixes:
                if fix.kind == "leave":
                    directory.class_members.get(fix.group, set()).discard(fix.user_id)
        return Counter(f.kind for f in fixes)

    def _bind(self, directory: Directory, group_id: str, users: list[str]) -> dict:
        refs = [f"{directory.client.base}/directoryObjects/{u}" for u in users]
        return {"method": "PATCH", "url": f"/groups/{group_id}", "body": {"members@odata.bind": refs}}

    def _class_group(self, directory: Directory, name: str) -> str:
        nickname = re.sub(r"[^A-Za-z0-9]", "", name)[:56] or "class"
        reply = directory.client.request("POST", "/groups", json={
            "displayName": name, "mailEnabled": False, "securityEnabled": True,
            "mailNickname": f"{nickname}{zlib.crc32(name.encode()) % 10_000:04d}",
            "description": CLASS_GROUP_MARK,
        })  # fmt: skip
        # A create whose answer was lost is sent again by the client: look, and keep one.
        quoted = name.replace("'", "''")
        made = sorted(g["id"] for g in directory.client.pages(
            "/groups", {"$filter": f"displayName eq '{quoted}'", "$select": "id,description"})
            if g.get("description") == CLASS_GROUP_MARK)  # fmt: skip
        if not made:
            raise RemoteError(f"the class group '{name}' could not be made ({reply.error_code or reply.status})",
                              hint="check the app has Group.ReadWrite.All, then run apply again")
        for extra in made[1:]:
            directory.client.request("DELETE", f"/groups/{extra}")
        return made[0]

    # The leaver cleanup's hooks: each returns, per account, whether reading back confirmed it

    def disable(self, directory: Directory, user_ids: list[str]) -> dict[str, bool]:
        """Block sign-in (``accountEnabled`` false); confirmed by listing the accounts afterwards."""
        self._each(directory, [{"method": "PATCH", "url": f"/users/{u}", "body": {"accountEnabled": False}}
                               for u in user_ids])  # fmt: skip
        return _read_back(user_ids, lambda: {u for u, on in self._live(directory).items() if on is False})

    def enable(self, directory: Directory, user_ids: list[str]) -> dict[str, bool]:
        """Let a returner sign in again; confirmed by listing the accounts afterwards."""
        self._each(directory, [{"method": "PATCH", "url": f"/users/{u}", "body": {"accountEnabled": True}}
                               for u in user_ids])  # fmt: skip
        return _read_back(user_ids, lambda: {u for u, on in self._live(directory).items() if on is True})

    def delete(self, directory: Directory, user_ids: list[str]) -> dict[str, bool]:
        """Delete (Entra keeps the account restorable for 30 days); confirmed from deleted items."""
        self._each(directory, [{"method": "DELETE", "url": f"/users/{u}"} for u in user_ids])
        return _read_back(user_ids, lambda: self._deleted(directory) - set(self._live(directory)))

    def erase(self, directory: Directory, user_ids: list[str]) -> dict[str, bool]:
        """Delete for good (an erasure request): deleted, then removed from deleted items so it
        cannot be restored; confirmed when the tenant lists the account in neither place."""
        deleted = [u for u, ok in self.delete(directory, user_ids).items() if ok]
        self._each(directory, [{"method": "DELETE", "url": f"/directory/deletedItems/{u}"} for u in deleted])
        return _read_back(user_ids, lambda: set(user_ids) - self._deleted(directory) - set(self._live(directory)))

    def restore(self, directory: Directory, user_ids: list[str]) -> dict[str, bool]:
        """Bring accounts back from deleted items (as they were: still disabled); confirmed by listing."""
        self._each(directory, [{"method": "POST", "url": f"/directory/deletedItems/{u}/restore"} for u in user_ids])
        return _read_back(user_ids, lambda: set(self._live(directory)))

    def _each(self, directory: Directory, requests: list[dict]) -> None:
        # Failures are not raised here: the read-back that follows is what decides.
        for number, request in enumerate(requests):
            request["id"] = str(number)
        for start in range(0, len(requests), MAX_BATCH):
            directory.client.batch(requests[start : start + MAX_BATCH])

    @staticmethod
    def _live(directory: Directory) -> dict[str, bool]:
        """Every account in the tenant now: id -> accountEnabled."""
        return {u["id"]: u.get("accountEnabled")
                for u in directory.client.pages("/users", {"$select": "id,accountEnabled", "$top": "999"})}

    @staticmethod
    def _deleted(directory: Directory) -> set[str]:
        return {u["id"] for u in directory.client.pages("/directory/deletedItems/microsoft.graph.user",
                                                         {"$select": "id", "$top": "999"})}  # fmt: skip

    # School Data Sync files, when the school chose them

    def import_file_name(self, batch_id: str) -> str:
        if self.mode == FILE:
            return f"{self.id}-sds-{batch_id}"  # a folder: SDS needs each file under its own name
        return super().import_file_name(batch_id)

    def write_import(self, path: Path, pupils: list[PupilView], school_name: str) -> None:
        """The full set of SDS v2.1 files in the folder ``path``; users.csv is written last, so a
        folder whose users.csv exists is whole."""
        written = SdsFiles.files(self, pupils, school_name)
        folder = files.make_private_dir(path)
        for leftover in folder.iterdir():  # a file from other settings would be uploaded with the rest
            if leftover.name not in written:
                leftover.unlink()
        for name in sorted(written, key=lambda n: n == "users.csv"):
            files.atomic_write_bytes(folder / name, written[name])

    def passwords_in(self, path: Path) -> dict[str, str]:
        if self.mode != FILE:
            return {}
        users = path / "users.csv"
        if not users.is_file():
            return {}
        rows = list(csv.DictReader(io.StringIO(users.read_text(encoding="utf-8"))))
        return {row["username"].partition("@")[0]: row["password"] for row in rows if row.get("password")}

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


# School Data Sync v2.1 files (reference/platforms.md §3.6): the required headers only, since
# optional headers may be left out. Every upload holds every pupil: SDS marks the missing inactive.
SDS_FILES_WRITTEN = ("orgs.csv", "users.csv", "roles.csv", "classes.csv", "enrollments.csv")


class SdsFiles:
    """The School Data Sync side of the connector, kept apart from the Graph side."""

    @staticmethod
    def files(connector: Microsoft365, pupils: list[PupilView], school_name: str) -> dict[str, bytes]:
        settings = connector.settings
        org = settings.domain  # a stable id for the school that is no one's personal data
        users = [[p["pseudonymous_id"], f"{p['username']}@{settings.domain}", p["forename"], p["surname"],
                  p.get("password", "")] for p in pupils]  # fmt: skip
        out = {
            "orgs.csv": files.csv_bytes(["sourcedId", "name", "type"], [[org, school_name, "school"]]),
            "users.csv": files.csv_bytes(["sourcedId", "username", "givenName", "familyName", "password"], users),
            "roles.csv": files.csv_bytes(["userSourcedId", "orgSourcedId", "role"],
                                         [[p["pseudonymous_id"], org, "student"] for p in pupils]),
        }  # fmt: skip
        if settings.class_groups:
            classes = sorted({p["class_name"] for p in pupils if p.get("class_name")})
            class_id = {name: f"{org}-class-{name}" for name in classes}
            out["classes.csv"] = files.csv_bytes(
                ["sourcedId", "orgSourcedId", "title"],
                [[class_id[name], org, settings.class_group_name.replace("{class_name}", name)] for name in classes],
            )
            out["enrollments.csv"] = files.csv_bytes(
                ["classSourcedId", "userSourcedId", "role"],
                [[class_id[p["class_name"]], p["pseudonymous_id"], "student"] for p in pupils if p.get("class_name")],
            )
        return out


READ_BACK_PAUSES = (1.0, 3.0)  # the directory can take a moment to show a change everywhere


def _read_back(user_ids: list[str], confirmed: Callable[[], set[str]]) -> dict[str, bool]:
    """Which of these accounts the tenant shows changed, reading again a little later for any
    that do not show it yet (never trusting the call itself)."""
    seen = confirmed()
    for pause in READ_BACK_PAUSES:
        if set(user_ids) <= seen:
            break
        time.sleep(pause)
        seen = confirmed()
    return {u: u in seen for u in user_ids}


def _already(reply: Reply) -> bool:
    """Graph's answers for a change that is already so: a member added twice, or removed twice."""
    message = reply.error_message
    return (reply.status == 400 and "already exist" in message) or (reply.status == 404 and "do not exist" in message)


def _upn_conflict(reply: Reply) -> bool:
    """Graph's answer when the sign-in name is already someone's: 400 naming userPrincipalName."""
    if reply.status != 400:
        return False
    details = (reply.body.get("error") or {}).get("details") or [] if isinstance(reply.body, dict) else []
    return any(d.get("target") == "userPrincipalName" for d in details) or "userPrincipalName" in reply.error_message
