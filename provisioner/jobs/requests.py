"""A parent's requests about one pupil: what every processor holds (access), and erasure
from every platform at once.

Both are answered from the record of what was actually sent: the ledger holds the values each
platform last received, and every send, disable and deletion with its time. Recipients outside
this tool (the Department for Education, the local authority, ...) are named from the register,
since the tool cannot know what the MIS sent them.

Every answer names the child (name, class, id), and erasure asks for the name or id typed
back: a mistyped number must never erase another child. The admin may give the MIS id in any
zero-padding, the UPN, or a name; ``find_pupil`` is the one rule for which pupil that is, and
``is_named_by`` the one rule for what counts as typing them back, so every front end asks the
same question.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date

from provisioner import times
from provisioner.connector import Connector, registry
from provisioner.delivery import CleanupResult, Job, crashpoint
from provisioner.errors import Aborted, UsageError
from provisioner.fields import FIELDS
from provisioner.jobs.cleanup import carry_out
from provisioner.jobs.retention import purge
from provisioner.models import Roster
from provisioner.planning.cleanup import DELETE, CleanupPlan, plan_cleanup
from provisioner.register import Processor, build_register, load_entries
from provisioner.register.gaps import supplier_name
from provisioner.state import Account, AccountStatus, Identity, State, normalise_mis_id
from provisioner.workspace import Workspace

# A hold outlives the pupil's record, and is kept only as keyed hashes of the keys it was
# recorded under (the id as the roster wrote it among them), so an id typed without its zeros
# is tried padded back to each length up to this one.
_LONGEST_PADDED_ID = 12
# An account made in an import file the school has not confirmed uploading: listed as held (the
# file may have been uploaded unconfirmed), but said as it is.
AWAITING_UPLOAD_WORDS = "account made; file awaiting upload by the school"
# How a deleted account is known to be gone, in words for a parent ({day}: the export's date).
DELETION_PROOF_WORDS = {
    "export": "the platform's own list of pupils of {day} no longer held the account",
    "admin": "the school's administrator confirmed deleting it",
    "still_present": "the school's administrator confirmed deleting it, but the platform's own list of pupils of "
                     "{day} still held it; the school has been told to delete it there",
}  # fmt: skip


def _compact(text: str) -> str:
    return "".join(text.split())


def _without_kind(text: str) -> str:
    """An id typed in the state's own form of a key ("mis:001000") as the id alone."""
    kind, _, value = _compact(text).partition(":")
    return value if value and kind.casefold() in ("mis", "upn") else text


def _upn_form(text: str) -> str:
    """A UPN as the roster reader keeps it: no spaces, upper case."""
    return _compact(text).upper()


def _name_form(text: str) -> str:
    """A name as compared: case-insensitive, spacing collapsed, accents as typed (Zoë is not Zoe)."""
    return " ".join(text.replace(",", " ").casefold().split())


def _is_id_of(pupil: Identity, text: str) -> bool:
    """The text is one of the pupil's ids: the MIS id in any zero-padding, spacing or case, the
    UPN, the id as the school writes it, or the state's key."""
    if not _compact(text):
        return False
    text = _without_kind(text)
    wanted = normalise_mis_id(text)
    return (
        _compact(text) == pupil.key
        or (pupil.mis_id is not None and wanted == pupil.mis_id)
        or (pupil.upn is not None and _upn_form(text) == pupil.upn)
        or (bool(pupil.shown_id) and wanted == normalise_mis_id(pupil.shown_id))
    )


def is_named_by(pupil: Identity, text: str) -> bool:
    """Whether what the admin typed back names this pupil: their whole name (case-insensitive,
    forename first, or surname first with or without a comma) or one of their ids. A surname
    alone is not enough: the question is there to catch the wrong child."""
    typed = _name_form(text)
    if pupil.name and typed in (_name_form(pupil.name), _name_form(f"{pupil.surname} {pupil.forename}")):
        return True
    return _is_id_of(pupil, text)


def describe(pupil: Identity) -> str:
    """The pupil in words, for every question and answer: "Ava Ali (Oak, id 003337)"."""
    if not pupil.name:
        return f"pupil {pupil.shown_id}"
    return f"{pupil.name} ({', '.join(x for x in (pupil.class_name, f'id {pupil.shown_id}') if x)})"


def _held_keys(text: str) -> list[str]:
    """Every key a hold may be recorded under for this typed id: as typed, without the zeros,
    padded back with them, and as a UPN."""
    text = _without_kind(text)
    compact = _compact(text)
    bare = normalise_mis_id(text)
    padded = [bare.zfill(n) for n in range(len(bare) + 1, _LONGEST_PADDED_ID + 1)] if bare.isdigit() else []
    keys = [compact, f"mis:{compact}", f"mis:{compact.upper()}", f"mis:{bare}", *(f"mis:{p}" for p in padded),
            f"upn:{_upn_form(text)}"]  # fmt: skip
    return list(dict.fromkeys(keys))


def _hold_keys_of(pupil: Identity) -> list[str]:
    """The keys an erasure hold on this pupil is recorded under: the state's key, and the ids a
    later roster may key them by (the MIS id without zero-padding, the UPN), so the hold still
    stops their data after this tool has forgotten the key, however the roster reader keys
    pupils then."""
    keys = [pupil.key, *([f"mis:{pupil.mis_id}"] if pupil.mis_id else []), *([f"upn:{pupil.upn}"] if pupil.upn else [])]
    return list(dict.fromkeys(keys))


def _one(matches: Iterable[Identity], typed: str) -> Identity:
    found = sorted({m.key: m for m in matches}.values(), key=lambda m: (m.surname.casefold(), m.forename.casefold(),
                                                                        m.class_name, m.shown_id))  # fmt: skip
    if len(found) == 1:
        return found[0]
    listed = "; ".join(describe(m) for m in found)
    raise UsageError(f"{len(found)} pupils match '{typed.strip()}': {listed}",
                     hint="give the id of the one you mean (the id after their name)")  # fmt: skip


def _by_name(known: Iterable[Identity], typed: str) -> list[Identity]:
    """Pupils called this: by the whole name if any is, else by a forename or surname alone."""
    wanted = _name_form(typed)
    named = [i for i in known if i.name]
    whole = [i for i in named if wanted in (_name_form(i.name), _name_form(f"{i.surname} {i.forename}"))]
    return whole or [i for i in named if wanted in (_name_form(i.surname), _name_form(i.forename))]


def find_pupil(state: State, typed: str) -> Identity | None:
    """The held pupil the admin means, or None when the workspace holds nothing about them.

    ``typed`` is a MIS id in any zero-padding, spacing or case, a UPN, the state's key, or a
    name (the whole name, or a forename or surname that only one pupil has). Ids are tried
    first, then erasure holds (a pupil forgotten after an erasure is still found by id, though
    no longer by name), then names. Several pupils matching is a ``UsageError`` naming each,
    since acting on the wrong child cannot be undone."""
    if not typed.strip():
        return None
    known = state.identities()
    by_id = [i for i in known.values() if _is_id_of(i, typed)]
    if by_id:
        return _one(by_id, typed)
    held = state.erasure_held()
    for key in _held_keys(typed) if held else []:
        if state.subject(key) in held:
            # Forgotten but for the hold: only the id is left to name them by.
            kind, _, value = key.partition(":")
            return Identity(key, mis_id=normalise_mis_id(value) if kind == "mis" else None,
                            upn=value if kind == "upn" else None,
                            shown_id=value if _compact(typed) == key else typed.strip())  # fmt: skip
    by_name = _by_name(known.values(), typed)
    return _one(by_name, typed) if by_name else None


def _not_found(pupil_id: str) -> UsageError:
    return UsageError(
        f"this workspace holds no record of pupil {pupil_id.strip()}",
        hint="give the pupil's MIS id (admission number, with or without its leading zeros), UPN or name; a "
        "pupil purged after leaving is no longer held by this tool",
    )


def _found(state: State, typed: str) -> Identity:
    pupil = find_pupil(state, typed)
    if pupil is None:
        raise _not_found(typed)
    return pupil


def access_report(workspace: Workspace, state: State, pupil_id: str, today: date) -> dict:
    """What each processor holds about one pupil now, exactly as sent and when; what was deleted
    and when; and the recipients outside this tool that the school's register names. It leads
    with who the child is (name, class, year group, id), so the answer is checked against the
    request before it is sent."""
    pupil = _found(state, pupil_id)
    key = pupil.key
    accounts = state.pupil_accounts(key)
    holds = state.erasure_held()
    erased = any(state.subject(k) in holds for k in _hold_keys_of(pupil))
    sends = state.pupil_history(key)
    entries = load_entries(workspace.root)
    register = {p.id: p for p in build_register(workspace, state, today).processors}
    known = registry()
    processors, removed = {}, {}
    waiting = {platform for platform in accounts if key in state.awaiting_upload(platform)}
    zone = workspace.settings.school.zone  # times and days on the school's clock (times.py)
    for platform, account in accounts.items():
        history = [
            {"at": times.stamp(s.at, zone), "action": s.action, "fields": s.fields, **({"changed": s.changed} if s.action == "update" else {})}
            for s in sends if s.platform == platform
        ]  # fmt: skip
        name = entries[platform].name if platform in entries else platform
        # The account held now began with its latest create (a returner after deletion gets a new one).
        since = next((h["at"] for h in reversed(history) if h["action"] == "create"), account.created_at)
        connector = workspace.connector(platform) if platform in known else None
        record = {
            "name": name,
            "status": str(account.status),
            # As the child signs in (IXL's name@code), as the slip gave it; the fields are as recorded.
            "username": connector.sign_in_name(account.username, workspace.settings.school.domain)
            if connector is not None and account.username else account.username,
            "fields": account.sent,
            "since": times.day(since, zone),
            "history": history,
        }
        if platform in waiting:
            record["awaiting_upload"] = AWAITING_UPLOAD_WORDS
        if connector is not None and "password" in connector.sent_fields:
            record["not_kept"] = {"password": "a first password was sent; this tool never keeps passwords"}
        if connector is not None and not connector.delivery.makes_accounts:
            # The platform copies these from the MIS itself; the tool records which, not the values.
            record["read_from_mis"] = [name for name, value in account.sent.items() if not value]
            record["copied_by"] = connector.delivery.sent_by
        if platform in register:
            record.update(_beyond_what_was_sent(register[platform]))
        if account.status is AccountStatus.PLATFORM_HOLD and account.held_on(today):
            where = connector.held_where() if connector is not None else name
            record["held_until"], record["held_where"] = account.delete_due, where
            record["held_note"] = (f"Removed from use on {times.day(account.status_at, zone)}, but {where} keeps the "
                                   f"account and its data until {account.delete_due}, then deletes it")  # fmt: skip
        if account.held_on(today):
            processors[platform] = record
        else:
            # A platform's hold that has ended: deleted by the platform on its last day, recorded or not.
            ended = account.status is AccountStatus.PLATFORM_HOLD or bool(
                history and history[-1]["action"] == "deleted_by_platform")
            record["deleted"] = account.delete_due if ended else times.day(account.status_at, zone)
            if not ended:
                proof, proved_on = state.deletion_proof(platform, key)
                record["deletion_proof"] = DELETION_PROOF_WORDS.get(proof, "").format(day=proved_on)
                record["deletion_proof_kind"], record["deletion_proof_on"] = proof, proved_on
            removed[platform] = record
    others = [
        {"id": e.id, "name": e.name, "fields": [FIELDS[f].label for f in e.fields or []], "other_data": e.other_data}
        for e in entries.values() if e.kind == "recipient"
    ]  # fmt: skip
    return {
        "pupil": pupil_id,
        **_who(pupil, accounts.values()),
        "as_of": today.isoformat(),
        "school": workspace.settings.school.name,
        "erasure_requested": erased,
        "processors": processors,
        "deleted": removed,
        "other_recipients": others,
    }


def _who(pupil: Identity, accounts: Iterable[Account] = ()) -> dict:
    """The child, as every answer names them: the name and class the roster last gave, else the
    ones last sent to a platform (an account made before names were recorded); empty once this
    tool has forgotten them. ``id_kind`` says which id ``id`` is, as a parent reads it."""
    name, class_name = pupil.name, pupil.class_name
    for sent in [account.sent or {} for account in accounts] if not name else []:
        name = name or f"{sent.get('forename', '')} {sent.get('surname', '')}".strip()
        class_name = class_name or sent.get("class_name", "")
    id_kind = "UPN" if pupil.upn and not pupil.mis_id else "MIS id"
    return {"name": name, "class": class_name, "year_group": pupil.year_group, "id": pupil.shown_id,
            "id_kind": id_kind}  # fmt: skip


def _beyond_what_was_sent(processor: Processor) -> dict:
    """What a platform holds besides what the school sent it (the child's work, scores,
    activity), in its register entry's words (empty where the entry says nothing), and who the
    school asks for a copy: the supplier as a parent names it."""
    return {"supplier": supplier_name(processor), "other_data": processor.entry.other_data}


@dataclass(frozen=True)
class ErasureRequest:
    """What the admin agrees to before an erasure: which child, and what each platform will do.
    The question and the rule for the answer are here, not in a front end, so the command
    line and any later front end ask the same thing."""

    pupil: Identity
    plan: CleanupPlan
    known: bool  # False: no account was ever made for them here; only the hold is recorded

    @property
    def question(self) -> str:
        if self.known:
            return f"Erase {describe(self.pupil)} from every platform?"
        return (f"No platform holds {describe(self.pupil)}. Record an erasure request under id "
                f"{self.pupil.shown_id}, so no apply makes accounts for them?")  # fmt: skip

    @property
    def type_back(self) -> str:
        """What the admin is asked to type, to show they mean this child."""
        if self.pupil.name:
            return f"To go ahead, type {self.pupil.name}'s name or id"
        return f"To go ahead, type the id {self.pupil.shown_id}"

    def confirmed_by(self, typed: str) -> bool:
        return is_named_by(self.pupil, typed)


@dataclass
class ErasureResult:
    plan: CleanupPlan
    pupil: Identity | None = None
    cleanup: CleanupResult | None = None
    purged: bool = False
    waiting: list[str] = field(default_factory=list)  # platforms whose deletion the admin must still confirm
    kept_files: list[str] = field(default_factory=list)  # outbox files still holding the pupil (not yet uploaded)
    # For the letter to the parent: the child as named, the school, the day, and what each
    # platform's account became (``erasure_outcomes``), kept before the pupil is forgotten.
    who: dict = field(default_factory=dict)
    school: str = ""
    on: str = ""
    outcomes: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        out = self.cleanup.as_dict() if self.cleanup else self.plan.as_dict()
        who = self.who or (_who(self.pupil) if self.pupil else {})
        return {**who, **out, "purged": self.purged, "waiting_for": self.waiting, "files_kept": self.kept_files,
                "school": self.school, "on": self.on, "outcomes": self.outcomes}  # fmt: skip


# What an erasure did on one platform, for the letter to the parent (``erasure_outcomes``).
DELETED = "deleted"  # gone: deleted through the platform's API and read back, or confirmed
ON_DELETION_LIST = "deletion_list"  # on a deletion list the school's administrator carries out
HELD_BY_PLATFORM = "held_by_platform"  # out of use; the platform keeps it until ``until``, then deletes it
COPIED_FROM_MIS = "copied_from_mis"  # the platform copies pupils from the MIS: the school stops it and asks


def erasure_outcomes(workspace: Workspace, state: State, pupil: Identity, connectors: list[Connector],
                     today: date, verified: set[str]) -> list[dict]:  # fmt: skip
    """What an erasure has done on each platform that held the pupil, read from the ledger after
    it ran: deleted (and how that is known: ``verified`` names the platforms where this run
    deleted it and read the deletion back), on a deletion list for the administrator, kept by
    the platform until a day (an account in Times Tables Rock Stars' Leavers group before the
    erasure), or, for a platform that copies pupils from the MIS, who copies them."""
    register = {p.id: p for p in build_register(workspace, state, today).processors}
    accounts = state.pupil_accounts(pupil.key)
    found = []
    for connector in connectors:
        account = accounts.get(connector.id)
        if account is None:
            continue
        done = {"platform": connector.id, "name": connector.name,
                "supplier": supplier_name(register[connector.id]) if connector.id in register else connector.name}
        if account.status is AccountStatus.DELETED:
            proof, proved_on = state.deletion_proof(connector.id, pupil.key)
            done.update(outcome=DELETED, on=(account.status_at or "")[:10], checked=connector.id in verified,
                        proof=proof, proved_on=proved_on)  # fmt: skip
        elif account.status is AccountStatus.PLATFORM_HOLD:
            done.update(outcome=HELD_BY_PLATFORM, until=account.delete_due, where=connector.held_where())
        elif not connector.delivery.makes_accounts:
            done.update(outcome=COPIED_FROM_MIS, copied_by=connector.delivery.sent_by)
        else:  # an erasure's list asks for deletion at once, even where leavers go to a Leavers group
            done.update(outcome=ON_DELETION_LIST)
        found.append(done)
    return found


def erase(workspace: Workspace, state: State, pupil_id: str, today: date,
          confirm: Callable[[ErasureRequest], bool]) -> ErasureResult:  # fmt: skip
    """Erase one pupil everywhere: record the erasure (so no later apply sends their data
    again), delete every account through the leaver machinery (Microsoft 365 at once, read
    back; a deletion list for each file platform), then forget the pupil here as soon as every
    account is gone. The audit log keeps the events under the keyed hash.

    ``confirm`` is shown an ``ErasureRequest`` naming the child and says whether to go ahead."""
    state.end_platform_holds(today)
    pupil = find_pupil(state, pupil_id)
    if pupil is None:
        # A pupil with no account yet: the hold alone, under every id the roster may key them by.
        if not any(c.isdigit() for c in pupil_id):
            raise _not_found(pupil_id)  # a name: with nothing held, there is no id to hold
        typed = _compact(pupil_id)
        pupil = Identity(f"mis:{typed}", normalise_mis_id(typed), _upn_form(typed), shown_id=typed)
        holds = [f"mis:{typed}", f"mis:{pupil.mis_id}", f"upn:{pupil.upn}"]
        accounts = {}
    else:
        holds = _hold_keys_of(pupil)
        accounts = state.pupil_accounts(pupil.key)
    holds = list(dict.fromkeys(holds))
    if any(a.status is AccountStatus.PENDING for a in accounts.values()):
        raise UsageError("an interrupted apply has not finished sending this pupil's data",
                         hint="run the same apply again to finish it, then run this erase again")  # fmt: skip
    # Every platform holding the pupil, enabled or not: erasure reaches switched-off ones too.
    known = registry()
    connectors = [workspace.connector(p) for p, a in accounts.items() if a.status.held and p in known]
    no_roster = Roster(source="erasure request", pupils=[], errors=[], warnings=[], columns={})
    excluded = set(workspace.settings.leavers.exclude_enrolment_statuses)
    the_plan = plan_cleanup(state, no_roster, connectors, today, excluded_statuses=excluded, erasing=set(holds))
    result = ErasureResult(the_plan, pupil)
    if not confirm(ErasureRequest(pupil, the_plan, known=bool(accounts))):
        raise Aborted("nothing was changed", hint=f"run 'provisioner pupil show {pupil.shown_id}' to review it")
    state.hold_erasure(holds, platforms=len(connectors))
    cleanup = CleanupResult(the_plan)
    if the_plan.has_work:
        job = Job(workspace, state, today, state.begin_run("erase", None), roster=None)
        crashpoint("erase")
        carry_out(job, the_plan, connectors, cleanup, again=f"provisioner pupil erase {pupil.shown_id}")
    cleanup.notes += [note for c in connectors if (note := c.delivery.erasure_note())]
    result.cleanup = cleanup
    result.who, result.school, result.on = _who(pupil, accounts.values()), workspace.settings.school.name, str(today)
    # Every platform that ever held them, an account deleted before included: the letter says each.
    verified = {platform for platform, done in cleanup.done.items() if done.get(DELETE)}  # deleted and read back
    result.outcomes = erasure_outcomes(workspace, state, pupil, [workspace.connector(p) for p in accounts if p in known],
                                       today, verified)  # fmt: skip
    remaining = state.pupil_accounts(pupil.key)
    result.waiting = sorted(p for p, a in remaining.items() if a.status.held)
    if not result.waiting and accounts:
        # Forgets this pupil now (an erasure waits for no retention period), files included.
        result.kept_files = purge(workspace, state, today, only=pupil.key)["files_kept"]
        result.purged = True
    return result


@dataclass(frozen=True)
class AllowResult:
    pupil: Identity | None  # None: the workspace holds nothing under what was typed
    lifted: bool  # whether there was an erasure hold to lift


def allow(state: State, pupil_id: str) -> AllowResult:
    """Lift an erasure hold (the parent has agreed to accounts again): the next apply makes new
    accounts. Every key the hold may be recorded under is lifted, or a copy left under another
    form of the id would still stop their accounts."""
    pupil = find_pupil(state, pupil_id)
    if pupil is None:
        return AllowResult(None, lifted=False)
    keys = _hold_keys_of(pupil) + _held_keys(pupil.shown_id)
    lifted = [key for key in dict.fromkeys(keys) if state.lift_erasure(key)]
    return AllowResult(pupil, lifted=bool(lifted))
