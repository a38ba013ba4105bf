"""What an apply would send, per platform: the creates and updates, each with the exact values
the platform would receive (a ``PupilView`` of its declared fields), and who has left."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from provisioner.connector import ApiSession, Connector, PupilView
from provisioner.models import Pupil, Roster
from provisioner.state import AccountStatus, BatchStatus, State
from provisioner.usernames import UsernameAllocator, base_username

CREATE, UPDATE, UNCHANGED, LEAVER = "create", "update", "unchanged", "leaver"
# The actions of the machine-readable summary; disable, delete and restore belong to the
# leaver cleanup and are zero until it acts.
SUMMARY_ACTIONS = ("create", "update", "disable", "delete", "restore", "unchanged")

Pseudonymise = Callable[[str, str], str]  # (platform, pupil key) -> the platform's pseudonymous id


@dataclass(frozen=True)
class Change:
    action: str
    pupil_key: str
    row: int | None  # the roster row, so the admin can find the pupil
    values: PupilView  # every declared field, as it would be sent
    changed: tuple[str, ...] = ()
    username: str | None = None


@dataclass
class PlatformPlan:
    platform: str
    name: str
    fields: tuple[str, ...]
    makes_accounts: bool = True  # False: the platform makes its own accounts from the MIS; apply records them
    changes: list[Change] = field(default_factory=list)
    resuming: int = 0  # changes of an interrupted apply, finished before this plan runs
    fixes: list = field(default_factory=list)  # API platforms: licences and groups out of step (connector.drift)

    def of(self, action: str) -> list[Change]:
        return [c for c in self.changes if c.action == action]

    @property
    def to_send(self) -> list[Change]:
        return [c for c in self.changes if c.action in (CREATE, UPDATE)]

    def counts(self) -> dict[str, int]:
        counted = Counter(c.action for c in self.changes)
        out = {action: counted.get(action, 0) for action in SUMMARY_ACTIONS}
        out["leavers"] = counted.get(LEAVER, 0)
        return out

    def changed_fields(self) -> dict[str, int]:
        return dict(Counter(f for c in self.of(UPDATE) for f in c.changed))

    def fix_counts(self) -> dict[str, int]:
        return dict(Counter(fix.kind for fix in self.fixes))


@dataclass
class Plan:
    today: date
    pupils: int
    platforms: dict[str, PlatformPlan]
    already_left: int = 0  # roster pupils whose leaving date has passed: no account is made
    withheld: int = 0  # roster pupils under an erasure request: nothing is sent about them
    left_out: int = 0  # roster rows left out for errors (--skip-invalid-rows)

    @property
    def has_work(self) -> bool:
        return any(p.to_send or p.resuming or p.fixes for p in self.platforms.values())

    def as_dict(self) -> dict:
        return {
            "as_of": self.today.isoformat(),
            "pupils": self.pupils,
            "already_left": self.already_left,
            "withheld": self.withheld,
            "left_out": self.left_out,
            "platforms": {
                pid: {**p.counts(), "fields": list(p.fields), "fields_changed": p.changed_fields(),
                      "resuming": p.resuming, "in_step": p.fix_counts()}
                for pid, p in self.platforms.items()
            },
        }  # fmt: skip


def _as_text(value: object) -> str:
    return "" if value is None else value.isoformat() if isinstance(value, date) else str(value)


def project(connector: Connector, pupil: Pupil, *, username: str, pseudonymise: Pseudonymise) -> PupilView:
    """The fields one platform receives about one pupil, as text; no other field is read.

    ``pseudonymise(platform, pupil key)`` makes the platform's pseudonymous id. The password
    is declared but has no value: it is made when the file is written or the account set, and
    never stored.
    """
    values = {}
    for name in connector.sent_fields:
        if name == "password":
            continue
        if name == "pseudonymous_id":
            values[name] = pseudonymise(connector.id, pupil.key)
        elif name == "username":
            values[name] = username
        else:
            values[name] = _as_text(getattr(pupil, name))
    return connector.view(values)


def has_left(pupil: Pupil, today: date) -> bool:
    return pupil.leaving_date is not None and pupil.leaving_date <= today


def on_roll(roster: Roster, today: date, excluded_statuses: set[str]) -> set[str]:
    """The pupils who should have accounts: not left, and not of an enrolment status the school excludes."""
    return {p.key for p in roster.pupils if not has_left(p, today) and p.enrolment_status not in excluded_statuses}


def withheld(state: State, roster: Roster) -> set[str]:
    """Roster pupils under an erasure request (``pupil erase``): no account is made or kept."""
    held = state.erasure_held()
    if not held:
        return set()

    def keys(pupil: Pupil) -> set[str]:  # a hold made before any account was made may use either id
        return {pupil.key, *([f"mis:{pupil.mis_id}"] if pupil.mis_id else []), *([f"upn:{pupil.upn}"] if pupil.upn else [])}

    return {p.key for p in roster.pupils if any(state.subject(k) in held for k in keys(p))}


def plan_platform(
    state: State, connector: Connector, roster: Roster, wanted: set[str], pseudonymise: Pseudonymise,
    remote_taken: set[str] = frozenset(),
) -> PlatformPlan:  # fmt: skip
    """What one platform needs for the pupils ``wanted`` on it; ``remote_taken``: usernames the
    platform already holds for others."""
    platform = connector.id
    makes_accounts = connector.delivery.makes_accounts
    accounts = state.accounts(platform)
    # An interrupted apply's rows count as sent: they are finished before anything new.
    resuming = 0
    for batch in state.batches(platform, status=BatchStatus.WRITING):
        for send in state.pending_sends(platform, batch.id):
            resuming += 1
            if send.pupil_key in accounts:
                accounts[send.pupil_key] = replace(accounts[send.pupil_key], sent=send.fields)
    usernames = UsernameAllocator(state.usernames(platform) | remote_taken, connector.username_max_length)
    resets = state.password_resets(platform) if connector.issues_passwords else set()
    plan = PlatformPlan(platform, connector.name, connector.sent_fields, makes_accounts=makes_accounts,
                        resuming=resuming)  # fmt: skip

    def view(pupil: Pupil, username: str) -> PupilView:
        return project(connector, pupil, username=username, pseudonymise=pseudonymise)

    placed: set[str] = set()
    for pupil in roster.pupils:
        if pupil.key not in wanted:
            continue
        placed.add(pupil.key)
        account = accounts.get(pupil.key)
        if account is not None and account.status is AccountStatus.DELETED:
            account = None  # came back after their account was deleted: a new one (never the old username)
        if account is not None and not makes_accounts:
            plan.changes.append(Change(UNCHANGED, pupil.key, pupil.row, connector.view({}), (), account.username))
            continue  # the platform keeps itself up to date from the MIS
        if account is None or not account.username and makes_accounts:
            # New, or held until now through a MIS sync: the tool makes the account from here on.
            # A platform that reads the MIS itself makes its own username.
            username = usernames.allocate(base_username(connector.effective_username_template, pupil)) \
                if makes_accounts else ""  # fmt: skip
            plan.changes.append(Change(CREATE, pupil.key, pupil.row, view(pupil, username), connector.sent_fields,
                                       username))  # fmt: skip
            continue
        values = view(pupil, account.username)
        changed = tuple(name for name in values if account.sent.get(name) != values[name])
        if pupil.key in resets:
            changed += ("password",)
        action = UPDATE if changed else UNCHANGED
        plan.changes.append(Change(action, pupil.key, pupil.row, values, changed, account.username))
    # Rows left out for errors may be pupils still on roll: absence proves nothing then.
    if roster.invalid_rows == 0:
        for key, account in accounts.items():
            if key not in placed and account.status.held:
                plan.changes.append(Change(LEAVER, key, None, connector.view({}), (), account.username))
    return plan


def make_plan(
    state: State, roster: Roster, connectors: list[Connector], today: date, *, excluded_statuses: set[str],
    pseudonymise: Pseudonymise, sessions: Mapping[str, ApiSession] | None = None,
) -> Plan:  # fmt: skip
    """The plan; ``sessions`` (API platforms, read at apply) say which usernames are taken there
    and what hangs off the accounts."""
    sessions = sessions or {}
    wanted = on_roll(roster, today, excluded_statuses) - withheld(state, roster)
    platforms = {}
    for connector in connectors:
        session = sessions.get(connector.id)
        taken = session.taken_usernames if session else set()
        platforms[connector.id] = plan_platform(state, connector, roster, wanted, pseudonymise, taken)
        if session is not None:
            platforms[connector.id].fixes = drift(state, connector, session, roster, today, excluded_statuses)
    return Plan(today=today, pupils=len(roster.pupils), platforms=platforms,
                already_left=sum(1 for p in roster.pupils if has_left(p, today)),
                withheld=len(withheld(state, roster)), left_out=roster.invalid_rows)  # fmt: skip


def drift(state: State, connector, session: ApiSession, roster: Roster, today: date, excluded_statuses: set[str]) -> list:
    """An API platform's licences and groups that differ from the state: pupils on roll keep
    theirs; leavers leave their class groups (their accounts are the leaver cleanup's)."""
    on_roll_now = on_roll(roster, today, excluded_statuses)
    held, gone = {}, set()
    for key, account in state.accounts(connector.id).items():
        if not account.remote_id:
            continue
        if key in on_roll_now and account.status is AccountStatus.ACTIVE:
            held[account.remote_id] = connector.view(account.sent)
        elif key in on_roll_now or roster.invalid_rows == 0:  # rows left out for errors prove nothing
            gone.add(account.remote_id)
    return connector.drift(session, held, gone)
