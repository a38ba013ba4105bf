"""The API capability: a platform the tool calls itself, and the leaver hooks it offers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from provisioner.connector.base import Connector
from provisioner.connector.view import PupilView

# The leaver cleanup's hooks an API platform may offer. A platform lists the ones it has in
# ``lifecycle``; the policy and the contract suite go by that list, never by a missing method.
LIFECYCLE = ("disable", "enable", "delete", "restore", "erase")


@dataclass(kw_only=True)
class ApiSession:
    """What ``connect`` returns: a signed-in session and what it read of the platform.

    The core reads only ``taken_usernames`` (sign-in names someone else holds there, so none is
    planned); everything else a connector keeps in its own subclass.
    """

    taken_usernames: set[str] = field(default_factory=set)


@dataclass
class Work:
    """One recorded send, with its new password if it has one (never stored)."""

    send_id: int
    action: str  # create, update
    values: PupilView
    changed: list[str]
    remote_id: str | None  # the platform's id for the account, once known


@dataclass
class Outcome:
    """What became of one ``Work``: done (with the account's final username and id) or failed."""

    send_id: int
    ok: bool
    username: str | None = None
    remote_id: str | None = None
    error: str | None = None  # the platform's error code; never pupil data


@dataclass(frozen=True)
class RemoteAccount:
    """One account as the platform shows it when read back."""

    remote_id: str
    username: str
    enabled: bool
    deleted: bool = False  # deleted, but the platform can still restore it
    values: dict[str, str] = field(default_factory=dict)  # the pupil fields it shows, by vocabulary name


class ApiConnector(Connector):
    """A platform reached through its API. ``connect`` signs in and reads what the platform holds;
    ``push`` carries out recorded sends; ``look_up`` reads accounts back. Licences, groups and
    anything else hanging off the accounts are kept in step by ``drift`` and ``reconcile``.

    The leaver hooks (``disable``, ``enable``, ``delete``, ``restore``, ``erase``) each take the
    platform's own ids and return {id: confirmed}, confirmed by reading the platform back, never
    by trusting the call. A platform offers the ones listed in ``lifecycle``.
    """

    lifecycle: ClassVar[frozenset[str]] = frozenset()

    def connect(self, school_domain: str) -> ApiSession:
        """Sign in and read what the platform holds; the session is passed back to every call."""
        raise NotImplementedError

    def push(self, session: ApiSession, work: list[Work], next_username: Callable[[str], str],
             progress: Callable[[int], None] | None = None) -> Iterator[Outcome]:  # fmt: skip
        """Carry out recorded sends and yield an ``Outcome`` for each. Must be safe to repeat: a
        send whose account already exists (found by its pseudonymous id) is adopted.
        ``next_username(taken)`` gives the next free username when the platform says one is taken."""
        raise NotImplementedError

    def look_up(self, session: ApiSession, remote_ids: list[str]) -> dict[str, RemoteAccount | None]:
        """These accounts as the platform shows them now (read afresh); None for one it no longer
        has in any form."""
        raise NotImplementedError

    def drift(self, session: ApiSession, held: Mapping[str, PupilView], gone: set[str] = frozenset()) -> list:
        """What hangs off the accounts (licences, groups) and differs from the state; none by default.
        ``held``: remote id -> what an account on roll was sent; ``gone``: leavers' remote ids."""
        return []

    def preflight(self, session: ApiSession, new_accounts: int, fixes: list) -> None:
        """Raise before anything is sent if the platform cannot take this apply (no free licences)."""

    def reconcile(self, session: ApiSession, fixes: list) -> Counter:
        """Carry out ``drift``'s fixes; safe to repeat. Returns how many of each kind were done."""
        return Counter()

    def disable(self, session: ApiSession, remote_ids: list[str]) -> dict[str, bool]:
        """Stop these accounts signing in, keeping them."""
        raise NotImplementedError(f"{self.name} cannot disable accounts")

    def enable(self, session: ApiSession, remote_ids: list[str]) -> dict[str, bool]:
        """Let disabled accounts sign in again (a returner)."""
        raise NotImplementedError(f"{self.name} cannot enable accounts")

    def delete(self, session: ApiSession, remote_ids: list[str]) -> dict[str, bool]:
        """Delete a leaver's accounts (the platform may keep them restorable for a while)."""
        raise NotImplementedError(f"{self.name} cannot delete accounts")

    def restore(self, session: ApiSession, remote_ids: list[str]) -> dict[str, bool]:
        """Bring back accounts deleted but still restorable."""
        raise NotImplementedError(f"{self.name} cannot restore accounts")

    def erase(self, session: ApiSession, remote_ids: list[str]) -> dict[str, bool]:
        """Delete for good (an erasure request): not restorable afterwards."""
        raise NotImplementedError(f"{self.name} cannot erase accounts")
