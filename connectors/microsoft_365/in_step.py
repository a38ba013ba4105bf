"""In step: what hangs off the accounts, kept as the state says. Each pupil on roll holds the
licence (through a licence group, 20 members a write, or directly with ``assignLicense``) and,
if the school turns class groups on, belongs to their class's security group; leavers leave
their class groups. Read from the tenant each run, so a run killed part way is finished by
the next."""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from connectors.microsoft_365.directory import CLASS_GROUP_MARK, Directory
from connectors.microsoft_365.graph import MAX_BATCH, Reply
from provisioner.connector import PupilView
from provisioner.errors import RemoteError


@dataclass(frozen=True)
class Fix:
    """One thing out of step with the state: a licence to assign, a class group to join or leave."""

    kind: Literal["license", "join", "leave"]
    user_id: str
    group: str = ""  # join: the class group's name (it may not exist yet); leave: its id


class InStep:
    """Licences and class groups (a mixin of the Microsoft 365 connector: needs ``settings``)."""

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
        from concurrent.futures import ThreadPoolExecutor  # only when Graph is written to (see accounts.py)

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


def _already(reply: Reply) -> bool:
    """Graph's answers for a change that is already so: a member added twice, or removed twice."""
    message = reply.error_message
    return (reply.status == 400 and "already exist" in message) or (reply.status == 404 and "do not exist" in message)
