"""Accounts: each pupil a user in Entra ID, made or updated 20 to a JSON batch, found again by
its pseudonymous ``employeeId`` so a run killed at any point and run again leaves one account
each; and the request bodies, which hold only what the connector declares (read from the
pupil's guarded view)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator

from connectors.microsoft_365.directory import Directory
from connectors.microsoft_365.graph import MAX_BATCH, Reply
from provisioner.connector import Outcome, PupilView, RemoteAccount, Work

CREATE, UPDATE = "create", "update"
USER_FIELDS = "id,userPrincipalName,givenName,surname,department,employeeId,accountEnabled"


class Accounts:
    """The account side of the Microsoft 365 connector (a mixin: needs ``settings``)."""

    def push(self, directory: Directory, work: list[Work], next_username: Callable[[str], str],
             progress: Callable[[int], None] | None = None) -> Iterator[Outcome]:  # fmt: skip
        """Carry out recorded sends, 20 to a batch, ``workers`` batches in flight; yield each outcome.

        Chunks are submitted only as earlier ones finish, so a failure stops the run after at
        most ``workers`` more chunks (whose accounts the next apply adopts).
        """
        # Threads (and the logging they load) only when Graph is written to: every command
        # builds this connector, status and plan too.
        from concurrent.futures import ThreadPoolExecutor

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
            item.values = item.values.with_values(username=next_username(item.values["username"]))
            reply = client.request("POST", "/users", json=self._new_user(directory, item.values))
        return Outcome(item.send_id, False, error="NoFreeSignInName")

    # In step: licences and class groups

    def look_up(self, directory: Directory, user_ids: list[str]) -> dict[str, RemoteAccount | None]:
        """These accounts as the tenant shows them now, live or in deleted items (restorable)."""
        found: dict[str, RemoteAccount | None] = {}
        for where, deleted in (("/users", False), ("/directory/deletedItems", True)):
            wanted = [u for u in user_ids if u not in found]
            requests = [{"id": str(n), "method": "GET", "url": f"{where}/{u}?$select={USER_FIELDS}"}
                        for n, u in enumerate(wanted)]  # fmt: skip
            for start in range(0, len(requests), MAX_BATCH):
                for request_id, reply in directory.client.batch(requests[start : start + MAX_BATCH]).items():
                    if reply.ok:
                        found[wanted[int(request_id)]] = _remote_account(reply.body, deleted)
        return {u: found.get(u) for u in user_ids}

    # Request bodies: only what the platform holds

    def _new_user(self, directory: Directory, values: PupilView) -> dict:
        body = {
            "accountEnabled": True,
            "mailNickname": values["username"],
            "userPrincipalName": f"{values['username']}@{directory.domain}",
            "employeeId": values["pseudonymous_id"],
            "usageLocation": "GB",
        }
        body.update(self._changes(values, [name for name in values if name != "pseudonymous_id"]))
        return body

    def _changes(self, values: PupilView, changed: list[str]) -> dict:
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


def _remote_account(user: dict, deleted: bool) -> RemoteAccount:
    values = {"forename": user.get("givenName") or "", "surname": user.get("surname") or "",
              "pseudonymous_id": user.get("employeeId") or ""}  # fmt: skip
    if user.get("department"):
        values["class_name"] = user["department"]
    return RemoteAccount(user["id"], (user.get("userPrincipalName") or "").partition("@")[0],
                         bool(user.get("accountEnabled")), deleted, values)  # fmt: skip


def _upn_conflict(reply: Reply) -> bool:
    """Graph's answer when the sign-in name is already someone's: 400 naming userPrincipalName."""
    if reply.status != 400:
        return False
    details = (reply.body.get("error") or {}).get("details") or [] if isinstance(reply.body, dict) else []
    return any(d.get("target") == "userPrincipalName" for d in details) or "userPrincipalName" in reply.error_message
