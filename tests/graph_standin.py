"""Loopback HTTPS stand-in for the Entra ID token endpoint and a Microsoft Graph v1.0 subset.

Lets tests and benchmarks drive the *real* msal and requests code over a real TLS socket::

    with GraphStandIn(write_limit=20, latency=0.05) as g:
        s = g.session()
        app = msal.ConfidentialClientApplication(
            g.client_id, client_credential=g.client_secret,
            authority=f"{g.authority_host}/{g.tenant_id}",
            instance_discovery=False, http_client=s)
        tok = app.acquire_token_for_client(["https://graph.microsoft.com/.default"])
        s.post(f"{g.graph_url}/users", json={...},
               headers={"Authorization": "Bearer " + tok["access_token"]})

URL layout (one server, one port)
  authority  https://127.0.0.1:PORT/{tenant}       (msal ``authority=``; tenant = ``g.tenant_id``)
             GET  /{tenant}/v2.0/.well-known/openid-configuration
             POST /{tenant}/oauth2/v2.0/token
  graph      https://127.0.0.1:PORT/v1.0           (``g.graph_url``, stands in for
             https://graph.microsoft.com/v1.0; ``@odata.nextLink`` points back here)

Controls: fail_next(status, count, retry_after, target="graph"|"token"), drop_next(count,
target), drop_after_apply_next(count), cut_next(count), slow_next(seconds, count),
fail_in_batch(positions, status, retry_after), storm(share, status, retry_after),
expire_tokens(), expire_tokens_after(requests), issue_client_certificate(), add_user(**props),
add_group(name, members), reset_counters(); settable attributes latency, write_limit, write_window, violation_grace,
permission_denied. Introspection: users, deleted_users, groups, user(key), request_log,
write_count, throttled, violations, max_concurrency.

Faithful to Graph / Entra (per shared/reference/graph-msal.md)
  * AADSTS error bodies (error, error_description, error_codes, trace/correlation ids):
    wrong secret 401 invalid_client AADSTS7000215, unknown tenant 400 AADSTS90002 (discovery
    answers invalid_tenant, as Entra does), unknown client 400 unauthorized_client
    AADSTS700016, scope without /.default AADSTS1002012. Certificate client assertions
    (msal's PS256/x5t#S256 and RS256/x5t) are verified with ``cryptography``.
  * Graph error shape {"error": {code, message, innerError{date, request-id,
    client-request-id}, details}} with the real codes and messages for: duplicate UPN
    (400 Request_BadRequest + ObjectConflict detail), password complexity, invalid
    UPN/domain, missing usageLocation on assignLicense, 404 Request_ResourceNotFound,
    403 Authorization_RequestDenied, 401 InvalidAuthenticationToken, already-a-member,
    "A resource cannot contain more than 20 link changes", 429 TooManyRequests + Retry-After.
  * Soft delete: deleted users leave the UPN free and show up in deletedItems with the
    UPN prefixed by their id without dashes, as Entra does; restore fails on a UPN conflict;
    group memberships survive soft delete and come back on restore.
  * $filter on users: eq / in (at most 15 values) / startswith by default; employeeType, endswith, ne and
    eq null need ``ConsistencyLevel: eventual`` + ``$count=true`` (else 400
    Request_UnsupportedQuery). employeeId is returned only when $select-ed.
  * $batch: max 20, unique ids, dependsOn (424 on a failed dependency), each sub-request
    metered and throttled on its own (sub-response 429 with Retry-After in its headers),
    outer status 200, responses in shuffled order (match by id!).
  * Write quota per app (client id): every POST/PATCH/DELETE, including each batch
    sub-request, costs 1 write; ``x-ms-throttle-limit-percentage`` once >80% is used;
    429 carries ``x-ms-throttle-scope`` / ``x-ms-throttle-information``.

Simplified
  * The write quota is a sliding window (``write_limit`` writes per ``write_window`` s,
    default 20/1 s) instead of Entra's 3,000/150 s token bucket; throttled requests do not
    consume quota; reads and the RU quota are not metered; the $batch envelope costs nothing.
  * One tenant, one app; tokens are opaque strings, not JWTs; no roles in tokens: a missing
    permission is simulated with ``g.permission_denied`` (True = every Graph call 403,
    "writes" = only POST/PATCH/DELETE 403).
  * No replication delay; no proxyAddresses/mail uniqueness; groups are hard-deleted;
    licences have no service plans; error wording marked "approximate" in the code was not
    confirmed against the live service.
  * Violations: a Graph request from an app that arrives more than ``violation_grace`` s
    after a 429 (or injected failure) carrying Retry-After was issued to that app, and before
    that Retry-After has run out. The app is the unit, so every worker of a client must
    honour a Retry-After that any one worker received. A request is timed from when the
    client handed it to its transport (requests' ``HTTPAdapter.send``, stamped in a header by
    ``stamp_sends``), not from when a server thread got round to reading it: client and
    stand-in share one GIL, so on a busy machine a request sent in time could be read a
    tenth of a second later. The grace (default 0.1 s) absorbs requests that had passed the
    client's gate but were still being sent, and the answer's own way back to the client: at
    50 ms latency such stragglers arrived up to 12 ms late with 16 workers, 62 ms with 32,
    ~100 ms with 48 and ~190 ms with 64 (raise the grace for such worker counts).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import math
import random
import re
import secrets
import socket
import ssl
import tempfile
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import requests
import trustme
from requests.adapters import HTTPAdapter
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

GRAPH_SCOPE_RESOURCES = {"https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"}
A1_SKUS = {  # skuPartNumber -> skuId (reference §2)
    "STANDARDWOFFPACK_STUDENT": "314c4481-f395-4525-be8b-2ec4bb1e9d91",
    "STANDARDWOFFPACK_IW_STUDENT": "e82ae690-a2d5-4d76-8d30-7c6e01e6022e",
}
IN_LIMIT = 15  # values one $filter "in" may list
WRITES = {"POST", "PATCH", "PUT", "DELETE"}
JSON_CT = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

USER_PROPS = {
    "id", "accountEnabled", "ageGroup", "assignedLicenses", "businessPhones", "city", "companyName",
    "consentProvidedForMinor", "country", "createdDateTime", "deletedDateTime", "department",
    "displayName", "employeeHireDate", "employeeId", "employeeLeaveDateTime", "employeeType",
    "givenName", "jobTitle", "mail", "mailNickname", "mobilePhone", "officeLocation",
    "onPremisesImmutableId", "otherMails", "passwordPolicies", "passwordProfile", "postalCode",
    "preferredLanguage", "state", "streetAddress", "surname", "usageLocation",
    "userPrincipalName", "userType",
}
USER_DEFAULT = ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"]
USER_READONLY = {"id", "assignedLicenses", "createdDateTime", "deletedDateTime"}
USER_REQUIRED = ["accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile"]
USER_FILTER = {"id", "accountEnabled", "employeeId", "employeeType", "userPrincipalName", "mail",
               "mailNickname", "displayName", "givenName", "surname", "department", "jobTitle",
               "companyName", "officeLocation", "usageLocation"}
GROUP_PROPS = {"id", "createdDateTime", "description", "displayName", "groupTypes", "mail",
               "mailEnabled", "mailNickname", "securityEnabled", "visibility"}
GROUP_REQUIRED = ["displayName", "mailEnabled", "mailNickname", "securityEnabled"]
GROUP_FILTER = {"id", "displayName", "mailNickname", "mailEnabled", "securityEnabled", "description"}
ADVANCED_ONLY = {"employeeType"}
LIST_PROPS = {"businessPhones", "otherMails", "assignedLicenses", "groupTypes"}

UPN_LOCAL = re.compile(r"[A-Za-z0-9'.\-_!#^~]{1,64}")
NICKNAME = re.compile(r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]{1,64}")
BIND_URL = re.compile(r"/(?:directoryObjects|users)/([^/?#]+)$")


class GraphError(Exception):
    """Raised inside a handler; rendered as a Graph error body."""

    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details, self.headers = details, headers or {}


def _not_found(key):
    return GraphError(404, "Request_ResourceNotFound",
                      f"Resource '{key}' does not exist or one of its queried reference-property "
                      "objects are not present.")


def _invalid(prop, resource="User"):
    return GraphError(400, "Request_BadRequest",
                      f"Invalid value specified for property '{prop}' of resource '{resource}'.")


def _conflict(prop):
    return GraphError(400, "Request_BadRequest",
                      f"Another object with the same value for property {prop} already exists.",
                      details=[{"code": "ObjectConflict", "message": "", "target": prop}])


class _AadError(Exception):
    def __init__(self, status, error, code, description):
        super().__init__(description)
        self.status, self.error, self.code, self.description = status, error, code, description


SENT_HEADER = "X-Standin-Sent"


def stamp_sends() -> None:
    """Stamp every request this process sends through requests with the moment it was handed to
    the transport (``time.monotonic``, which the stand-in's threads share), so a violation is
    judged by when the client sent a request. Installed once, by the first stand-in started; a
    header no real service reads. A request already stamped keeps its stamp (a test may send
    one as if it had been held up on its way)."""
    if getattr(HTTPAdapter.send, "stamps_sends", False):
        return
    original = HTTPAdapter.send

    def send(self, request, *args, **kwargs):
        request.headers.setdefault(SENT_HEADER, repr(time.monotonic()))
        return original(self, request, *args, **kwargs)

    send.stamps_sends = True
    HTTPAdapter.send = send


def sent_at(headers, arrived: float) -> float:
    """When the client sent the request (its stamp), or when it arrived if it carries none."""
    try:
        return float(headers.get(SENT_HEADER) or arrived)
    except ValueError:
        return arrived


@dataclass
class LoggedRequest:
    """One request as the stand-in saw it (appended when it completes)."""

    time: float              # arrival, seconds since the stand-in started
    method: str
    path: str                # server path without query: /v1.0/users, /<tenant>/oauth2/v2.0/token
    query: str = ""
    status: int | None = None  # None: connection dropped before anything was applied
    app: str | None = None   # client id behind the bearer token (Graph requests only)
    batch: int | None = None  # serial of the $batch envelope, on it and on its sub-requests
    violation: bool = False
    dropped: bool = False
    duration: float = 0.0
    body: object = None      # the JSON body sent (for $batch: on each sub-request's entry)


# ----------------------------------------------------------------------------- $filter

_TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|([(),])|([^\s(),']+))")


def _same(stored, value):
    if isinstance(stored, str) and isinstance(value, str):
        return stored.casefold() == value.casefold()
    return stored == value and type(stored) is type(value)


class _Filter:
    """Tiny OData $filter parser: eq, ne, in, startswith, endswith, and, or, not, parentheses."""

    def __init__(self, text, allowed, resource, advanced):
        self.text, self.allowed, self.resource, self.advanced = text, allowed, resource, advanced
        self.toks, pos, text = [], 0, text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                self._bad()
            s, p, w = m.groups()
            self.toks.append(("s", s[1:-1].replace("''", "'")) if s is not None else ("p", p) if p else ("w", w))
            pos = m.end()
        self.i = 0

    def parse(self):
        f = self._or()
        if self.i != len(self.toks):
            self._bad()
        return f

    def _bad(self):
        raise GraphError(400, "BadRequest", f"Invalid filter clause: {self.text}")

    def _unsupported(self, prop):
        raise GraphError(400, "Request_UnsupportedQuery", "Unsupported or invalid query filter clause "
                         f"specified for property '{prop}' of resource '{self.resource}'.")

    def _peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def _next(self):
        tok = self._peek()
        if tok[0] is None:
            self._bad()
        self.i += 1
        return tok

    def _expect(self, p):
        if self._next() != ("p", p):
            self._bad()

    def _kw(self, word):
        kind, val = self._peek()
        if kind == "w" and val.lower() == word:
            self.i += 1
            return True
        return False

    def _or(self):
        fs = [self._and()]
        while self._kw("or"):
            fs.append(self._and())
        return fs[0] if len(fs) == 1 else (lambda o: any(f(o) for f in fs))

    def _and(self):
        fs = [self._atom()]
        while self._kw("and"):
            fs.append(self._atom())
        return fs[0] if len(fs) == 1 else (lambda o: all(f(o) for f in fs))

    def _prop(self, tok):
        if tok[0] != "w" or tok[1] not in self.allowed:
            self._unsupported(tok[1])
        if tok[1] in ADVANCED_ONLY and not self.advanced:
            self._unsupported(tok[1])
        return tok[1]

    def _value(self):
        kind, val = self._next()
        if kind == "s":
            return val
        if kind == "w" and val.lower() in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[val.lower()]
        if kind == "w" and re.fullmatch(r"-?\d+", val):
            return int(val)
        self._bad()

    def _atom(self):
        if self._kw("not"):
            if not self.advanced:
                self._unsupported("not")
            inner = self._atom()
            return lambda o: not inner(o)
        kind, val = self._next()
        if (kind, val) == ("p", "("):
            f = self._or()
            self._expect(")")
            return f
        if kind == "w" and val.lower() in ("startswith", "endswith"):
            fn = val.lower()
            self._expect("(")
            prop = self._prop(self._next())
            if fn == "endswith" and not self.advanced:
                self._unsupported(prop)
            self._expect(",")
            arg = self._value()
            self._expect(")")
            if not isinstance(arg, str):
                self._bad()
            return lambda o: isinstance(o.get(prop), str) and getattr(o[prop].casefold(), fn)(arg.casefold())
        prop = self._prop((kind, val))
        op = (self._next()[1] or "").lower()
        if op in ("eq", "ne"):
            arg = self._value()
            if (arg is None or op == "ne") and not self.advanced:
                self._unsupported(prop)
            if arg is None:
                return lambda o: (o.get(prop) is None) == (op == "eq")
            return (lambda o: _same(o.get(prop), arg)) if op == "eq" else (lambda o: not _same(o.get(prop), arg))
        if op == "in":
            self._expect("(")
            args = [self._value()]
            while self._peek() == ("p", ","):
                self.i += 1
                args.append(self._value())
            self._expect(")")
            if len(args) > IN_LIMIT:  # wording approximate
                raise GraphError(400, "Request_UnsupportedQuery",
                                 "Too many child clauses specified in search filter expression containing "
                                 f"'OR' operators: {len(args)}. Max allowed: {IN_LIMIT}.")
            return lambda o: any(_same(o.get(prop), a) for a in args)
        self._unsupported(prop)


def _password_ok(pw):
    if not isinstance(pw, str) or not 8 <= len(pw) <= 256 or not all(32 <= ord(c) < 127 for c in pw):
        return False
    classes = [any(c.isupper() for c in pw), any(c.islower() for c in pw),
               any(c.isdigit() for c in pw), any(not c.isalnum() for c in pw)]
    return sum(classes) >= 3


def _b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _now_iso():
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------- server plumbing

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, standin):
        self.standin = standin
        self.live: dict = {}  # socket -> handler thread
        self.live_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request, client_address):
        # Registered here, in the serving thread, so close() sees every connection thread.
        t = threading.Thread(target=self._run, args=(request, client_address), name="graph-standin-conn",
                             daemon=True)
        with self.live_lock:
            self.live[request] = t
        t.start()

    def _run(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception:
            pass  # client reset, TLS failure, or our own shutdown of the socket
        finally:
            self.shutdown_request(request)
            with self.live_lock:
                self.live.pop(request, None)

    def close_connections(self, timeout=5.0):
        with self.live_lock:
            items = list(self.live.items())
        for sock, _ in items:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # below the TLS layer: wakes the reader
            except OSError:
                pass
        for _, t in items:
            t.join(timeout)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # idle keep-alive connections
    disable_nagle_algorithm = True  # headers and body are two writes: avoid a 40 ms delayed-ACK stall

    def setup(self):
        self.request.settimeout(self.timeout)
        self.request.do_handshake()  # TLS handshake in this connection's thread, not the acceptor
        super().setup()

    def _dispatch(self):
        self.server.standin._serve(self)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch

    def log_message(self, *args):
        pass


# ----------------------------------------------------------------------------- the stand-in

class GraphStandIn:
    """Entra token endpoint + Graph v1.0 subset on https://127.0.0.1:<ephemeral port>.

    Constructor keywords (all optional): tenant_id, client_id, client_secret,
    write_limit (writes per window per app; None = unmetered), write_window (seconds),
    latency (seconds slept per HTTP request), violation_grace (seconds), token_lifetime
    (expires_in), verified_domains (None = any UPN domain accepted), skus
    ({skuPartNumber: seats}), page_size (default $top), shuffle_batch, seed.
    ``latency``, ``write_limit``, ``write_window``, ``violation_grace`` and
    ``permission_denied`` may be changed while running.
    """

    def __init__(self, *, tenant_id="3f7c2d18-5b6a-4e9f-8c21-0a5e7b9d4c10",
                 client_id="8d2e6f41-7a3b-4c5d-9e8f-1b2c3d4e5f60",
                 client_secret="Syn8Q~thetic-test-secret.not-real_0123",
                 write_limit: int | None = 20, write_window=1.0, latency=0.0, violation_grace=0.1,
                 token_lifetime=3599, verified_domains=None, skus=None, page_size=100,
                 shuffle_batch=True, seed=0):
        self.tenant_id, self.client_id, self.client_secret = tenant_id, client_id, client_secret
        self.write_limit, self.write_window, self.latency = write_limit, write_window, latency
        self.violation_grace, self.token_lifetime, self.page_size = violation_grace, token_lifetime, page_size
        self.verified_domains = {d.lower() for d in verified_domains} if verified_domains else None
        self.shuffle_batch = shuffle_batch
        self.permission_denied: bool | str = False
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._t0 = time.monotonic()
        self._users: dict[str, dict] = {}
        self._upn: dict[str, str] = {}  # casefolded UPN -> id (active users)
        self._deleted: dict[str, dict] = {}
        self._groups: dict[str, dict] = {}
        self._skus = {part: {"skuId": A1_SKUS.get(part) or str(uuid.uuid5(uuid.NAMESPACE_URL, part)),
                             "seats": seats}
                      for part, seats in (skus or {"STANDARDWOFFPACK_STUDENT": 1_000_000,
                                                   "STANDARDWOFFPACK_IW_STUDENT": 10}).items()}
        self._tokens: dict[str, tuple[str, float]] = {}
        self._certs: list[tuple[x509.Certificate, bytes, bytes]] = []
        self._writes: dict[str, deque] = defaultdict(deque)
        self._blocked: dict[str, tuple[float, float]] = {}  # app -> (told_at, until)
        self._faults = {"graph": deque(), "token": deque()}
        self._batch_faults: deque = deque()
        self._storm: tuple[float, int, float | None] | None = None  # (share, status, retry_after)
        self._expire_in: int | None = None  # Graph requests until every token expires
        self._batch_serial = 0
        self._in_flight = 0
        self._log: list[LoggedRequest] = []
        self.write_count = self.throttled = self.violations = self.max_concurrency = 0
        self._server: _Server | None = None
        self._ca = trustme.CA()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> "GraphStandIn":
        if self._server:
            return self
        stamp_sends()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
        fd, name = tempfile.mkstemp(prefix="graph-standin-ca-", suffix=".pem")
        with open(fd, "wb") as fh:
            fh.write(self._ca.cert_pem.bytes())
        self.ca_path = name
        self._server = _Server(self)
        self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True,
                                              do_handshake_on_connect=False)
        self.port = self._server.server_address[1]
        self.authority_host = f"https://127.0.0.1:{self.port}"
        self.graph_url = f"{self.authority_host}/v1.0"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="graph-standin", daemon=True)
        self._thread.start()
        return self

    def close(self):
        if not self._server:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(5)
        self._server = None
        Path(self.ca_path).unlink(missing_ok=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    @property
    def authority(self):
        return f"{self.authority_host}/{self.tenant_id}"

    def session(self, pool_maxsize=32) -> requests.Session:
        """A requests.Session that trusts the stand-in (trust_env=False: REQUESTS_CA_BUNDLE ignored)."""
        s = requests.Session()
        s.verify, s.trust_env = self.ca_path, False
        s.mount("https://", HTTPAdapter(pool_connections=1, pool_maxsize=pool_maxsize))
        return s

    # -- test controls ---------------------------------------------------------------------

    def fail_next(self, status=503, count=1, retry_after=None, target="graph"):
        """The next ``count`` Graph requests (or token POSTs, target="token") fail with ``status``."""
        with self._lock:
            self._faults[target].extend([("fail", status, retry_after)] * count)

    def drop_next(self, count=1, target="graph"):
        """Read the next ``count`` Graph requests (or token POSTs), apply nothing, close without answering."""
        with self._lock:
            self._faults[target].extend([("drop",)] * count)

    def drop_after_apply_next(self, count=1):
        """Apply the next ``count`` Graph requests, then close without answering (a lost response)."""
        with self._lock:
            self._faults["graph"].extend([("drop_after",)] * count)

    def cut_next(self, count=1):
        """Apply the next ``count`` Graph requests, then send the headers and half the body and
        close: the connection dropped mid-response."""
        with self._lock:
            self._faults["graph"].extend([("cut",)] * count)

    def slow_next(self, seconds, count=1):
        """Apply the next ``count`` Graph requests, then wait ``seconds`` before answering: a
        response slower than a client's timeout arrives after the client gave up on it."""
        with self._lock:
            self._faults["graph"].extend([("slow", seconds)] * count)

    def storm(self, share=0.9, status=429, retry_after=0):
        """From now on, each Graph request and each $batch sub-request fails with ``status``
        (Retry-After ``retry_after``) with probability ``share``, drawn from the seeded generator;
        ``storm(0)`` ends it. The requests that fail are not applied."""
        with self._lock:
            self._storm = (share, status, retry_after) if share else None

    def expire_tokens_after(self, requests):
        """Every token issued so far expires once ``requests`` more Graph requests have been
        answered: a token that runs out mid-run."""
        with self._lock:
            self._expire_in = requests

    def _storm_hit(self):
        """The failure the storm gives this request, or None."""
        with self._lock:
            if self._storm and self._rng.random() < self._storm[0]:
                return self._storm[1:]
        return None

    def fail_in_batch(self, positions, status=503, retry_after=None):
        """In the next $batch, sub-requests at these 0-based positions get ``status`` instead of running."""
        with self._lock:
            self._batch_faults.append({p: (status, retry_after) for p in positions})

    def expire_tokens(self):
        """Every issued access token now fails with 401 InvalidAuthenticationToken (expired)."""
        with self._lock:
            self._tokens = {t: (app, 0.0) for t, (app, _) in self._tokens.items()}

    def issue_client_certificate(self) -> dict:
        """Register a new certificate on the app; returns msal's ``client_credential`` dict for it."""
        leaf = self._ca.issue_cert("pupil-provisioner.invalid", key_type=trustme.KeyType.RSA)  # RS256/PS256
        cert_pem = leaf.cert_chain_pems[0].bytes()
        cert = x509.load_pem_x509_certificate(cert_pem)
        with self._lock:
            self._certs.append((cert, cert.fingerprint(hashes.SHA1()), cert.fingerprint(hashes.SHA256())))
        return {"private_key": leaf.private_key_pem.bytes().decode(), "public_certificate": cert_pem.decode()}

    def add_user(self, **props) -> dict:
        """Pre-seed a user the tool did not create (no quota, no validation beyond a unique UPN)."""
        upn = props["userPrincipalName"]
        with self._lock:
            if upn.casefold() in self._upn:
                raise ValueError(f"duplicate userPrincipalName {upn}")
            user = {"accountEnabled": True, "displayName": upn.split("@")[0],
                    "mailNickname": upn.split("@")[0], **props}
            return copy.deepcopy(self._store_user(user))

    def add_group(self, displayName, members=(), **props) -> dict:
        with self._lock:
            group = self._store_group({"displayName": displayName, "mailEnabled": False,
                                       "mailNickname": re.sub(r"[^A-Za-z0-9]", "", displayName) or "group",
                                       "securityEnabled": True, **props})
            group["members"].extend(self._find_user(m)["id"] for m in members)
            return copy.deepcopy(group)

    def add_member(self, group_id, user_id):
        """An admin adds a member to a group by hand (not through the API, so not logged)."""
        with self._lock:
            self._groups[group_id]["members"].append(user_id)

    def remove_member(self, group_id, user_id):
        """An admin takes a member out of a group by hand (not through the API, so not logged)."""
        with self._lock:
            self._groups[group_id]["members"].remove(user_id)

    def directory(self) -> dict:
        """A copy of the tenant's directory (users, deleted users, groups), for ``restore``."""
        with self._lock:
            return copy.deepcopy({"users": self._users, "upn": self._upn, "deleted": self._deleted,
                                  "groups": self._groups})

    def restore(self, directory: dict):
        """Put the directory back as ``directory()`` copied it, and clear the faults waiting: one
        stand-in serves tests in turn, each from the same tenant."""
        with self._lock:
            copied = copy.deepcopy(directory)
            self._users, self._upn, self._deleted, self._groups = (copied["users"], copied["upn"],
                                                                   copied["deleted"], copied["groups"])
            self._faults = {"graph": deque(), "token": deque()}
            self._batch_faults.clear()
            self._storm = self._expire_in = None

    def reset_counters(self):
        """Clear request_log, write_count, throttled, violations, max_concurrency (not the directory)."""
        with self._lock:
            self._log.clear()
            self.write_count = self.throttled = self.violations = 0
            self.max_concurrency = self._in_flight

    # -- introspection (snapshots) ---------------------------------------------------------

    @property
    def users(self) -> dict[str, dict]:
        with self._lock:
            return copy.deepcopy(self._users)

    @property
    def deleted_users(self) -> dict[str, dict]:
        with self._lock:
            return copy.deepcopy(self._deleted)

    @property
    def groups(self) -> dict[str, dict]:
        with self._lock:
            return copy.deepcopy(self._groups)

    @property
    def request_log(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    def user(self, key) -> dict | None:
        """Active user by id or userPrincipalName, or None."""
        with self._lock:
            uid = key if key in self._users else self._upn.get(key.casefold())
            return copy.deepcopy(self._users[uid]) if uid else None

    # -- request entry point ---------------------------------------------------------------

    def _serve(self, h: _Handler):
        arrived = time.monotonic()
        with self._lock:
            self._in_flight += 1
            self.max_concurrency = max(self.max_concurrency, self._in_flight)
        url = urlsplit(h.path)
        path = unquote(url.path)
        graph = path == "/v1.0" or path.startswith("/v1.0/")
        entry = LoggedRequest(arrived - self._t0, h.command, path, url.query)
        logged = False
        try:
            length = int(h.headers.get("Content-Length") or 0)
            raw = h.rfile.read(length) if length > 0 else b""
            if graph and raw and not path.endswith("/$batch"):
                try:
                    entry.body = json.loads(raw)
                except ValueError:
                    entry.body = raw.decode("utf-8", "replace")
            if graph:
                with self._lock:
                    entry.app = self._app_for(h.headers.get("Authorization"), arrived)
                    told, until = self._blocked.get(entry.app, (0.0, 0.0))
                    if entry.app and told + self.violation_grace <= sent_at(h.headers, arrived) < until:
                        entry.violation = True
                        self.violations += 1
            if self.latency:
                time.sleep(self.latency)
            with self._lock:
                queue = self._faults["graph"] if graph else (
                    self._faults["token"] if path.endswith("/oauth2/v2.0/token") else None)  # not discovery
                fault = queue.popleft() if queue else None
                if graph and self._expire_in is not None:
                    self._expire_in -= 1
                    if self._expire_in < 0:
                        self._expire_in = None
                        self._tokens = {t: (app, 0.0) for t, (app, _) in self._tokens.items()}
                        entry.app = None
            if graph and fault is None and not path.endswith("/$batch"):
                hit = self._storm_hit()
                fault = ("fail", *hit) if hit else None
            if fault and fault[0] == "drop":
                entry.dropped = h.close_connection = True
                return
            if fault and fault[0] == "fail":
                status, headers, body = (self._injected(fault[1], fault[2], entry.app, h.headers) if graph
                                         else self._aad(_AadError(fault[1], "temporarily_unavailable", 90033,
                                                                  "A transient error has occurred. Please try again.")))
                if not graph and fault[2] is not None:
                    headers["Retry-After"] = str(fault[2])
            elif graph:
                status, headers, body = self._graph(h.command, path[len("/v1.0"):] or "/", url.query,
                                                    h.headers, raw, entry)
            else:
                status, headers, body = self._token_side(h.command, path, raw)
            entry.status = status
            if fault and fault[0] == "drop_after":
                entry.dropped = h.close_connection = True
                return
            if fault and fault[0] == "slow":
                time.sleep(fault[1])
            data = b"" if body is None else json.dumps(body).encode()
            logged = self._record(entry, arrived)  # before the client can see the answer
            h.send_response(status)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            if fault and fault[0] == "cut":
                entry.dropped = h.close_connection = True
                h.wfile.write(data[: len(data) // 2])
                h.wfile.flush()
                socket.socket.shutdown(h.request, socket.SHUT_RDWR)  # below TLS: no close_notify, a cut line
                return
            h.wfile.write(data)
        finally:
            if not logged:
                self._record(entry, arrived)
            with self._lock:
                self._in_flight -= 1

    def _record(self, entry, arrived):
        entry.duration = time.monotonic() - arrived
        with self._lock:
            self._log.append(entry)
        return True

    def _injected(self, status, retry_after, app, req_headers):
        codes = {429: "TooManyRequests", 500: "generalException", 502: "BadGateway",
                 503: "serviceNotAvailable", 504: "gatewayTimeout"}
        err = GraphError(status, codes.get(status, "UnknownError"),
                         "Please retry again later." if status in (429, 503) else "Injected failure.")
        if retry_after is not None:
            err.headers["Retry-After"] = str(retry_after)
            if app:
                with self._lock:
                    self._tell_wait(app, time.monotonic(), retry_after)
        return self._error(err, req_headers)

    # -- token side ------------------------------------------------------------------------

    def _aad(self, err: _AadError):
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        ts = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        body = {"error": err.error,
                "error_description": f"AADSTS{err.code}: {err.description} Trace ID: {trace} "
                                     f"Correlation ID: {corr} Timestamp: {ts}",
                "error_codes": [err.code], "timestamp": ts, "trace_id": trace, "correlation_id": corr,
                "error_uri": f"{self.authority_host}/error?code={err.code}"}
        return err.status, {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}, body

    def _token_side(self, method, path, raw):
        m = re.fullmatch(r"/([^/]+)/(v2\.0/\.well-known/openid-configuration|oauth2/v2\.0/token)", path)
        if not m:
            return 404, {"Content-Type": "application/json"}, {"error": "not_found"}
        tenant, what = m.groups()
        try:
            if tenant != self.tenant_id:
                raise _AadError(400, "invalid_tenant" if what.startswith("v2.0") else "invalid_request",
                                90002, f"Tenant '{tenant}' not found. Check to make sure you have the "
                                "correct tenant ID and are signing into the correct cloud.")
            base = f"{self.authority_host}/{tenant}"
            if what.startswith("v2.0") and method == "GET":
                return 200, {"Content-Type": "application/json; charset=utf-8"}, {
                    "issuer": f"{base}/v2.0", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token", "jwks_uri": f"{base}/discovery/v2.0/keys",
                    "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                    "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                              "client_secret_basic"],
                    "tenant_region_scope": "EU"}
            if what.startswith("oauth2") and method == "POST":
                return self._issue_token(dict(parse_qsl(raw.decode(), keep_blank_values=True)),
                                         f"{base}/oauth2/v2.0/token")
            raise _AadError(405, "invalid_request", 900561,
                            "The endpoint only accepts POST requests." if "token" in what else "GET only.")
        except _AadError as e:
            return self._aad(e)

    def _issue_token(self, form, token_endpoint):
        if form.get("grant_type") != "client_credentials":
            raise _AadError(400, "unsupported_grant_type", 70003,
                            f"The app requested an unsupported grant type '{form.get('grant_type')}'.")
        client = form.get("client_id", "")
        if client != self.client_id:
            raise _AadError(400, "unauthorized_client", 700016,
                            f"Application with identifier '{client}' was not found in the directory "
                            f"'{self.tenant_id}'. This can happen if the application has not been installed "
                            "by the administrator of the tenant or consented to by any user in the tenant. "
                            "You may have sent your authentication request to the wrong tenant.")
        scope = form.get("scope", "").split()
        scope = next((s for s in scope if s not in ("openid", "profile", "offline_access")), "")
        if not scope.endswith("/.default"):
            raise _AadError(400, "invalid_scope", 1002012,
                            f"The provided value for scope {scope} is not valid. Client credential flows "
                            "must have a scope value with /.default suffixed to the resource identifier "
                            "(application ID URI).")
        resource = scope[: -len("/.default")]
        if resource not in GRAPH_SCOPE_RESOURCES:
            raise _AadError(400, "invalid_resource", 500011,
                            f"The resource principal named {resource} was not found in the tenant named "
                            f"{self.tenant_id}.")
        if form.get("client_assertion"):
            self._check_assertion(form, token_endpoint)
        elif form.get("client_secret") is not None:
            if form["client_secret"] != self.client_secret:
                raise _AadError(401, "invalid_client", 7000215,
                                "Invalid client secret provided. Ensure the secret being sent in the request "
                                "is the client secret value, not the client secret ID, for a secret added to "
                                f"app '{self.client_id}'.")
        else:
            raise _AadError(401, "invalid_client", 7000216, "'client_assertion', 'client_secret' or "
                            "'request' is required for the 'client_credentials' grant type.")
        token = "standin." + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (client, time.monotonic() + self.token_lifetime)
        return 200, {"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"}, {
            "token_type": "Bearer", "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime, "access_token": token}

    def _check_assertion(self, form, token_endpoint):
        """Verify msal's client assertion JWT (RS256+x5t or PS256+x5t#S256) with ``cryptography``."""
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            raise _AadError(400, "invalid_request", 50027, "Invalid client_assertion_type.")  # approximate
        try:
            h64, p64, s64 = form["client_assertion"].split(".")
            header, claims = json.loads(_b64url_decode(h64)), json.loads(_b64url_decode(p64))
            signature = _b64url_decode(s64)
        except (ValueError, TypeError):
            raise _AadError(400, "invalid_request", 50027, "JWT token is invalid or malformed.") from None
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            raise _AadError(401, "invalid_client", 700021,
                            "Client assertion application identifier doesn't match 'client_id' parameter.")
        if claims.get("aud") != token_endpoint:
            raise _AadError(401, "invalid_client", 700027,  # approximate wording
                            f"Client assertion contains an invalid audience; expected '{token_endpoint}'.")
        if not claims.get("exp") or claims["exp"] < time.time():
            raise _AadError(401, "invalid_client", 700024, "Client assertion is not within its valid time range.")
        wanted_sha1 = _b64url_decode(header["x5t"]) if header.get("x5t") else None
        wanted_sha256 = _b64url_decode(header["x5t#S256"]) if header.get("x5t#S256") else None
        with self._lock:
            cert = next((c for c, s1, s256 in self._certs if s1 == wanted_sha1 or s256 == wanted_sha256), None)
        if cert is None:
            raise _AadError(401, "invalid_client", 700027, "The certificate with identifier used to sign "
                            "the client assertion is not registered on application.")
        pad = {"RS256": padding.PKCS1v15(),
               "PS256": padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)}
        try:
            cert.public_key().verify(signature, f"{h64}.{p64}".encode(), pad[header.get("alg")], hashes.SHA256())
        except (InvalidSignature, KeyError):
            raise _AadError(401, "invalid_client", 700027,
                            "Client assertion failed signature validation.") from None

    # -- Graph: envelope, auth, throttling -------------------------------------------------

    def _app_for(self, authorization, now):
        if not authorization or not authorization.startswith("Bearer "):
            return None
        app, exp = self._tokens.get(authorization[7:], (None, 0.0))
        return app if now < exp else None

    def _error(self, err: GraphError, req_headers):
        inner = {"date": _now_iso(), "request-id": str(uuid.uuid4()),
                 "client-request-id": req_headers.get("client-request-id") or str(uuid.uuid4())}
        body = {"error": {"code": err.code, "message": err.message, "innerError": inner}}
        if err.details:
            body["error"]["details"] = err.details
        return err.status, {"Content-Type": JSON_CT, **err.headers}, body

    def _graph(self, method, path, query, headers, raw, entry):
        try:
            auth = headers.get("Authorization") or ""
            if not auth.startswith("Bearer ") or not auth[7:].strip():
                raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.",
                                 headers={"WWW-Authenticate": 'Bearer realm=""'})
            if entry.app is None:
                known = auth[7:] in self._tokens
                raise GraphError(401, "InvalidAuthenticationToken",
                                 "Lifetime validation failed, the token is expired." if known
                                 else "Access token validation failure. Invalid audience.",
                                 headers={"WWW-Authenticate": 'Bearer realm=""'})
            try:
                body = json.loads(raw) if raw.strip() else None
            except ValueError:
                raise GraphError(400, "BadRequest", "Unable to read JSON request payload. Please ensure "
                                 "Content-Type header is set and payload is of valid JSON format.") from None
            if path == "/$batch":
                if method != "POST":
                    raise GraphError(405, "Request_BadRequest",
                                     "Specified HTTP method is not allowed for the request target.")
                status, out_headers, out = self._batch(entry.app, body, headers, entry)
            else:
                status, out_headers, out = self._execute(entry.app, method, path, query, headers, body)
        except GraphError as e:
            return self._error(e, headers)
        except Exception as e:  # a stand-in bug: answer 500 rather than dropping the connection
            return self._error(GraphError(500, "generalException", f"stand-in error: {e!r}"), headers)
        out_headers.update({"request-id": str(uuid.uuid4()),
                            "client-request-id": headers.get("client-request-id") or str(uuid.uuid4())})
        return status, out_headers, out

    def _tell_wait(self, app, now, retry_after):
        told, until = self._blocked.get(app, (0.0, 0.0))
        if now >= until:
            told = now
        self._blocked[app] = (told, max(until, now + retry_after))

    def _admit_write(self, app):
        """Sliding-window write quota; returns None (admitted) or extra response headers."""
        now = time.monotonic()
        if self.write_limit is None:
            self.write_count += 1
            return None, {}
        window = self._writes[app]
        while window and window[0] <= now - self.write_window:
            window.popleft()
        if len(window) >= self.write_limit:
            retry_after = max(1, math.ceil(window[0] + self.write_window - now))
            self._tell_wait(app, now, retry_after)
            self.throttled += 1
            raise GraphError(429, "TooManyRequests", "Please retry again later.", headers={
                "Retry-After": str(retry_after), "x-ms-throttle-information": "WriteLimitExceeded",
                "x-ms-throttle-scope": f"Tenant_Application/Write/{app}/{self.tenant_id}"})
        window.append(now)
        self.write_count += 1
        used = len(window) / self.write_limit
        return None, ({"x-ms-throttle-limit-percentage": f"{used:.1f}"} if used > 0.8 else {})

    def _execute(self, app, method, target_path, query, headers, body):
        """Run one Graph call (top-level or batch sub-request). Returns (status, headers, body)."""
        handler, params = self._route(method, target_path)
        if self.permission_denied is True or (self.permission_denied == "writes" and method in WRITES):
            raise GraphError(403, "Authorization_RequestDenied",
                             "Insufficient privileges to complete the operation.")
        q = dict(parse_qsl(query, keep_blank_values=True))
        hdrs = {k.lower(): v for k, v in headers.items()}
        advanced = hdrs.get("consistencylevel", "").lower() == "eventual" and q.get("$count") == "true"
        with self._lock:
            extra = self._admit_write(app)[1] if method in WRITES else {}
            status, out = handler(params=params, q=q, advanced=advanced, body=body)
        out_headers = {**extra}
        if out is not None:
            out_headers["Content-Type"] = JSON_CT
        return status, out_headers, out

    # -- routing ---------------------------------------------------------------------------

    def _route(self, method, path):
        allowed = False
        for methods, pattern, name in _ROUTES:
            m = re.fullmatch(pattern, path)
            if m:
                if method in methods:
                    return getattr(self, name), {k: unquote(v) for k, v in m.groupdict().items()}
                allowed = True
        if allowed:
            raise GraphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
        segment = path.strip("/").split("/")[0] or path
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")

    # -- $batch ----------------------------------------------------------------------------

    def _batch(self, app, body, headers, entry):
        with self._lock:
            self._batch_serial += 1
            serial = entry.batch = self._batch_serial
        reqs = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(reqs, list) or not reqs or not all(isinstance(r, dict) for r in reqs):
            raise GraphError(400, "BadRequest", "Invalid batch payload format.")  # approximate
        if len(reqs) > 20:
            raise GraphError(400, "BadRequest",  # approximate wording
                             f"The number of requests in the batch ({len(reqs)}) exceeds the limit of 20.")
        by_id = {}
        for r in reqs:
            if not all(isinstance(r.get(k), str) and r.get(k) for k in ("id", "method", "url")):
                raise GraphError(400, "BadRequest", "Each batch request needs id, method and url.")
            if r["id"].lower() in by_id:
                raise GraphError(400, "BadRequest", f"Batch request ids must be unique: '{r['id']}'.")
            by_id[r["id"].lower()] = r
        for r in reqs:
            for dep in r.get("dependsOn") or []:
                if str(dep).lower() not in by_id:
                    raise GraphError(400, "BadRequest", f"Request '{r['id']}' depends on unknown id '{dep}'.")
        with self._lock:
            faults = self._batch_faults.popleft() if self._batch_faults else {}
        position = {r["id"].lower(): i for i, r in enumerate(reqs)}
        results: dict[str, dict] = {}
        visiting: set[str] = set()

        def run(key):
            if key in results:
                return results[key]
            if key in visiting:
                raise GraphError(400, "BadRequest", "Circular dependsOn in batch.")
            visiting.add(key)
            sub = by_id[key]
            deps = [run(str(d).lower()) for d in sub.get("dependsOn") or []]
            url = urlsplit(sub["url"])
            path = "/" + unquote(url.path).lstrip("/")
            log = LoggedRequest(time.monotonic() - self._t0, sub["method"].upper(), "/v1.0" + path,
                                url.query, app=app, batch=serial, body=sub.get("body"))
            try:
                if any(d["status"] >= 400 for d in deps):
                    raise GraphError(424, "FailedDependency", "Dependent request failed.")  # approximate
                if url.scheme or url.netloc:
                    raise GraphError(400, "BadRequest", "Batch request urls must be relative.")  # approximate
                sub_headers = sub.get("headers") or {}
                if "body" in sub and not any(k.lower() == "content-type" for k in sub_headers):
                    raise GraphError(400, "BadRequest", "Content-Type header is required when a body is given.")
                stormed = None if position[key] in faults else self._storm_hit()
                if position[key] in faults or stormed:
                    status, retry_after = faults[position[key]] if position[key] in faults else stormed
                    status, hdrs, out = self._injected(status, retry_after, app, sub_headers)
                else:
                    status, hdrs, out = self._execute(app, log.method, path, url.query, sub_headers, sub.get("body"))
            except GraphError as e:
                status, hdrs, out = self._error(e, headers)
            log.status = status
            with self._lock:
                self._log.append(log)
            results[key] = {"id": sub["id"], "status": status, "headers": hdrs}
            if out is not None:
                results[key]["body"] = out
            return results[key]

        for r in reqs:
            run(r["id"].lower())
        responses = [results[r["id"].lower()] for r in reqs]
        if self.shuffle_batch:
            with self._lock:
                self._rng.shuffle(responses)
        return 200, {"Content-Type": JSON_CT}, {"responses": responses}

    # -- projection, paging ----------------------------------------------------------------

    def _projector(self, q, known, default, type_name, extra=None):
        if q.get("$select"):
            select = [p.strip() for p in q["$select"].split(",") if p.strip()]
            for p in select:
                if p not in known:
                    raise GraphError(400, "BadRequest",
                                     f"Could not find a property named '{p}' on type 'microsoft.graph.{type_name}'.")
        else:
            select = default

        def project(obj):
            out = dict(extra or {})
            for p in select:
                out[p] = None if p == "passwordProfile" else copy.deepcopy(
                    obj.get(p, [] if p in LIST_PROPS else None))
            return out

        return project

    def _page(self, items, q, advanced, base_path, project, context):
        top = q.get("$top", str(self.page_size))
        if not top.isdigit() or not 1 <= int(top) <= 999:
            raise GraphError(400, "Request_BadRequest",
                             f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.")
        size, offset = int(top), 0
        if q.get("$skiptoken"):
            try:
                offset = int(json.loads(_b64url_decode(q["$skiptoken"]))["o"])
            except (ValueError, KeyError, TypeError):
                raise GraphError(400, "Request_BadRequest", "Invalid skip token.") from None
        out = {"@odata.context": f"{self.graph_url}/$metadata#{context}",
               "value": [project(x) for x in items[offset:offset + size]]}
        if advanced:
            out["@odata.count"] = len(items)
        if offset + size < len(items):
            token = base64.urlsafe_b64encode(json.dumps({"o": offset + size}).encode()).decode().rstrip("=")
            params = {k: v for k, v in q.items() if k != "$skiptoken"} | {"$skiptoken": token}
            out["@odata.nextLink"] = f"{self.graph_url}{base_path}?{urlencode(params)}"
        return out

    def _filtered(self, objs, q, allowed, resource, advanced):
        if not q.get("$filter"):
            return list(objs)
        pred = _Filter(q["$filter"], allowed, resource, advanced).parse()
        return [o for o in objs if pred(o)]

    # -- users -----------------------------------------------------------------------------

    def _new_id(self):
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _find_user(self, key):
        uid = key if key in self._users else self._upn.get(key.casefold())
        if not uid:
            raise _not_found(key)
        return self._users[uid]

    def _store_user(self, props):
        user = {"id": self._new_id(), "createdDateTime": _now_iso(), "assignedLicenses": [],
                "businessPhones": [], **props}
        self._users[user["id"]] = user
        self._upn[user["userPrincipalName"].casefold()] = user["id"]
        return user

    def _check_user_props(self, body, creating, current=None):
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "Unable to read JSON request payload. Please ensure "
                             "Content-Type header is set and payload is of valid JSON format.")
        for k in body:
            if k not in USER_PROPS:
                raise GraphError(400, "Request_BadRequest",
                                 f"Property '{k}' does not exist as a declared property or extension property.")
            if k in USER_READONLY:
                raise GraphError(400, "Request_BadRequest", f"Property '{k}' is read-only and cannot be set.")
        if creating:
            for k in USER_REQUIRED:
                if body.get(k) in (None, ""):
                    raise _invalid(k)
        if "accountEnabled" in body and not isinstance(body["accountEnabled"], bool):
            raise _invalid("accountEnabled")
        for k in ("displayName", "mailNickname", "userPrincipalName"):
            if k in body and (not isinstance(body[k], str) or not body[k].strip()):
                raise _invalid(k)
        if "displayName" in body and len(body["displayName"]) > 256:
            raise _invalid("displayName")
        if "mailNickname" in body and not NICKNAME.fullmatch(body["mailNickname"]):
            raise _invalid("mailNickname")
        if "employeeId" in body and body["employeeId"] is not None and (
                not isinstance(body["employeeId"], str) or len(body["employeeId"]) > 16):
            raise _invalid("employeeId")
        if body.get("usageLocation") is not None and not re.fullmatch(r"[A-Z]{2}", str(body["usageLocation"])):
            raise _invalid("usageLocation")
        if "passwordProfile" in body:
            prof = body["passwordProfile"]
            if not isinstance(prof, dict) or (creating and not prof.get("password")):
                raise _invalid("passwordProfile")
            if "password" in prof and not _password_ok(prof["password"]):
                raise GraphError(400, "Request_BadRequest", "The specified password does not comply with "
                                 "password complexity requirements. Please provide a different password.")
        if "userPrincipalName" in body:
            upn = body["userPrincipalName"]
            local, _, domain = upn.rpartition("@")
            if not local or not UPN_LOCAL.fullmatch(local) or local.startswith(".") or local.endswith(".") \
                    or ".." in local or not re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", domain):
                raise GraphError(400, "Request_BadRequest", "Property userPrincipalName is invalid.",
                                 details=[{"code": "InvalidValue", "message": "", "target": "userPrincipalName"}])
            if self.verified_domains is not None and domain.lower() not in self.verified_domains:
                raise GraphError(400, "Request_BadRequest", "The domain portion of the userPrincipalName "
                                 "property is invalid. You must use one of the verified domain names in your "
                                 "organization.",
                                 details=[{"code": "InvalidValue", "message": "", "target": "userPrincipalName"}])
            holder = self._upn.get(upn.casefold())
            if holder and (current is None or holder != current["id"]):
                raise _conflict("userPrincipalName")

    def _user_projector(self, q, extra=None):
        return self._projector(q, USER_PROPS, USER_DEFAULT, "user", extra)

    def _list_users(self, params, q, advanced, body):
        users = self._filtered(self._users.values(), q, USER_FILTER, "User", advanced)
        return 200, self._page(users, q, advanced, "/users", self._user_projector(q), "users")

    def _create_user(self, params, q, advanced, body):
        self._check_user_props(body, creating=True)
        user = self._store_user(copy.deepcopy(body))
        return 201, {"@odata.context": f"{self.graph_url}/$metadata#users/$entity",
                     **self._user_projector({})(user)}

    def _get_user(self, params, q, advanced, body):
        return 200, {"@odata.context": f"{self.graph_url}/$metadata#users/$entity",
                     **self._user_projector(q)(self._find_user(params["key"]))}

    def _update_user(self, params, q, advanced, body):
        user = self._find_user(params["key"])
        self._check_user_props(body, creating=False, current=user)
        if "userPrincipalName" in body:
            del self._upn[user["userPrincipalName"].casefold()]
            self._upn[body["userPrincipalName"].casefold()] = user["id"]
        user.update(copy.deepcopy(body))
        return 204, None

    def _delete_user(self, params, q, advanced, body):
        user = self._find_user(params["key"])
        del self._users[user["id"]], self._upn[user["userPrincipalName"].casefold()]
        user["_userPrincipalName"] = user["userPrincipalName"]
        user["userPrincipalName"] = user["id"].replace("-", "") + user["userPrincipalName"]
        user["deletedDateTime"] = _now_iso()
        self._deleted[user["id"]] = user
        return 204, None

    def _assign_license(self, params, q, advanced, body):
        user = self._find_user(params["key"])
        if not isinstance(body, dict):
            raise _invalid("addLicenses")
        for key in ("addLicenses", "removeLicenses"):
            if not isinstance(body.get(key), list):
                raise _invalid(key)  # approximate: both keys are required by Graph
        if not user.get("usageLocation"):
            raise GraphError(400, "Request_BadRequest",
                             "License assignment cannot be done for user with invalid usage location.")
        by_sku = {s["skuId"]: s for s in self._skus.values()}
        held = {lic["skuId"] for lic in user["assignedLicenses"]}
        for lic in body["addLicenses"]:
            sku = by_sku.get(lic.get("skuId") if isinstance(lic, dict) else None)
            if sku is None:
                raise GraphError(400, "Request_BadRequest", f"License {lic} does not correspond to a valid "
                                 "company License.")  # approximate
            if sku["skuId"] not in held and self._consumed(sku["skuId"]) >= sku["seats"]:
                raise GraphError(400, "Request_BadRequest",
                                 f"Subscription {sku['skuId']} does not have any available licenses.")  # approximate
        for sku_id in body["removeLicenses"]:
            if not isinstance(sku_id, str) or sku_id not in held:
                raise GraphError(400, "Request_BadRequest", "User does not have a corresponding license.")
        kept = [lic for lic in user["assignedLicenses"] if lic["skuId"] not in set(body["removeLicenses"])]
        added = {lic["skuId"]: {"disabledPlans": lic.get("disabledPlans") or [], "skuId": lic["skuId"]}
                 for lic in body["addLicenses"]}
        user["assignedLicenses"] = [lic for lic in kept if lic["skuId"] not in added] + list(added.values())
        return 200, {"@odata.context": f"{self.graph_url}/$metadata#users/$entity",
                     **self._user_projector({})(user)}

    def _consumed(self, sku_id):
        return sum(any(lic["skuId"] == sku_id for lic in u["assignedLicenses"]) for u in self._users.values())

    def _list_skus(self, params, q, advanced, body):
        skus = [{"accountName": "SyntheticPrimary", "accountId": self.tenant_id, "appliesTo": "User",
                 "capabilityStatus": "Enabled", "consumedUnits": self._consumed(s["skuId"]),
                 "id": f"{self.tenant_id}_{s['skuId']}",
                 "prepaidUnits": {"enabled": s["seats"], "suspended": 0, "warning": 0, "lockedOut": 0},
                 "servicePlans": [], "skuId": s["skuId"], "skuPartNumber": part, "subscriptionIds": []}
                for part, s in self._skus.items()]
        return 200, {"@odata.context": f"{self.graph_url}/$metadata#subscribedSkus", "value": skus}

    # -- deleted items ---------------------------------------------------------------------

    def _find_deleted(self, key):
        if key not in self._deleted:
            raise _not_found(key)
        return self._deleted[key]

    def _deleted_projector(self, q):
        return self._projector(q, USER_PROPS, USER_DEFAULT + ["deletedDateTime"], "user",
                               {"@odata.type": "#microsoft.graph.user"})

    def _list_deleted(self, params, q, advanced, body):
        users = self._filtered(self._deleted.values(), q, USER_FILTER, "User", advanced)
        return 200, self._page(users, q, advanced, "/directory/deletedItems/microsoft.graph.user",
                               self._deleted_projector(q), "directoryObjects")

    def _get_deleted(self, params, q, advanced, body):
        return 200, self._deleted_projector(q)(self._find_deleted(params["id"]))

    def _restore_deleted(self, params, q, advanced, body):
        user = self._find_deleted(params["id"])
        if user["_userPrincipalName"].casefold() in self._upn:
            raise _conflict("userPrincipalName")
        del self._deleted[user["id"]]
        user["userPrincipalName"] = user.pop("_userPrincipalName")
        user.pop("deletedDateTime", None)
        self._users[user["id"]] = user
        self._upn[user["userPrincipalName"].casefold()] = user["id"]
        return 200, {"@odata.context": f"{self.graph_url}/$metadata#directoryObjects/$entity",
                     **self._user_projector({}, {"@odata.type": "#microsoft.graph.user"})(user)}

    def _purge_deleted(self, params, q, advanced, body):
        user = self._find_deleted(params["id"])
        del self._deleted[user["id"]]
        for group in self._groups.values():
            if user["id"] in group["members"]:
                group["members"].remove(user["id"])
        return 204, None

    # -- groups ----------------------------------------------------------------------------

    def _find_group(self, gid):
        if gid not in self._groups:
            raise _not_found(gid)
        return self._groups[gid]

    def _store_group(self, props):
        group = {"id": self._new_id(), "createdDateTime": _now_iso(), "groupTypes": [], "description": None,
                 "mail": None, "visibility": None, **props, "members": []}
        self._groups[group["id"]] = group
        return group

    def _resolve_binds(self, group, body):
        """Validate members@odata.bind (all-or-nothing); returns the user ids to add."""
        binds = body.get("members@odata.bind", [])
        owners = body.get("owners@odata.bind", [])
        if not isinstance(binds, list) or not isinstance(owners, list):
            raise GraphError(400, "Request_BadRequest", "Invalid URL format specified in @odata.bind for members")
        if len(binds) + len(owners) > 20:
            raise GraphError(400, "Request_BadRequest", "A resource cannot contain more than 20 link changes")
        ids = []
        for ref in binds:
            m = BIND_URL.search(ref) if isinstance(ref, str) else None
            if not m:
                raise GraphError(400, "Request_BadRequest",
                                 "Invalid URL format specified in @odata.bind for members")
            uid = self._find_user(unquote(m.group(1)))["id"]
            if uid in ids or (group and uid in group["members"]):
                raise GraphError(400, "Request_BadRequest", "One or more added object references already "
                                 "exist for the following modified properties: 'members'.")
            ids.append(uid)
        return ids

    def _check_group_props(self, body, creating):
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "Unable to read JSON request payload. Please ensure "
                             "Content-Type header is set and payload is of valid JSON format.")
        for k in body:
            if k not in GROUP_PROPS | {"members@odata.bind", "owners@odata.bind"} or k in ("id", "createdDateTime"):
                raise GraphError(400, "Request_BadRequest",
                                 f"Property '{k}' does not exist as a declared property or extension property.")
        for k in GROUP_REQUIRED if creating else []:
            if body.get(k) in (None, ""):
                raise _invalid(k, "Group")
        for k in ("mailEnabled", "securityEnabled"):
            if k in body and not isinstance(body[k], bool):
                raise _invalid(k, "Group")
        if "mailNickname" in body and not NICKNAME.fullmatch(str(body["mailNickname"])):
            raise _invalid("mailNickname", "Group")

    def _group_projector(self, q):
        return self._projector(q, GROUP_PROPS, sorted(GROUP_PROPS), "group")

    def _list_groups(self, params, q, advanced, body):
        groups = self._filtered(self._groups.values(), q, GROUP_FILTER, "Group", advanced)
        return 200, self._page(groups, q, advanced, "/groups", self._group_projector(q), "groups")

    def _create_group(self, params, q, advanced, body):
        self._check_group_props(body, creating=True)
        ids = self._resolve_binds(None, body)
        props = {k: copy.deepcopy(v) for k, v in body.items() if "@odata.bind" not in k}
        group = self._store_group(props)
        group["members"].extend(ids)
        return 201, {"@odata.context": f"{self.graph_url}/$metadata#groups/$entity",
                     **self._group_projector({})(group)}

    def _get_group(self, params, q, advanced, body):
        return 200, {"@odata.context": f"{self.graph_url}/$metadata#groups/$entity",
                     **self._group_projector(q)(self._find_group(params["id"]))}

    def _update_group(self, params, q, advanced, body):
        group = self._find_group(params["id"])
        self._check_group_props(body, creating=False)
        ids = self._resolve_binds(group, body)
        group.update({k: copy.deepcopy(v) for k, v in body.items() if "@odata.bind" not in k})
        group["members"].extend(ids)
        return 204, None

    def _delete_group(self, params, q, advanced, body):
        del self._groups[self._find_group(params["id"])["id"]]
        return 204, None

    def _list_members(self, params, q, advanced, body):
        group = self._find_group(params["id"])
        members = [self._users[m] for m in group["members"] if m in self._users]
        return 200, self._page(members, q, advanced, f"/groups/{group['id']}/members",
                               self._user_projector(q, {"@odata.type": "#microsoft.graph.user"}),
                               "directoryObjects")

    def _add_member(self, params, q, advanced, body):
        group = self._find_group(params["id"])
        ref = body.get("@odata.id") if isinstance(body, dict) else None
        ids = self._resolve_binds(group, {"members@odata.bind": [ref]})
        group["members"].extend(ids)
        return 204, None

    def _remove_member(self, params, q, advanced, body):
        group = self._find_group(params["id"])
        if params["uid"] not in group["members"]:
            raise GraphError(404, "Request_ResourceNotFound", "One or more removed object references do not "
                             "exist for the following modified properties: 'members'.")
        group["members"].remove(params["uid"])
        return 204, None


_SEG = r"(?P<{}>[^/]+)"
_ROUTES = [  # (methods, path regex relative to /v1.0, GraphStandIn method); first full match wins
    ({"GET"}, r"/users", "_list_users"),
    ({"POST"}, r"/users", "_create_user"),
    ({"POST"}, rf"/users/{_SEG.format('key')}/assignLicense", "_assign_license"),
    ({"GET"}, rf"/users/{_SEG.format('key')}", "_get_user"),
    ({"PATCH"}, rf"/users/{_SEG.format('key')}", "_update_user"),
    ({"DELETE"}, rf"/users/{_SEG.format('key')}", "_delete_user"),
    ({"GET"}, r"/subscribedSkus", "_list_skus"),
    ({"GET"}, r"/directory/deletedItems/microsoft\.graph\.user", "_list_deleted"),
    ({"GET"}, rf"/directory/deletedItems/{_SEG.format('id')}", "_get_deleted"),
    ({"DELETE"}, rf"/directory/deletedItems/{_SEG.format('id')}", "_purge_deleted"),
    ({"POST"}, rf"/directory/deletedItems/{_SEG.format('id')}/restore", "_restore_deleted"),
    ({"GET"}, r"/groups", "_list_groups"),
    ({"POST"}, r"/groups", "_create_group"),
    ({"GET"}, rf"/groups/{_SEG.format('id')}", "_get_group"),
    ({"PATCH"}, rf"/groups/{_SEG.format('id')}", "_update_group"),
    ({"DELETE"}, rf"/groups/{_SEG.format('id')}", "_delete_group"),
    ({"GET"}, rf"/groups/{_SEG.format('id')}/members", "_list_members"),
    ({"POST"}, rf"/groups/{_SEG.format('id')}/members/\$ref", "_add_member"),
    ({"DELETE"}, rf"/groups/{_SEG.format('id')}/members/{_SEG.format('uid')}/\$ref", "_remove_member"),
]
