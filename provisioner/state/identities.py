"""Who each pupil key is, as the roster last said: the ids a later export may use instead (the
MIS id in any zero-padding, the UPN), a keyed hash of legal names and date of birth for
re-linking when neither matches, and the name and class the admin needs to see.

The key an account was first made under never changes (the platform's pseudonymous id and the
audit log's keyed hash are made from it); a later export that calls the same child by another
id is matched to it here. Rows are forgotten with the pupil (``forget_pupils``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from functools import cached_property

from provisioner.keyed_hash import KeyedHash
from provisioner.roster.values import normalise_mis_id
from provisioner.state.texts import KEYS_GIVEN, keys_given
from provisioner.state.records import Identity, now


def _first(row: tuple) -> str:
    return row[0]


def _from_key(key: str) -> Identity:
    """What a key alone says, for an account made before identities were recorded."""
    kind, _, value = key.partition(":")
    return Identity(key, mis_id=normalise_mis_id(value) if kind == "mis" else None,
                    upn=value if kind == "upn" else None, shown_id=value)  # fmt: skip


class IdentityLedger:
    """Mixed into ``State``: needs ``db``, ``transaction``, ``audit`` and ``_secret``."""

    db: sqlite3.Connection
    _secret: bytes

    def identities(self) -> dict[str, Identity]:
        """Every pupil the state holds an account for (or an identity), by key."""
        rows = self.db.execute(
            "SELECT pupil_key, mis_id, upn, match_hash, forename, surname, class_name, year_group, shown_id FROM pupils"
        )
        identity = Identity._make
        known = {row[0]: identity(row) for row in rows}
        for key in self._unrecorded():
            if key not in known:
                known[key] = _from_key(key)
        return known

    def _unrecorded(self) -> Iterator[str]:
        """Keys of accounts with no identity recorded (made before identities were), in the order
        of the accounts table (platform, then key), a key once or more. A platform at a time, its
        keys and the identities' keys each read in order and merged by SQLite: asking of each of a
        trust's 350,000 accounts whether its key is recorded took three times as long."""
        platforms = self.db.execute(
            "WITH RECURSIVE platforms(name) AS (SELECT MIN(platform) FROM accounts UNION ALL"
            " SELECT (SELECT MIN(platform) FROM accounts WHERE platform > name) FROM platforms WHERE name IS NOT NULL)"
            " SELECT name FROM platforms WHERE name IS NOT NULL"
        ).fetchall()  # each platform found by a search of the key, not by reading every account
        for (platform,) in platforms:
            rows = self.db.execute(
                "SELECT pupil_key FROM accounts WHERE platform = ? EXCEPT SELECT pupil_key FROM pupils ORDER BY 1",
                (platform,),
            )
            yield from map(_first, rows)

    def identities_of(self, pupil_keys: Iterable[str]) -> dict[str, Identity]:
        """Who these pupils are, as ``identities`` says (a key with an account but no identity
        recorded, from the key alone): a deletion list names its few pupils, not a trust's 50,000."""
        pupil_keys = set(pupil_keys)
        rows = self.db.execute(
            "SELECT pupil_key, mis_id, upn, match_hash, forename, surname, class_name, year_group, shown_id FROM pupils"
            f" WHERE pupil_key IN {KEYS_GIVEN}", (keys_given(pupil_keys),),  # noqa: S608 (a fixed subquery)
        )  # fmt: skip
        identity = Identity._make
        known = {row[0]: identity(row) for row in rows}
        unrecorded = pupil_keys - known.keys()  # accounts made before identities were recorded
        if unrecorded:
            rows = self.db.execute(f"SELECT DISTINCT pupil_key FROM accounts WHERE pupil_key IN {KEYS_GIVEN}",  # noqa: S608
                                   (keys_given(unrecorded),))  # fmt: skip
            known.update((key, _from_key(key)) for (key,) in rows)
        return known

    def match_hash(self, legal_forename: str, legal_surname: str, date_of_birth: date | None) -> str | None:
        """A keyed hash of a pupil's legal names and date of birth: two exports of the same child
        give the same hash, and the state keeps no date of birth it was not asked to send."""
        if date_of_birth is None or not (legal_forename or legal_surname):
            return None
        text = "\0".join(("match", legal_forename.casefold(), legal_surname.casefold(), date_of_birth.isoformat()))
        return self._match_hashes.hexdigest(text.encode())[:32]

    def match_hashes(self, pupils: Iterable[tuple[str, str, date | None]]) -> list[str | None]:
        """``match_hash`` of each (legal forename, legal surname, date of birth), in one loop: a
        plan's doubtful check hashes every held pupil on the roster."""
        texts = [f"match\0{forename.casefold()}\0{surname.casefold()}\0{born.isoformat()}"
                 if born is not None and (forename or surname) else None
                 for forename, surname, born in pupils]  # fmt: skip
        hashes = iter(self._match_hashes.hexdigests(text.encode() for text in texts if text is not None))
        return [None if text is None else next(hashes)[:32] for text in texts]

    @cached_property
    def _match_hashes(self) -> KeyedHash:
        """HMAC-SHA256 under the school's secret, the key's part made once (``provisioner/keyed_hash.py``)."""
        return KeyedHash(self._secret)

    def remember_identities(self, identities: Iterable[Identity], run_id: int | None = None,
                            relinked: Mapping[str, str] | None = None) -> None:  # fmt: skip
        """Record who each key is now (the ids and names of this roster; an id or hash this roster
        lacks, an export without that column, keeps the one recorded); ``relinked``: keys
        matched to this roster's pupil by other than the MIS id (key -> how), for the audit log."""
        stamp = now()
        with self.transaction() as db:
            for key, how in (relinked or {}).items():
                self.audit(run_id, "pupil.relinked", pupil_key=key, detail={"by": how})
            db.executemany(
                "INSERT INTO pupils (pupil_key, mis_id, upn, match_hash, forename, surname, class_name, year_group,"
                " shown_id, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pupil_key) DO UPDATE SET"
                " mis_id = COALESCE(excluded.mis_id, mis_id), upn = COALESCE(excluded.upn, upn),"
                " match_hash = COALESCE(excluded.match_hash, match_hash),"
                " forename = excluded.forename, surname = excluded.surname, class_name = excluded.class_name,"
                " year_group = excluded.year_group, shown_id = excluded.shown_id, seen_at = excluded.seen_at",
                sorted(((i.key, i.mis_id, i.upn, i.match_hash, i.forename, i.surname, i.class_name, i.year_group,
                         i.shown_id, stamp) for i in identities), key=_first),  # in key order: the table is kept in it
            )  # fmt: skip
