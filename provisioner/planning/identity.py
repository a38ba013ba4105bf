"""Which held pupil each roster row is: the same child under another export's ids is matched,
never made again.

A roster pupil matches the pupil the state holds by MIS id (compared without zero-padding,
spaces or case), then by UPN. A match the second way (the MIS id changed, or this export has
none) is reported as a re-link. The roster pupil then carries the held key, so every platform
sees the same pupil: same account, same username, same pseudonymous id.

When neither id matches (a change of MIS, an export with other ids and no UPN), the same
children look like a school of leavers and a school of joiners. ``pairings`` offers the
re-links the admin can agree to: by UPN, else by legal names and date of birth (compared as a
keyed hash); ``relink`` records them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import compress
from operator import attrgetter, itemgetter, ne, not_

from provisioner.models import Pupil, Roster
from provisioner.state import Identity, State, normalise_mis_id

BY_UPN, BY_NAME_AND_BIRTH = "UPN", "legal name and date of birth"
BY_MIS_ID_ONLY = "MIS id, but not legal name and date of birth"


@dataclass(frozen=True)
class Relink:
    """A roster pupil matched to a held pupil by other than the MIS id."""

    key: str  # the held key, which the pupil keeps
    row: int  # the roster row
    name: str
    class_name: str
    held_id: str  # the id the state knew them by
    roster_id: str  # the id this roster gives
    held_name: str = ""
    held_class: str = ""
    by: str = BY_UPN

    def as_dict(self) -> dict:
        return {"pupil": self.key, "row": self.row, "name": self.name, "class": self.class_name,
                "held_id": self.held_id, "roster_id": self.roster_id, "held_name": self.held_name,
                "held_class": self.held_class, "by": self.by}  # fmt: skip


@dataclass
class Matched:
    roster: Roster  # the pupils, each carrying the key the state holds them under
    relinked: list[Relink]  # matched by UPN: the held record takes this roster's ids at apply
    known: dict[str, Identity] = field(default_factory=dict)  # the held pupils it was matched against


def shown_id(pupil: Pupil) -> str:
    return pupil.mis_id or pupil.upn or pupil.key.partition(":")[2]


def identity(state: State, pupil: Pupil) -> Identity:
    """What the state records about who this pupil is."""
    return Identity(
        pupil.key, normalise_mis_id(pupil.mis_id) if pupil.mis_id else None, pupil.upn,
        state.match_hash(pupil.legal_forename, pupil.legal_surname, pupil.date_of_birth),
        pupil.forename, pupil.surname, pupil.class_name, pupil.year_group, shown_id(pupil),
    )  # fmt: skip


_SEVERAL = -1  # more than one roster row (a row index is never negative)
MIS_ID_OF, UPN_OF = itemgetter(1), itemgetter(2)  # of an ``Identity``


def _index(values: Iterable, keys: Iterable) -> dict:
    """Each value to its key, a later key kept over an earlier one, blank values (None, "") left
    out: ``{v: k for v, k in zip(values, keys) if v}``, made by dict itself."""
    index = dict(zip(values, keys))
    index.pop(None, None)
    index.pop("", None)
    return index


def match(state: State, roster: Roster) -> Matched:
    """The roster with each pupil under the key the state holds them by, and the re-links.

    Every MIS id match is made before any UPN match, so a pupil is never taken from the row
    whose MIS id names them by another row's UPN; a held pupil is matched to one row at most."""
    known = state.identities()
    if not known:
        return Matched(roster, [], known)
    # Each index made from whole columns: a trust's 50,000 pupils each cost a lookup in a large
    # dict wherever they are looked up, so each is looked up once.
    by_mis, by_upn = _index(map(MIS_ID_OF, known.values()), known), _index(map(UPN_OF, known.values()), known)
    # Held pupils each roster row names by its UPN or former UPN: the row that is that child
    # (SEVERAL: more than one row names them). Found by map, a column at a time.
    rows = range(len(roster.pupils))
    by_own = list(map(by_upn.get, map(attrgetter("upn"), roster.pupils)))
    by_former = list(map(by_upn.get, map(attrgetter("former_upn"), roster.pupils)))
    named_by_upn = _index(by_own, rows)
    named_by_upn.update(zip(by_former, rows))
    named_by_upn.pop(None, None)  # a row naming nobody
    if len(named_by_upn) < len(rows) * 2 - by_own.count(None) - by_former.count(None):
        # a held pupil named twice, by one row or by several
        first: dict[str, int] = {}
        for held, row in [*compress(zip(by_own, rows), by_own), *compress(zip(by_former, rows), by_former)]:
            if first.setdefault(held, row) != row:
                named_by_upn[held] = _SEVERAL
    keys: list[str | None] = []
    claimed: set[str] = set()
    by_mis_id, named_row, claim, add = by_mis.get, named_by_upn.get, claimed.add, keys.append
    for row, pupil, by_own_upn in zip(rows, roster.pupils, by_own):
        mis_id = pupil.mis_id
        key = by_mis_id(normalise_mis_id(mis_id)) if mis_id else None
        if key is None and pupil.key in known and _goes_by(known[pupil.key], pupil):
            key = pupil.key  # a UPN-keyed roster and state, or a held pupil recorded without a MIS id
        if key is not None:
            if by_own_upn is not None and by_own_upn != key:
                key = None  # the UPN is another held pupil's: ids handed out again by a new MIS; the UPN decides
            elif named_row(key, row) != row:
                key = None  # another row is this held pupil by UPN: their old MIS id went to a new pupil; the UPN decides
            elif key in claimed:
                key = None  # claimed by an earlier row
            else:
                claim(key)
        add(key)
    # Most rows are matched under their own key: only the others are looked at, in row order.
    pupils, relinked = list(roster.pupils), []
    for row in compress(rows, map(ne, keys, map(attrgetter("key"), roster.pupils))):
        pupil, key = pupils[row], keys[row]
        if key is None and (pupil.upn or pupil.former_upn):  # the MIS id changed, or this export has none
            key = by_upn.get(pupil.upn) or by_upn.get(pupil.former_upn)
            if key is None or key in claimed:
                key = None
            else:
                claimed.add(key)
                held = known[key]
                relinked.append(Relink(key, pupil.row, pupil.display_name, pupil.class_name, held.shown_id,
                                       shown_id(pupil), held.name, held.class_name))  # fmt: skip
        if key is None and pupil.key in known:
            key = _own_key(pupil, known)  # a new pupil given an id a held pupil's key was made from
        if key is not None and key != pupil.key:
            pupils[row] = pupil._replace(key=key)
    return Matched(replace(roster, pupils=pupils), relinked, known)


def doubtful(state: State, matched: Matched) -> list[Relink]:
    """Pupils matched by MIS id although their legal name and date of birth differ from the ones
    recorded: a name changed in the MIS, or an id that now belongs to another child. Shown to the
    admin with a plan. A keyed hash for each held pupil on the roster, so asked for only where it
    is shown (the leaver cleanup, which shows none, matches a trust without them)."""
    relinked_keys = {r.key for r in matched.relinked}
    known, out = matched.known, []
    held_here = [(pupil, held) for pupil in matched.roster.pupils
                 if (held := known.get(pupil.key)) is not None and held.match_hash and pupil.key not in relinked_keys]
    hashes = state.match_hashes((p.legal_forename, p.legal_surname, p.date_of_birth) for p, _ in held_here)
    for (pupil, held), now in zip(held_here, hashes):
        if now and now != held.match_hash:
            out.append(Relink(pupil.key, pupil.row, pupil.display_name, pupil.class_name, held.shown_id,
                              shown_id(pupil), held.name, held.class_name, BY_MIS_ID_ONLY))  # fmt: skip
    return out


def _goes_by(held: Identity, pupil: Pupil) -> bool:
    """Whether the held pupil still goes by the id this roster pupil's key is made from: not
    when the state recorded them under another MIS id (or UPN) since."""
    if pupil.key.startswith("mis:"):
        return held.mis_id is None or held.mis_id == normalise_mis_id(pupil.mis_id or "")
    return held.upn is None or held.upn == pupil.upn


def _own_key(pupil: Pupil, known: dict[str, Identity]) -> str:
    """A key for a new pupil whose MIS id a held pupil's key was made from (an admission number
    used again): never the held pupil's, so nothing of theirs (account, pseudonymous id, erasure
    hold, audit trail) is taken for the new pupil's. The UPN, else the id and the roster row."""
    if pupil.upn and f"upn:{pupil.upn}" not in known:
        return f"upn:{pupil.upn}"
    return f"{pupil.key}#{pupil.row}"


def pairings(state: State, roster: Roster, matched: Matched | None = None) -> list[Relink]:
    """Re-links the admin may agree to: each roster pupil no held pupil matches, paired with a
    held pupil this roster does not list, by UPN or else by legal names and date of birth.
    Only one-to-one pairs are offered: two held pupils with one hash pair with nobody.
    ``matched``: ``match(state, roster)``, when the caller has it."""
    matched = matched or match(state, roster)
    known, pupils = matched.known, matched.roster.pupils
    keys = list(map(attrgetter("key"), pupils))
    absent_keys = known.keys() - set(keys)  # held pupils this roster does not list
    if not absent_keys:
        return []  # every held pupil is on the roster: nobody to pair with (a first apply's plan, most days)
    absent = {key: i for key, i in known.items() if key in absent_keys}
    new = list(compress(pupils, map(not_, map(known.__contains__, keys))))  # in roster order
    by_upn = {i.upn: key for key, i in absent.items() if i.upn}
    by_hash: dict[str, list[str]] = {}
    for key, i in absent.items():
        if i.match_hash:
            by_hash.setdefault(i.match_hash, []).append(key)
    hashes = dict(zip(map(attrgetter("key"), new), state.match_hashes(
        zip(map(attrgetter("legal_forename"), new), map(attrgetter("legal_surname"), new),
            map(attrgetter("date_of_birth"), new)))))  # fmt: skip
    counted = {}
    for h in hashes.values():
        if h:
            counted[h] = counted.get(h, 0) + 1
    out, taken = [], set()
    for pupil in new:
        key, how = by_upn.get(pupil.upn) or by_upn.get(pupil.former_upn), BY_UPN
        if key is None:
            h = hashes[pupil.key]
            candidates = by_hash.get(h, []) if h else []
            key, how = (candidates[0] if len(candidates) == 1 and counted[h] == 1 else None), BY_NAME_AND_BIRTH
        if key is None or key in taken:
            continue
        taken.add(key)
        held = absent[key]
        out.append(Relink(key, pupil.row, pupil.display_name, pupil.class_name, held.shown_id, shown_id(pupil),
                          held.name, held.class_name, how))  # fmt: skip
    return out


def remember(state: State, matched: Matched, run_id: int | None = None, making: set[str] = frozenset()) -> None:
    """Record who each matched roster pupil holding an account, or about to be given one
    (``making``), is now: the next export is matched by these ids, and the admin is shown these
    names. Recorded before anything is sent, so an apply interrupted at its first send has them;
    the re-links go to the audit log."""
    keep = matched.known.keys() | making
    state.remember_identities([identity(state, p) for p in matched.roster.pupils if p.key in keep], run_id,
                              {r.key: r.by for r in matched.relinked})  # fmt: skip


def held_name(identity: Identity | None, sent: dict[str, str]) -> tuple[str, str, str]:
    """(name, class, year group) of a held pupil the roster does not list: as last recorded, else
    as last sent (an account made before names were recorded)."""
    if identity is not None and identity.name:
        return identity.name, identity.class_name, identity.year_group
    name = " ".join(v for v in (sent.get("forename"), sent.get("surname")) if v) or sent.get("full_name", "")
    return name, sent.get("class_name", ""), sent.get("year_group", "")


def relink(state: State, roster: Roster, pairs: list[Relink], run_id: int) -> None:
    """Give each paired held pupil this roster's ids, so the next plan matches them by MIS id."""
    by_row = {p.row: p for p in roster.pupils}
    state.remember_identities([identity(state, by_row[pair.row])._replace(key=pair.key) for pair in pairs], run_id,
                              {pair.key: pair.by for pair in pairs})  # fmt: skip


def summary(state: State, roster: Roster) -> dict[str, int]:
    """How this roster's pupils match the pupils the state holds, for ``roster check``: by MIS id
    as written, by MIS id written another way (zero-padding, spaces), by UPN (re-linked at the
    next apply), new; and held pupils it does not list."""
    matched = match(state, roster)
    known = matched.known
    relinked = {r.row for r in matched.relinked}
    out = {"same_id": 0, "other_padding": 0, "by_upn": len(relinked), "new": 0, "not_listed": 0}
    for before, after in zip(roster.pupils, matched.roster.pupils):
        if after.row in relinked:
            continue
        if after.key not in known:
            out["new"] += 1
        elif after.key == before.key and known[after.key].shown_id in ("", before.mis_id, before.upn):
            out["same_id"] += 1
        else:
            out["other_padding"] += 1
    listed = {p.key for p in matched.roster.pupils}
    out["not_listed"] = sum(1 for key in known if key not in listed)
    return out
