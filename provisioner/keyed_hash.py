"""HMAC-SHA256 of many short messages under one key: what ``hmac.digest`` gives, at about half
the cost.

A plan of a trust's 50,000 pupils makes about 200,000 keyed hashes (each pupil's pseudonymous
id on every platform sent one, each pupil's match hash), every ``status`` checks one MAC per
event of the audit log, and ``hmac.digest`` pads and hashes the key again for each. Here the key's inner and outer SHA-256 states are made once (RFC 2104) and
copied for every message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

_BLOCK = 64  # SHA-256's block size in bytes
_INNER_PAD = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD = bytes(byte ^ 0x5C for byte in range(256))


class KeyedHash:
    """HMAC-SHA256 under one key: ``KeyedHash(key).hexdigest(message) ==
    hmac.digest(key, message, "sha256").hex()``."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes):
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(key.translate(_INNER_PAD))
        self._outer = hashlib.sha256(key.translate(_OUTER_PAD))

    def hexdigest(self, message: bytes) -> str:
        return self._outer_of(message).hexdigest()

    def hexdigests(self, messages: Iterable[bytes], prefix: bytes = b"", length: int = 64) -> list[str]:
        """``hexdigest`` of each message, ``prefix`` put before each (hashed once), its first
        ``length`` characters kept, in one loop: a plan hashes 50,000 pupils' names, and their keys
        for each platform sent a pseudonymous id."""
        inner, outer, out = self._inner, self._outer, []
        if prefix:
            inner = inner.copy()
            inner.update(prefix)
        for message in messages:
            hashed = inner.copy()
            hashed.update(message)
            outside = outer.copy()
            outside.update(hashed.digest())
            out.append(outside.hexdigest()[:length])
        return out

    def digest(self, message: bytes) -> bytes:
        """``hmac.digest(key, message, "sha256")``."""
        return self._outer_of(message).digest()

    def parts(self) -> tuple:
        """The key's inner and outer SHA-256 states (RFC 2104), for a loop that copies them for
        each of many messages itself: a batch's audit events chain each MAC onto the one before."""
        return self._inner, self._outer

    def _outer_of(self, message: bytes):
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer
