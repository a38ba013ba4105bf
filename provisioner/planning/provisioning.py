"""What an apply would send, per platform: the creates and updates, each with the exact values
the platform would receive (a ``PupilView`` of its declared fields), and who has left. A pupil
with nothing to send is counted, not listed: on most days that is nearly every pupil.

Each platform is planned only for the on-roll pupils it serves (its scope, ``Connector.serves``):
a pupil outside it gets no account there, and one who holds an account there but has fallen
outside it (a scope narrowed, a class moved) is a leaver there, for the leaver cleanup."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from itertools import compress
from operator import attrgetter, not_

from provisioner import collector
from provisioner.connector import ApiSession, Connector, PupilView
from provisioner.errors import GuardRefused
from provisioner.models import YEAR_GROUPS, Pupil, Roster, year_group_label
from provisioner.planning.actions import CREATE, LEAVER, UPDATE
from provisioner.planning.identity import Matched, Relink, doubtful, held_name, match, pairings
from provisioner.planning.projection import (
    STATUS_OF, USERNAME_OF, Projection, Pseudonymise, SentTexts, projected_values, pseudonymous_ids_of,
)  # fmt: skip
from provisioner.state import (
    AccountStatus, BatchStatus, Identity, State, decode_sent, normalise_mis_id, sent_text,
)  # fmt: skip
from provisioner.usernames import UsernameAllocator, base_username

# The actions of the machine-readable summary; disable, delete and restore belong to the
# leaver cleanup and are zero until it acts.
SUMMARY_ACTIONS = ("create", "update", "disable", "delete", "restore", "unchanged")

NO_VALUES = PupilView("", {}, ())  # no values held: a create's until it is recorded (``sending``), or once recorded


# Why an account is a leaver's (the leaver cleanup's words, planning/cleanup.py)
ABSENT, LEFT, EXCLUDED, ERASED, OUT_OF_SCOPE = "absent", "left", "excluded", "erased", "out_of_scope"


@dataclass(frozen=True, slots=True)
class Change:
    action: str
    pupil_key: str
    row: int | None  # the roster row, so the admin can find the pupil
    values: PupilView  # every declared field, as it would be sent (a create's are made as it is recorded)
    changed: tuple[str, ...] = ()
    username: str | None = None
    name: str = ""  # who, for the admin: the roster's name, or the one last recorded for a leaver
    class_name: str = ""
    reason: str = ""  # a leaver: absent, left, excluded, erased, out_of_scope
    year_group: str = ""  # a leaver's, as last recorded: the guard says which years are missing
    first_missed: bool = False  # an active account's pupil first missed from the roster (or its scope)

    def with_values(self, values: PupilView) -> Change:
        """This change with its values (a create's, projected as it is recorded)."""
        return Change(self.action, self.pupil_key, self.row, values, self.changed, self.username, self.name,
                      self.class_name, self.reason, self.year_group, self.first_missed)  # fmt: skip

    def without_values(self) -> Change:
        """This change once its values are recorded in the state (``PlatformPlan.forget_values``):
        made directly, as ``dataclasses.replace`` costs a second at a trust's 273,000 changes."""
        return Change(self.action, self.pupil_key, self.row, NO_VALUES, self.changed, self.username, self.name,
                      self.class_name, self.reason, self.year_group, self.first_missed)  # fmt: skip

    def as_dict(self) -> dict:
        out = {"action": self.action, "pupil": self.pupil_key, "name": self.name, "class": self.class_name,
               "row": self.row, "fields_changed": list(self.changed)}  # fmt: skip
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class PlatformPlan:
    platform: str
    name: str
    fields: tuple[str, ...]
    makes_accounts: bool = True  # False: the platform makes its own accounts from the MIS; apply records them
    sent_by: str = ""  # who feeds the platform from the MIS when this tool does not (a data broker's name)
    held: int = 0  # accounts the platform holds before this plan (every status but deleted)
    changes: list[Change] = field(default_factory=list)  # creates, updates and leavers
    unchanged: int = 0  # pupils it holds and serves with nothing to send: counted, not listed
    resuming: int = 0  # changes of an interrupted apply, finished before this plan runs
    fixes: list = field(default_factory=list)  # API platforms: licences and groups out of step (connector.drift)
    scope: str = ""  # which pupils it serves, in words ("Years 1 to 6")
    scope_source: str = ""  # "school setting" or "school policy default"
    out_of_scope: int = 0  # pupils on roll it does not serve: no account is made for them there
    outside: list[tuple[str, str]] = field(default_factory=list)  # those pupils, (name, class), for the admin
    scope_leavers: int = 0  # of the leavers, pupils still on roll who hold an account but are now outside it
    slips_lack: str = ""  # what the login slips this plan prints leave out that pupils need to sign in, in a sentence
    warnings: list[str] = field(default_factory=list)  # settings missing for pupils to use their accounts
    projection: Projection | None = field(default=None, repr=False, compare=False)  # a create's values, made when recorded

    def of(self, action: str) -> list[Change]:
        return [c for c in self.changes if c.action == action]

    def forget_values(self) -> None:
        """Once the platform's changes are recorded in the state (which its files and requests
        are made from), keep who changes and how, not the values each would send: a trust's
        apply then holds one platform's values at a time, not six platforms' until its cards
        are drawn. The answer (``as_dict``, the pages) never shows values."""
        self.changes = [c.without_values() if c.values else c for c in self.changes]
        self.projection = None

    def sending(self) -> Iterator[Change]:
        """``to_send`` as the state records it: each create with its values, projected from its
        pupil as it is read (``Projection``), so a trust's plan holds no create's values and the
        apply holds only those of the rows being recorded."""
        project = self.projection
        for change in self.to_send:
            yield change.with_values(project(change)) if change.action == CREATE else change

    def holding(self) -> Iterator[Change]:
        """``to_send`` as a platform fed from the MIS records it (``State.record_synced``): which
        fields each pupil will hold, each empty, as this tool sends nothing and keeps no copy. A
        create's values are not projected: a trust's 50,000 views would be made only to be read
        for their fields' names."""
        held = self.projection.nothing_held()
        for change in self.to_send:
            yield change.with_values(held) if change.action == CREATE else change

    @property
    def to_send(self) -> list[Change]:
        return [c for c in self.changes if c.action in (CREATE, UPDATE)]

    def counts(self) -> dict[str, int]:
        counted = Counter(c.action for c in self.changes)
        out = {action: counted.get(action, 0) for action in SUMMARY_ACTIONS}
        out["unchanged"] = self.unchanged
        out["leavers"] = counted.get(LEAVER, 0)
        return out

    def changed_fields(self) -> dict[str, int]:
        return dict(Counter(f for c in self.of(UPDATE) for f in c.changed))

    def fix_counts(self) -> dict[str, int]:
        return dict(Counter(fix.kind for fix in self.fixes))

    @property
    def affected(self) -> list[Change]:
        """Every pupil this plan changes something for, in the order the admin reads them."""
        return self.changes


@dataclass
class Plan:
    today: date
    pupils: int
    platforms: dict[str, PlatformPlan]
    already_left: int = 0  # roster pupils whose leaving date has passed: no account is made
    withheld: int = 0  # roster pupils under an erasure request: nothing is sent about them
    left_out: int = 0  # roster rows left out for errors (--skip-invalid-rows)
    relinked: list[Relink] = field(default_factory=list)  # matched to held pupils by UPN, not MIS id
    # New pupils who pair with a held pupil this roster does not list (by UPN, or legal name and
    # date of birth): likely the same child under another id. ``relink`` records them.
    pairable: list[Relink] = field(default_factory=list)
    doubtful: list[Relink] = field(default_factory=list)  # matched by MIS id, but not by name and birth
    partial: bool = False  # the admin said the roster is partial: nobody absent is a leaver
    refusal: GuardRefused | None = None  # the guard's verdict: why apply must not go ahead

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
            "partial_roster": self.partial,
            "relinked": [r.as_dict() for r in self.relinked],
            "pairable": [r.as_dict() for r in self.pairable],
            "doubtful": [r.as_dict() for r in self.doubtful],
            "refused": {"message": self.refusal.message, "hint": self.refusal.hint} if self.refusal else None,
            "platforms": {
                pid: {**p.counts(), "fields": list(p.fields), "fields_changed": p.changed_fields(),
                      "resuming": p.resuming, "in_step": p.fix_counts(), "held": p.held, "scope": p.scope,
                      "scope_source": p.scope_source, "out_of_scope": p.out_of_scope,
                      "slips_lack": p.slips_lack or None, "warnings": p.warnings, "sent_by": p.sent_by or None,
                      "changes": [c.as_dict() for c in p.affected]}
                for pid, p in self.platforms.items()
            },
        }  # fmt: skip


def has_left(pupil: Pupil, today: date) -> bool:
    return pupil.leaving_date is not None and pupil.leaving_date <= today


def on_roll(roster: Roster, today: date, excluded_statuses: set[str]) -> set[str]:
    """The pupils who should have accounts: not left (``has_left``, written out: a call for each
    of a trust's 50,000 pupils costs more than the test), and not of an enrolment status the
    school excludes."""
    return {p.key for p in roster.pupils
            if (p.leaving_date is None or p.leaving_date > today) and p.enrolment_status not in excluded_statuses}


def withheld(state: State, roster: Roster) -> set[str]:
    """Roster pupils under an erasure request (``pupil erase``): no account is made or kept."""
    held = state.erasure_held()
    if not held:
        return set()

    def keys(pupil: Pupil) -> set[str]:
        # A hold made before any account, or kept after the pupil was forgotten, may use either
        # id; the MIS id as written or without its zero-padding (``requests.erase`` records both).
        mis = [f"mis:{pupil.mis_id}", f"mis:{normalise_mis_id(pupil.mis_id)}"] if pupil.mis_id else []
        return {pupil.key, *mis, *([f"upn:{pupil.upn}"] if pupil.upn else [])}

    return {p.key for p in roster.pupils if any(state.subject(k) in held for k in keys(p))}


def plan_platform(
    state: State, connector: Connector, roster: Roster, wanted: set[str], pseudonymise: Pseudonymise,
    remote_taken: set[str] = frozenset(), why_not: Callable[[str], str] = lambda key: ABSENT,
    known: Mapping[str, Identity] | None = None, texts: SentTexts | None = None,
) -> PlatformPlan:  # fmt: skip
    """What one platform needs for the pupils ``wanted`` (on roll, not withheld) that it serves;
    ``remote_taken``: usernames the platform already holds for others; ``why_not(key)``: why a
    held pupil is not wanted (a leaver's reason); ``known``: who held pupils are, to name leavers;
    ``texts``: the ``SentTexts`` of the pupils ``wanted``, made once for every platform."""
    platform = connector.id
    makes_accounts = connector.delivery.makes_accounts
    accounts = state.accounts_to_plan(platform)  # key -> (key, username, status or None, values last sent)
    # An interrupted apply's rows count as sent: they are finished before anything new.
    resuming = 0
    for batch in state.batches(platform, status=BatchStatus.WRITING):
        for send in state.pending_sends(platform, batch.id):
            resuming += 1
            if send.pupil_key in accounts:
                key, username, status, _ = accounts[send.pupil_key]
                accounts[key] = (key, username, status, sent_text(send.fields))
    texts = texts or SentTexts((p for p in roster.pupils if p.key in wanted), [connector])
    allocator: list[UsernameAllocator] = []  # made for the first new account: every username issued there
    template = connector.effective_username_template

    def new_username(pupil: Pupil) -> str:
        if not allocator:
            allocator.append(UsernameAllocator(state.usernames(platform) | remote_taken, connector.username_max_length))
        return allocator[0].allocate(base_username(template, pupil, texts.folded))

    resets = state.password_resets(platform) if connector.issues_passwords else set()
    gone = {status.value for status in AccountStatus if not status.held}  # statuses as the state's rows hold them
    deleted = set(compress(accounts, map(gone.__contains__, map(STATUS_OF, accounts.values()))))
    plan = PlatformPlan(platform, connector.name, connector.sent_fields, makes_accounts=makes_accounts,
                        sent_by=connector.delivery.sent_by, resuming=resuming,
                        held=len(accounts) - len(deleted),
                        scope=connector.scope.describe(), scope_source=connector.scope.source_text(),
                        warnings=connector.setup_warnings())  # fmt: skip
    pupils, keys = texts.pupils, texts.keys
    served = {placement: connector.serves(pupils[i]) for placement, i in texts.first_placed.items()}
    inside: list[bool] | None = None  # whether each pupil is inside the platform's scope, where some are not
    if all(served.values()):
        placed = texts.placed
    else:
        inside = list(map(served.__getitem__, texts.placements))
        plan.outside = [(p.display_name, p.class_name) for p in compress(pupils, map(not_, inside))]
        plan.out_of_scope = len(set(compress(keys, map(not_, inside))))
        pupils, keys = list(compress(pupils, inside)), list(compress(keys, inside))
        placed = set(keys)
    # Most pupils hold an account that was sent what it would be sent now: found a column at a
    # time (``held_alike``), they are counted. Each other pupil (new, changed, an account deleted or
    # held without a username, a password to reset) is decided one by one.
    if makes_accounts:
        alike = texts.held_alike(connector, pseudonymise, keys, accounts)
        irregular = deleted | resets | set(compress(accounts, map(not_, map(USERNAME_OF, accounts.values()))))
    else:  # the platform keeps itself up to date from the MIS: an account held is all it takes
        alike = list(map(accounts.__contains__, keys))
        irregular = deleted
    looked_at = set(compress(range(len(keys)), map(not_, alike)))
    if irregular:
        looked_at.update(compress(range(len(keys)), map(irregular.__contains__, keys)))
    unchanged = len(keys) - len(looked_at)
    nothing = connector.view({})  # a view holds no state of its own: one serves every leaver
    in_order = sorted(looked_at)
    # The pupils' names, made once for every platform (``SentTexts.names``), only where someone
    # is looked at: a day with nothing to send names nobody.
    names = (texts.names if inside is None else list(compress(texts.names, inside))) if in_order else []
    # The ids of the accounts held, made together; a create's is made with its values, as it is
    # recorded (``Projection``).
    ids = pseudonymous_ids_of(connector, pseudonymise, [keys[i] for i in in_order if keys[i] in accounts])
    for i in in_order:
        pupil, key = pupils[i], keys[i]
        account = accounts.get(key)
        if account is not None and STATUS_OF(account) in gone:
            account = None  # came back after their account was deleted: a new one (never the old username)
        if account is not None and not makes_accounts:
            unchanged += 1
            continue  # the platform keeps itself up to date from the MIS
        if account is None or not USERNAME_OF(account) and makes_accounts:
            # New, or held until now through a MIS sync: the tool makes the account from here on.
            # A platform that reads the MIS itself makes its own username.
            username = new_username(pupil) if makes_accounts else ""
            plan.changes.append(Change(CREATE, key, pupil.row, NO_VALUES, connector.sent_fields, username,
                                       names[i], pupil.class_name))  # fmt: skip
            continue
        _, username, _, held = account
        values = projected_values(connector, pupil, username, ids.get(key, ""))
        sent = decode_sent(held)
        changed = () if values.items() <= sent.items() else tuple(n for n, v in values.items() if sent.get(n) != v)
        if key in resets:
            changed += ("password",)
        if not changed:
            unchanged += 1
            continue
        plan.changes.append(Change(UPDATE, key, pupil.row, connector.view(values), changed, username,
                                   names[i], pupil.class_name))  # fmt: skip
    plan.unchanged = unchanged
    plan.projection = Projection(connector, texts.by_key, pseudonymise)
    plan.slips_lack = slips_lack(connector, plan)
    known = known or {}
    leaving = sorted(accounts.keys() - placed)  # in the order of their keys, as before
    left_on = state.left_on(platform, leaving) if leaving else {}
    for key in leaving:
        _, username, status, held = accounts[key]
        status = status or AccountStatus.ACTIVE.value
        if status in gone or status == AccountStatus.PLATFORM_HOLD:
            continue  # a platform's hold of an account removed from use is a leaver dealt with
        reason = why_not(key)
        # Rows left out for errors may be pupils still on roll, and a roster the admin called
        # partial lists only some: absence proves nothing then.
        if reason == ABSENT and not roster.complete:
            continue
        name, class_name, year_group = held_name(known.get(key), decode_sent(held))
        plan.changes.append(Change(
            LEAVER, key, None, nothing, (), username, name, class_name, reason, year_group,
            first_missed=reason in (ABSENT, OUT_OF_SCOPE) and status == AccountStatus.ACTIVE
            and not left_on.get(key),
        ))  # fmt: skip
        if reason == OUT_OF_SCOPE:
            plan.scope_leavers += 1
    return plan


def slips_lack(connector: Connector, plan: PlatformPlan) -> str:
    """A warning, not a refusal, when this plan prints login slips without what the platform's
    pupils need to find their school (``Connector.school_sign_in``): the accounts are right, but
    a child cannot sign in from the slip alone until the school sets it and reprints."""
    missing = connector.slips_lack
    printing = connector.issues_passwords and any(c.action == CREATE or "password" in c.changed for c in plan.to_send)
    if not missing or not printing:
        return ""
    keys = " or ".join(connector.school_sign_in)
    return (f"{connector.name}: pupils need {missing} to sign in, and the login slips leave it out until you set "
            f"{keys} in [platforms.{connector.id}] of provisioner.toml.")


def make_plan(
    state: State, roster: Roster, connectors: list[Connector], today: date, *, excluded_statuses: set[str],
    pseudonymise: Pseudonymise, sessions: Mapping[str, ApiSession] | None = None, matched: Matched | None = None,
) -> Plan:  # fmt: skip
    """The plan; ``sessions`` (API platforms, read at apply) say which usernames are taken there
    and what hangs off the accounts; ``matched``: ``match(state, roster)``, when the caller has it.
    Made with the garbage collector paused: every account and change it reads or makes lives
    until the plan is shown (``provisioner/collector.py``)."""
    with collector.paused():
        return _make_plan(state, roster, connectors, today, excluded_statuses, pseudonymise, sessions or {}, matched)


def _make_plan(
    state: State, roster: Roster, connectors: list[Connector], today: date, excluded_statuses: set[str],
    pseudonymise: Pseudonymise, sessions: Mapping[str, ApiSession], matched: Matched | None,
) -> Plan:  # fmt: skip
    matched = matched or match(state, roster)
    roster = matched.roster
    held_back = withheld(state, roster)
    wanted = on_roll(roster, today, excluded_statuses) - held_back
    by_key = {p.key: p for p in roster.pupils}

    def why_not(key: str) -> str:
        pupil = by_key.get(key)
        if pupil is None:
            return ABSENT
        if has_left(pupil, today):
            return LEFT
        if key in held_back:
            return ERASED
        if pupil.enrolment_status in excluded_statuses:
            return EXCLUDED
        return OUT_OF_SCOPE

    known = matched.known
    texts = SentTexts((p for p in roster.pupils if p.key in wanted), connectors)
    platforms = {}
    for connector in connectors:
        session = sessions.get(connector.id)
        taken = session.taken_usernames if session else set()
        platforms[connector.id] = plan_platform(state, connector, roster, wanted, pseudonymise, taken, why_not, known,
                                                texts)  # fmt: skip
        if session is not None:
            platforms[connector.id].fixes = drift(state, connector, session, roster, today, excluded_statuses)
    return Plan(today=today, pupils=len(roster.pupils), platforms=platforms,
                already_left=sum(1 for left in map(attrgetter("leaving_date"), roster.pupils)
                                 if left is not None and left <= today),
                withheld=len(held_back), left_out=roster.invalid_rows, relinked=matched.relinked,
                pairable=pairings(state, roster, matched), doubtful=doubtful(state, matched),
                partial=roster.partial)  # fmt: skip


def drift(state: State, connector, session: ApiSession, roster: Roster, today: date, excluded_statuses: set[str]) -> list:
    """An API platform's licences and groups that differ from the state: pupils on roll that it
    serves keep theirs; leavers, and pupils now outside its scope, leave their class groups
    (their accounts are the leaver cleanup's)."""
    on_roll_now = on_roll(roster, today, excluded_statuses)
    served = {p.key for p in roster.pupils if p.key in on_roll_now and connector.serves(p)}
    held, gone = {}, set()
    for key, account in state.accounts(connector.id).items():
        if not account.remote_id:
            continue
        if key in served and account.status is AccountStatus.ACTIVE:
            held[account.remote_id] = connector.view(account.sent)
        elif key in on_roll_now or roster.complete:  # rows left out for errors prove nothing
            gone.add(account.remote_id)
    return connector.drift(session, held, gone)


# Creates and leavers each at least this share of a platform's accounts, at once: the same
# children under other ids (another MIS, an export without the admission number or UPN).
ID_CHANGE_SHARE = 0.5
ID_CHANGE_MINIMUM = 10  # accounts held, below which a share says nothing

RELINK_HINT = ("run 'provisioner relink \"{roster}\"' to match them by UPN, or by legal name and date of birth: it shows "
               "every pairing and asks before recording any")  # fmt: skip


def refusal(plan: Plan, max_share: float, allow_large: bool, roster: str = "FILE",
            different_pupils: bool = False) -> GuardRefused | None:  # fmt: skip
    """Why this roster must not be applied as it stands, or None: it calls children the state
    holds by other ids (``different_pupils``: the admin says they are other children), or it would
    first count more than the guard's share of a platform's pupils as leavers (``allow_large``)."""
    if not different_pupils:
        if plan.pairable:
            return GuardRefused(
                f"{len(plan.pairable)} new pupil(s) on this roster have the UPN, or the legal name and date of birth, "
                "of a pupil who holds accounts and is not on it: the same child under another id would get a second "
                "account. Nothing was changed",
                hint=RELINK_HINT.format(roster=roster) + "; if they really are different children, run again with "
                "--different-pupils",
            )  # fmt: skip
        for p in plan.platforms.values():
            creates = len(p.of(CREATE))
            absent = sum(1 for c in p.of(LEAVER) if c.reason == ABSENT)
            if p.held >= ID_CHANGE_MINIMUM and min(creates, absent) >= ID_CHANGE_SHARE * p.held:
                return GuardRefused(
                    f"{p.name}: this roster would make {creates} new accounts while {absent} of the {p.held} accounts "
                    "held lose their pupil: the same children under other ids look like this (a change of MIS, or an "
                    "export without the admission number or UPN). Nothing was changed",
                    hint=RELINK_HINT.format(roster=roster) + "; if these really are different pupils, run again with "
                    "--different-pupils",
                )  # fmt: skip
    if allow_large:
        return None
    for p in plan.platforms.values():
        missed = [c for c in p.changes if c.first_missed]
        refused = first_count(p.name, p.platform, p.held, max_share, [c.year_group for c in missed if c.reason == ABSENT],
                              sum(1 for c in missed if c.reason == OUT_OF_SCOPE), p.scope)  # fmt: skip
        if refused:
            return refused
    return None


def first_count(name: str, platform: str, held: int, max_share: float, absent_years: list[str], outside: int,
                scope: str) -> GuardRefused | None:  # fmt: skip
    """The refusal of a roster that would make more than the guard's share of a platform's
    accounts leavers' at once, said when the absence (or the move out of scope) would first be
    counted, not weeks later when deletion falls due: ``absent_years``, the year group of each
    pupil it leaves out (so the admin sees "all Year 6" in July, or one class in a cut-short
    file); ``outside``, pupils on roll it lists outside the platform's scope; each counted for
    the first time."""
    absent = len(absent_years)
    if not held or absent + outside <= max_share * held:
        return None
    parts = []
    if absent:
        order = {code: i for i, code in enumerate(YEAR_GROUPS)}
        years = Counter(absent_years)
        by_year = ", ".join(f"{year_group_label(y) if y else 'year not recorded'}: {n}"
                            for y, n in sorted(years.items(), key=lambda item: order.get(item[0], 99)))  # fmt: skip
        parts.append(f"this roster leaves out {absent} of the {held} pupils who hold accounts ({by_year})")
    if outside:
        parts.append(f"{outside} pupils on roll who hold accounts are outside its scope now ({scope})")
    share = (absent + outside) / held
    hint = []
    if absent:
        hint.append("export the whole school from the MIS again; if the file lists only some pupils on purpose (new "
                    "starters, say), run again with --partial-roster and nobody it leaves out counts as absent")
    if outside:
        hint.append(f"check that year_groups, classes and exclude_classes under [platforms.{platform}] say what you "
                    "meant")
    hint.append("if these pupils really left (Year 6 in July), or really no longer use the platform, run again with "
                "--allow-large-cleanup")
    return GuardRefused(
        f"{name}: {' and '.join(parts)}: {share:.0%}, more than the {max_share:.0%} limit; counting them as leavers "
        "would start the clock on deleting their accounts. A roster cut short or filtered (one class, one year), or a "
        "scope narrowed by mistake, looks like this. Nothing was changed",
        hint="; ".join(hint),
    )
