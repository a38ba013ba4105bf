"""The leaver cleanup's hooks: block sign-in, let a returner back, delete (restorable for 30
days), restore, and erase for good. Each is confirmed by reading the tenant back afterwards,
never by trusting the call."""

from __future__ import annotations

import time
from collections.abc import Callable

from connectors.microsoft_365.directory import Directory
from connectors.microsoft_365.graph import MAX_BATCH


class Lifecycle:
    """The leaver hooks of the Microsoft 365 connector (a mixin)."""

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
