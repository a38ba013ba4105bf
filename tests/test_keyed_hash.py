"""The keyed hash behind pseudonymous ids, match hashes and the audit log's MACs is HMAC-SHA256,
whatever the key."""

from __future__ import annotations

import hmac
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from provisioner.keyed_hash import KeyedHash


@given(st.binary(min_size=0, max_size=200), st.lists(st.binary(max_size=300), min_size=1, max_size=5))
def test_the_same_as_hmac_sha256(key: bytes, messages: list[bytes]) -> None:
    keyed = KeyedHash(key)
    for message in messages:  # one key, many messages: each hashed alone
        assert keyed.hexdigest(message) == hmac.digest(key, message, "sha256").hex()
        assert keyed.digest(message) == hmac.digest(key, message, "sha256")
    # Many at once (a plan's 50,000 match hashes): the same hashes, in the same order.
    assert keyed.hexdigests(iter(messages)) == [hmac.digest(key, m, "sha256").hex() for m in messages]
    # With a prefix hashed once before each (a platform's name before each pupil's key).
    assert keyed.hexdigests(iter(messages), prefix=key[:7] + b"\0") == \
        [hmac.digest(key, key[:7] + b"\0" + m, "sha256").hex() for m in messages]  # fmt: skip
    assert keyed.hexdigests(iter(messages), length=16) == [hmac.digest(key, m, "sha256").hex()[:16] for m in messages]


def test_pseudonymous_ids_and_match_hashes_are_the_ones_recorded_before(workspace) -> None:
    # Ids already sent to platforms and hashes already recorded must not change.
    secret = workspace.secret
    assert workspace.pseudonymous_id("purple-mash", "mis:1000") == \
        hmac.digest(secret, b"purple-mash\0mis:1000", "sha256").hex()[:16]  # fmt: skip
    # A plan makes a platform's ids together: each the one made alone, in the order asked.
    keys = ["mis:1000", "upn:A801200005001", "mis:1000#7", "mis:Zoë"]
    assert workspace.pseudonymous_ids("ixl", iter(keys)) == [workspace.pseudonymous_id("ixl", key) for key in keys]
    assert workspace.pseudonymous_ids("ixl", []) == []
    with workspace.open_state() as state:
        text = "match\x00zoë\x00o'brien\x002018-01-01"  # names casefolded, then the date of birth
        assert state.match_hash("Zoë", "O'Brien", date(2018, 1, 1)) == \
            hmac.digest(secret, text.encode(), "sha256").hex()[:32]  # fmt: skip


def test_match_hashes_at_once_are_each_pupils_match_hash(workspace) -> None:
    # The doubtful check hashes every held pupil on the roster in one call: the same hash as one
    # at a time, None where there is nothing to hash (no date of birth, or no legal name).
    pupils = [("Zoë", "O'Brien", date(2018, 1, 1)), ("Arlo", "", date(2017, 5, 2)), ("", "", date(2017, 5, 2)),
              ("Maisie", "Thornbury", None), ("", "Okafor", date(2019, 12, 31))]
    with workspace.open_state() as state:
        assert state.match_hashes(iter(pupils)) == [state.match_hash(*pupil) for pupil in pupils]
        assert state.match_hashes([]) == []
