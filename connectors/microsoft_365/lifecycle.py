"""The leaver cleanup's hooks: block sign-in, let a returner back, delete (restorable for 30
days), restore, and erase for good. Each is confirmed by reading the tenant back afterwards,
never by trusting the call.

The read-back asks only for the accounts concerned, 15 to a ``$filter=id in (...)`` query
(Graph's limit on the values one ``in`` may list): a deletion in deleted items, an erasure in
neither place (deleted items read only for those not live), the rest among the live users. It
never lists the tenant, so the thousands of other users a tenant holds (staff, the other
schools of a trust) are not read: a few leavers cost a request or two where a listing costs
one per 999 users, every time. A whole year group leaving (more than about 15 accounts in
every 999 of the tenant) takes more requests than a listing would, each returning 15 users.
A filter that finds nothing leaves the account out, so a missing account is told from a
failed read: a refused query raises, and no step is confirmed on a read that did not happen.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from connectors.microsoft_365.directory import Directory
from connectors.microsoft_365.graph import MAX_BATCH

IN_LIMIT = 15  # values one $filter "in" may list
LIVE, DELETED = "live", "deleted"
DELETED_USERS = "/directory/deletedItems/microsoft.graph.user"


class Lifecycle:
    """The leaver hooks of the Microsoft 365 connector (a mixin)."""

    def disable(self, directory: Directory, user_ids: list[str]) -> dict[str, bool]:
        """Block sign-in (``accountEnabled`` false); confirmed by reading those accounts back."""
        self._each(directory, [{"method": "PATCH", "url": f"/users/{u}", "body": {"accountEnabled": False}}
                               for u in user_ids])  # fmt: skip
        return _read_back(user_ids, lambda ids: {u for u, on in self._live(directory, ids).items() if on is False})

    def enable(self, directory: Directory, user_ids: list[str]) -> dict[str, bool]:
        """Let a returner sign in again; confirmed by reading those accounts back."""
        self._each(directory, [{"method": "PATCH", "url": f"/users/{u}", "body": {"accountEnabled": True}}
                               for u in user_ids])  # fmt: skip
        return _read_back(user_ids, lambda ids: {u for u, on in self._live(directory, ids).items() if on is True})

    def delete(self, directory: Directory, user_ids: list[str]) -> dict[str, bool]:
        """Delete (Entra keeps the account restorable for 30 days); confirmed from deleted items."""
        self._each(directory, [{"method": "DELETE", "url": f"/users/{u}"} for u in user_ids])
        # An account is live or in deleted items, never both: found there, it is deleted.
        return _read_back(user_ids, lambda ids: {u["id"] for u in self._found(directory, DELETED_USERS, ids, "id")})

    def erase(self, directory: Directory, user_ids: list[str]) -> dict[str, bool]:
        """Delete for good (an erasure request): deleted, then removed from deleted items so it
        cannot be restored; confirmed when the tenant shows the account in neither place."""
        deleted = [u for u, ok in self.delete(directory, user_ids).items() if ok]
        self._each(directory, [{"method": "DELETE", "url": f"/directory/deletedItems/{u}"} for u in deleted])
        return _read_back(user_ids, lambda ids: set(ids) - set(self._where(directory, ids)))

    def restore(self, directory: Directory, user_ids: list[str]) -> dict[str, bool]:
        """Bring accounts back from deleted items (as they were: still disabled); confirmed by reading back."""
        self._each(directory, [{"method": "POST", "url": f"/directory/deletedItems/{u}/restore"} for u in user_ids])
        return _read_back(user_ids, lambda ids: set(self._live(directory, ids)))

    def _each(self, directory: Directory, requests: list[dict]) -> None:
        # Failures are not raised here: the read-back that follows is what decides.
        for number, request in enumerate(requests):
            request["id"] = str(number)
        for start in range(0, len(requests), MAX_BATCH):
            directory.client.batch(requests[start : start + MAX_BATCH])

    def _live(self, directory: Directory, user_ids: list[str]) -> dict[str, bool]:
        """Those of these accounts the tenant holds now (not deleted): id -> accountEnabled."""
        return {u["id"]: u.get("accountEnabled") for u in self._found(directory, "/users", user_ids, "id,accountEnabled")}

    def _where(self, directory: Directory, user_ids: list[str]) -> dict[str, str]:
        """Where each of these accounts is now, ``live`` or ``deleted`` (restorable); one the
        tenant holds in neither place is left out. Deleted items are read only for the rest."""
        where = dict.fromkeys(self._live(directory, user_ids), LIVE)
        rest = [u for u in user_ids if u not in where]
        found = self._found(directory, DELETED_USERS, rest, "id")
        return where | {u["id"]: DELETED for u in found}

    def _found(self, directory: Directory, path: str, user_ids: list[str], select: str) -> list[dict]:
        """The accounts among ``user_ids`` that ``path`` lists, 15 ids to a filtered query."""
        chunks = [user_ids[i : i + IN_LIMIT] for i in range(0, len(user_ids), IN_LIMIT)]

        def read(chunk: list[str]) -> list[dict]:
            quoted = ",".join("'{}'".format(u.replace("'", "''")) for u in chunk)
            return list(directory.client.pages(path, {"$filter": f"id in ({quoted})", "$select": select}))

        from concurrent.futures import ThreadPoolExecutor  # only when Graph is read (see accounts.py)

        with ThreadPoolExecutor(max(1, min(self.settings.workers, len(chunks)))) as pool:
            return [user for found in pool.map(read, chunks) for user in found]


READ_BACK_PAUSES = (1.0, 3.0)  # the directory can take a moment to show a change everywhere


def _read_back(user_ids: list[str], confirmed: Callable[[list[str]], set[str]]) -> dict[str, bool]:
    """Which of these accounts the tenant shows changed, reading again a little later only the
    ones that do not show it yet (never trusting the call itself)."""
    seen = confirmed(list(user_ids))
    for pause in READ_BACK_PAUSES:
        missing = [u for u in user_ids if u not in seen]
        if not missing:
            break
        time.sleep(pause)
        seen |= confirmed(missing)
    return {u: u in seen for u in user_ids}
