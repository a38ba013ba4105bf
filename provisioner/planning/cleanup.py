"""What the termly leaver cleanup would do today on each platform, what falls due later, and
the guard that refuses a cleanup that looks like a bad roster rather than real leavers.

A pupil is a leaver on a platform when their leaving date has passed, their enrolment status
is one the school excludes, they are missing from a complete roster (reference/
uk-school-data.md §6.3), or they are on roll but outside the platform's scope (its year groups
and classes): a platform keeps only the pupils it serves, and the guard counts these removals
like any others, so a scope narrowed by mistake is refused like a roster cut short. Each
platform's policy (settings, else its register entry) says how many days after leaving the
account is disabled (only where the platform can disable) and deleted. A returner (or a pupil
back in scope) whose account is not yet deleted gets it back, username and all. An account the
platform holds after the admin removed it (TTRS's Leavers group) is a leaver dealt with: it is
not listed again, and a returner's is restored (the admin restores it on the platform), never
replaced by a new one while it is held.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from provisioner.connector import Connector
from provisioner.errors import GuardRefused
from provisioner.models import Pupil, Roster
from provisioner.planning.actions import (
    ABSENT, DELETE, DISABLE, ERASED, EXCLUDED, LEFT, OUT_OF_SCOPE, RESTORE, RETURNED,
)  # fmt: skip
from provisioner.planning.identity import Matched, held_name, match
from provisioner.planning.provisioning import first_count
from provisioner.register.entries import shipped_entries
from provisioner.state import Account, AccountStatus, Identity, State

REMOVING = (DISABLE, DELETE)
UNKNOWN = "unknown"  # not on a roster that is not complete: neither on roll nor a leaver
MISSED = (ABSENT, OUT_OF_SCOPE)  # reasons that rest on the roster leaving a pupil out: the guard counts them when first seen
# Each reason in words for the admin, as a front end shows a cleanup.
REASON_WORDS = {
    LEFT: "left (leaving date passed)",
    ABSENT: "not on the roster",
    EXCLUDED: "of an enrolment status the school excludes",
    OUT_OF_SCOPE: "on roll but outside the platform's scope",
    RETURNED: "back on roll (or back in scope)",
    ERASED: "under an erasure request",
}


@dataclass(frozen=True)
class Step:
    action: str  # disable, delete, restore
    pupil_key: str
    username: str
    reason: str  # left, absent, excluded, out_of_scope, returned, erased
    left_on: date | None
    due: date
    was: AccountStatus  # the account's status before this step
    name: str = ""  # who, for the admin: as the roster says, or as last recorded
    class_name: str = ""
    first_missed: bool = False  # an active account's pupil missed for the first time: the clock starts now
    year_group: str = ""  # of a pupil first missed, as last recorded: the guard says which years are missing
    # The values the platform was last sent, as the plan read them: a deletion list names the
    # account by them, without reading a trust's leavers' accounts again. None: not read.
    sent: Mapping[str, str] | None = field(default=None, repr=False, compare=False)
    # The account's leaving day and deletion day as the plan read them (ISO dates or None): the
    # cleanup records a leaver's days only where they change, not again for each of a trust's
    # leavers at every cleanup. None: not read.
    recorded: tuple[str | None, str | None] | None = field(default=None, repr=False, compare=False)

    def changes_days(self) -> bool:
        """Whether recording this step's days (``State.record_leaving``) would change the
        account's: a day recorded is kept, and a deletion's day replaces the one recorded."""
        if self.left_on is None:
            return False
        if self.recorded is None:
            return True
        left_on, delete_due = self.recorded
        return left_on is None or (self.action == DELETE and self.due.isoformat() != delete_due)

    def as_dict(self) -> dict:
        return {"action": self.action, "pupil": self.pupil_key, "name": self.name, "class": self.class_name,
                "reason": self.reason, "left_on": self.left_on.isoformat() if self.left_on else None,
                "due": self.due.isoformat()}  # fmt: skip


@dataclass
class PlatformCleanup:
    platform: str
    name: str
    in_service: int  # accounts active now
    erasure_effect: str = ""  # what an erasure does to an account there, in words for the admin
    scope: str = ""  # which pupils the platform serves, in words ("Years 1 to 6")
    leaver_effect: str = ""  # what becomes of a leaver's account where someone else feeds the platform
    steps: list[Step] = field(default_factory=list)  # due now
    waiting: list[Step] = field(default_factory=list)  # the next step of each other leaver, not yet due

    def of(self, action: str) -> list[Step]:
        return [s for s in self.steps if s.action == action]

    @property
    def removals(self) -> int:
        """Accounts this cleanup takes out of service (deleting a disabled one takes nothing more)."""
        return sum(1 for s in self.steps if s.action in REMOVING and s.was is AccountStatus.ACTIVE)

    def counts(self) -> dict[str, int]:
        counted = Counter(s.action for s in self.steps)
        return {action: counted.get(action, 0) for action in (DISABLE, DELETE, RESTORE)}

    def reasons(self, waiting: bool = False) -> dict[str, int]:
        """How many of the steps due now (or ``waiting``) are for each reason (left, out_of_scope...)."""
        return dict(Counter(s.reason for s in (self.waiting if waiting else self.steps)))

    @property
    def scope_removals(self) -> int:
        """Of the removals, accounts of pupils on roll whom the platform no longer serves."""
        return sum(1 for s in self.steps if s.action in REMOVING and s.was is AccountStatus.ACTIVE
                   and s.reason == OUT_OF_SCOPE)  # fmt: skip

    def next_due(self) -> str | None:
        """When the next waiting step falls due (ISO date), if any does."""
        upcoming = min((s.due for s in self.waiting), default=None)
        return upcoming.isoformat() if upcoming else None


@dataclass
class CleanupPlan:
    today: date
    pupils: int
    platforms: dict[str, PlatformCleanup]
    refusal: GuardRefused | None = None  # the guard's verdict: why this cleanup must not go ahead
    partial: bool = False  # the admin said the roster is partial: nobody absent is a leaver

    @property
    def has_work(self) -> bool:
        return any(p.steps for p in self.platforms.values())

    @property
    def absent_only(self) -> int:
        """Pupils who are leavers only because the roster does not list them, whether their step
        is due now or their clock starts now: the admin must agree."""
        return len({s.pupil_key for p in self.platforms.values() for s in p.steps + p.waiting
                    if s.reason == ABSENT and s.action in REMOVING})  # fmt: skip

    def as_dict(self) -> dict:
        return {
            "as_of": self.today.isoformat(),
            "pupils": self.pupils,
            "absent_only": self.absent_only,
            "platforms": {
                pid: {**p.counts(), "in_service": p.in_service, "waiting": len(p.waiting), "next_due": p.next_due(),
                      "reasons": p.reasons(), "waiting_reasons": p.reasons(waiting=True), "scope": p.scope,
                      "leaver_effect": p.leaver_effect or None,
                      "changes": [s.as_dict() for s in p.steps], "upcoming": [s.as_dict() for s in p.waiting]}
                for pid, p in self.platforms.items()
            },
            "partial_roster": self.partial,
            "refused": {"message": self.refusal.message, "hint": self.refusal.hint} if self.refusal else None,
        }  # fmt: skip


def policy(connector: Connector) -> tuple[int | None, int]:
    """(days to disable, days to delete) after leaving; disabling only where the platform can."""
    defaults = shipped_entries().get(connector.id, {}).get("leavers", {})
    settings = connector.settings
    delete_days = settings.delete_after_days
    if delete_days is None:
        delete_days = defaults.get("delete_after_days", 30)
    disable_days = settings.disable_after_days
    if disable_days is None:
        disable_days = defaults.get("disable_after_days", 0)
    return (disable_days if connector.delivery.can_disable else None), delete_days


def leaver_reason(pupil: Pupil | None, account: Account, today: date, excluded: set[str], complete: bool,
                  serves: Callable[[Pupil], bool] = lambda pupil: True):  # fmt: skip
    """(reason, the day they left) for a leaver, or (None, None) for a pupil on roll whom the
    platform serves (``serves``: the connector's; a pupil outside its scope leaves it the day
    that is first seen, and the grace period runs from then)."""
    recorded = date.fromisoformat(account.left_on) if account.left_on else None
    if pupil is not None:
        if pupil.leaving_date is not None and pupil.leaving_date <= today:
            return LEFT, pupil.leaving_date
        if pupil.enrolment_status in excluded:
            return EXCLUDED, recorded or today
        if not serves(pupil):
            return OUT_OF_SCOPE, recorded or today
        return None, None
    if not complete:  # rows left out for errors (or a partial roster) may hold them: absence proves nothing
        return UNKNOWN, None
    return ABSENT, recorded or today


def plan_cleanup(state: State, roster: Roster, connectors: list[Connector], today: date, *,
                 excluded_statuses: set[str], erasing: set[str] | None = None,
                 matched: Matched | None = None) -> CleanupPlan:  # fmt: skip
    """What the cleanup would do today on each platform, and what falls due later.

    A pupil under an erasure request is deleted now wherever they are held, whatever the
    policy; ``erasing`` plans only these pupils, as erased (an erasure request being made).
    An account an apply is still sending (pending) is that apply's to finish first.
    ``matched``: ``match(state, roster)``, when the caller has it.

    A trust's cleanup is a few leavers among 50,000 pupils on seven platforms, so no platform's
    accounts are all read whole (``State.standing``): an active account counting from no leaving
    date (settled, nearly all of them) is counted, and read only if its pupil is not on roll,
    leaving, outside the platform's scope or under an erasure request. Those pupils are found
    among the held pupils the match read (``matched.known``: every pupil with an account), not
    by reading every account's key; the accounts on their way out or back are looked at all.
    Each step is as if every account were looked at, in the order of the pupils' keys."""
    matched = matched or match(state, roster)
    roster, known = matched.roster, matched.known
    by_key = {p.key: p for p in roster.pupils}
    complete = roster.complete
    erasing = erasing or set()
    erased = state.erasure_held()  # no hashing when none is held
    held_back = {key for key in known if state.subject(key) in erased} if erased and not erasing else set()
    # Pupils on roll and not leaving, by year group and class: a platform's scope is asked once
    # for each of these, not once for each pupil (``Connector.serves`` reads only the two).
    staying: dict[tuple[str, str], list[Pupil]] = {}
    for pupil in roster.pupils:
        if (pupil.leaving_date is None or pupil.leaving_date > today) and pupil.enrolment_status not in excluded_statuses:
            staying.setdefault((pupil.year_group, pupil.class_name), []).append(pupil)
    # Every held pupil a platform does not serve today (the match read them all), made once for
    # each scope the platforms have (nearly all serve every pupil on roll).
    looked_at_by_scope: dict[tuple[bool, ...], set[str]] = {}
    platforms = {}
    for connector in connectors:
        if erasing:
            looked_at = erasing
        else:
            scope = tuple(connector.serves(pupils[0]) for pupils in staying.values())
            looked_at = looked_at_by_scope.get(scope)
            if looked_at is None:
                served = {p.key for pupils, serves in zip(staying.values(), scope) if serves for p in pupils}
                looked_at = looked_at_by_scope[scope] = (known.keys() - served) | held_back
        in_service, accounts = state.standing(connector.id, looked_at)
        if erasing:
            accounts = {key: a for key, a in accounts.items() if key in erasing}
        platforms[connector.id] = _platform_cleanup(connector, today, excluded_statuses, complete, by_key, known,
                                                    erasing, held_back, in_service, accounts)  # fmt: skip
    return CleanupPlan(today, len(roster.pupils), platforms, partial=roster.partial)


def _platform_cleanup(connector: Connector, today: date, excluded_statuses: set[str], complete: bool,
                      by_key: dict[str, Pupil], known: dict[str, Identity], erasing: set[str], held_back: set[str],
                      in_service: int, accounts: dict[str, Account]) -> PlatformCleanup:  # fmt: skip
    """One platform's steps due now and those waiting, from ``accounts`` (those that may have a
    step), in the order of their keys; ``in_service``: how many accounts are active."""
    disable_days, delete_days = policy(connector)
    cleanup = PlatformCleanup(connector.id, connector.name, in_service, connector.delivery.erasure_effect,
                              connector.scope.describe(), connector.delivery.leaver_effect())  # fmt: skip
    for key, account in sorted(accounts.items()):
        if account.status in (AccountStatus.DELETED, AccountStatus.PENDING):
            continue  # gone already, or still being sent (that apply finishes it first)
        pupil = by_key.get(key)
        who = _who(pupil, known.get(key), account)
        if key in erasing or key in held_back:
            if account.status is not AccountStatus.DELETION_REQUESTED:
                cleanup.steps.append(Step(DELETE, key, account.username, ERASED, today, today, account.status,
                                          *who, sent=account.sent,
                                          recorded=(account.left_on, account.delete_due)))  # fmt: skip
            continue
        reason, left_on = leaver_reason(pupil, account, today, excluded_statuses, complete, connector.serves)
        if reason == UNKNOWN:
            continue  # not on this roster, which cannot say whether they left: nothing changes
        if reason is None:
            # Back before the account was deleted: it is theirs again (an active one only
            # forgets the leaving date it was counting from).
            if account.status is not AccountStatus.ACTIVE or account.left_on:
                cleanup.steps.append(Step(RESTORE, key, account.username, RETURNED, None, today, account.status,
                                          *who, sent=account.sent))  # fmt: skip
            continue
        if account.status in (AccountStatus.DELETION_REQUESTED, AccountStatus.PLATFORM_HOLD):
            continue  # on a deletion list, or removed and held by the platform until it deletes it
        delete_due = left_on + timedelta(days=delete_days)
        disable_due = left_on + timedelta(days=disable_days) if disable_days is not None else None
        active = account.status is AccountStatus.ACTIVE
        first = active and not account.left_on and reason in MISSED
        if today >= delete_due:
            action, due, to = DELETE, delete_due, cleanup.steps
        elif active and disable_due is not None and today >= disable_due:
            action, due, to = DISABLE, disable_due, cleanup.steps
        elif active and disable_due is not None:
            action, due, to = DISABLE, disable_due, cleanup.waiting
        else:
            action, due, to = DELETE, delete_due, cleanup.waiting
        year = held_name(known.get(key), account.sent)[2] if first and pupil is None else ""
        to.append(Step(action, key, account.username, reason, left_on, due, account.status, *who, first, year,
                       account.sent, (account.left_on, account.delete_due)))  # fmt: skip
    return cleanup


def _who(pupil: Pupil | None, identity: Identity | None, account: Account) -> tuple[str, str]:
    """(name, class) for the admin: as the roster says, else as held."""
    return (pupil.display_name, pupil.class_name) if pupil is not None else held_name(identity, account.sent)[:2]


def refusal(plan: CleanupPlan, max_share: float, allow_large: bool) -> GuardRefused | None:
    """Why this cleanup looks like a bad roster rather than real leavers, or None."""
    if plan.pupils == 0:
        return GuardRefused(
            "the roster lists no pupils, so a cleanup from it would remove every account",
            hint="export the full on-roll list from the MIS again (an empty or header-only file is never accepted)",
        )
    if allow_large:
        return None
    for cleanup in plan.platforms.values():
        missed = [s for s in cleanup.steps + cleanup.waiting if s.first_missed]
        refused = first_count(cleanup.name, cleanup.platform, cleanup.in_service, max_share,
                              [s.year_group for s in missed if s.reason == ABSENT],
                              sum(1 for s in missed if s.reason == OUT_OF_SCOPE), cleanup.scope)  # fmt: skip
        if refused:
            return refused
        if cleanup.in_service and cleanup.removals > max_share * cleanup.in_service:
            share = cleanup.removals / cleanup.in_service
            message = (f"{cleanup.name}: this would take {cleanup.removals} of {cleanup.in_service} accounts out "
                       f"of service ({share:.0%}), more than the {max_share:.0%} limit; a roster that is cut short or "
                       "filtered (one class, one year) looks like this")  # fmt: skip
            hint = ("check the roster is the whole school; if these pupils really left (Year 6 in July), run again "
                    "with --allow-large-cleanup")  # fmt: skip
            outside = cleanup.scope_removals
            if outside:  # a scope narrowed by mistake looks like this too
                message += (f", and so does a scope narrowed by mistake: {outside} of them are pupils on roll "
                            f"outside its scope ({cleanup.scope})")  # fmt: skip
                hint = (f"check the roster is the whole school and year_groups, classes and exclude_classes under "
                        f"[platforms.{cleanup.platform}] say what you meant; if these pupils really left, or really "
                        "no longer use the platform, run again with --allow-large-cleanup")  # fmt: skip
            return GuardRefused(f"{message}. Nothing was changed", hint=hint)
    return None
