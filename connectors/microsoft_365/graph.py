"""Microsoft Graph through msal and requests: app-only tokens, JSON batching, and throttling
handled as Microsoft documents it (reference/graph-msal.md §4-§6).

- One ``WriteLimiter`` per client keeps every thread under the per-app write quota (20 writes
  a second) and holds *all* of them while any one was told to wait: on 429, 503 or 504 the
  wait is exactly ``Retry-After``; without one, capped exponential backoff with jitter.
- A 400 is never retried; the caller decides (a duplicate sign-in name takes the next counter).
- Each ``$batch`` sub-request is throttled on its own, so throttled sub-requests are sent
  again, after the longest ``Retry-After``, in a new batch.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioner.errors import ProvisionerError, RemoteError, SettingsError
from provisioner.faults import crashpoint

if TYPE_CHECKING:
    import msal
    import requests

# msal and requests are imported in the methods that talk to Microsoft, not here: together
# they take about a fifth of a second to load, and every command that lists the platforms
# loads this module (tests/test_startup.py), while only one talking to Graph needs them.

RETRY_STATUSES = (429, 503, 504)
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
MAX_BATCH = 20
MAX_BACKOFF = 60.0


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def graph_error(self) -> dict | None:
        """Graph's documented error object (``{"error": {"code": ..., "message": ...}}``), or None
        when the body is anything else: a string, HTML, nothing, or another service's JSON."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error if isinstance(error, dict) else None

    @property
    def error_code(self) -> str:
        code = (self.graph_error or {}).get("code")
        return code if isinstance(code, str) else ""

    @property
    def error_message(self) -> str:
        message = (self.graph_error or {}).get("message")
        return message if isinstance(message, str) else ""


class WriteLimiter:
    """At most ``limit`` writes in any ``window`` seconds across all threads, and one shared pause.

    The margin covers the time a request spends on the wire: the service counts arrivals.
    """

    def __init__(self, limit: int = 20, window: float = 1.0, margin: float = 0.05, clock=time.monotonic):
        self.limit, self.window, self.margin = limit, window + margin, margin
        self._sent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = threading.Lock()
        self._clock = clock

    def pause(self, seconds: float) -> None:
        """Hold every request, from every thread, for ``seconds`` from now."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def acquire(self, writes: int) -> None:
        """Wait until ``writes`` writes may be sent (0 for a read: it waits only for a pause)."""
        self.acquire_up_to(writes, at_least=writes)

    def acquire_up_to(self, writes: int, at_least: int = 1) -> int:
        """Wait until at least ``at_least`` writes may be sent; take up to ``writes`` and say how many.

        Lets a batch go with the quota there is now rather than wait for a whole window, so
        writes flow at the full rate.
        """
        writes, at_least = min(writes, self.limit), min(at_least, writes, self.limit)
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and self._sent[0] <= now - self.window:
                    self._sent.popleft()
                wait = self._paused_until - now
                free = self.limit - len(self._sent)
                if wait <= 0 and at_least and free < at_least:
                    wait = self._sent[at_least - free - 1] + self.window - now
                if wait <= 0:
                    granted = min(writes, free)
                    self._sent.extend([now] * granted)
                    return granted
            time.sleep(wait)


def backoff(attempt: int) -> float:
    """Capped exponential backoff with full jitter, for failures that carry no Retry-After."""
    return random.uniform(0, min(MAX_BACKOFF, 1.0 * 2**attempt))


@dataclass(frozen=True)
class GraphConfig:
    tenant_id: str
    client_id: str
    authority_host: str
    graph_url: str
    secret: str | None = None
    certificate: Path | None = None  # PEM with the private key and the certificate
    ca_bundle: Path | None = None
    writes_per_second: int = 20
    max_attempts: int = 8
    timeout: float = 60.0


class GraphClient:
    """A Graph session for one app in one tenant, safe to share between threads."""

    SCOPES = ["https://graph.microsoft.com/.default"]

    def __init__(self, config: GraphConfig, session: requests.Session | None = None):
        import requests

        self.config = config
        self.base = config.graph_url.rstrip("/")
        self.limiter = WriteLimiter(config.writes_per_second)
        self.session = session or requests.Session()
        if session is None and config.ca_bundle:
            # An explicit bundle must win over REQUESTS_CA_BUNDLE (requests lets the
            # environment override Session.verify unless trust_env is off).
            self.session.verify = str(config.ca_bundle)
            self.session.trust_env = False
        self._app = self._build_app()

    # Tokens

    def _credential(self) -> str | dict:
        if self.config.certificate:
            pem = self.config.certificate.read_text(encoding="ascii")
            return {"private_key": pem, "public_certificate": pem}
        if self.config.secret:
            return self.config.secret
        raise SettingsError(
            "Microsoft 365 needs the app's credential",
            hint="set certificate = \"PATH\" under [platforms.microsoft-365] (preferred), "
            "or the environment variable PROVISIONER_M365_CLIENT_SECRET",
        )

    def _build_app(self) -> msal.ConfidentialClientApplication:
        import msal
        import requests

        authority = f"{self.config.authority_host.rstrip('/')}/{self.config.tenant_id}"
        try:
            return msal.ConfidentialClientApplication(
                self.config.client_id, client_credential=self._credential(), authority=authority,
                instance_discovery=False, http_client=self.session,
            )  # fmt: skip
        except ValueError:  # discovery answered 4xx, or not as Entra does: no such tenant there, or the wrong host
            raise SettingsError(
                f"the tenant {self.config.tenant_id} was not found at {self.config.authority_host}",
                hint="check tenant_id (the Directory (tenant) ID in Entra admin centre > Overview), and authority_host "
                "under [platforms.microsoft-365] (normally https://login.microsoftonline.com)",
            ) from None
        except requests.RequestException as exc:
            raise RemoteError(
                f"could not reach {self.config.authority_host} ({type(exc).__name__})",
                hint="check the network, proxy and authority_host, then run again",
            ) from None

    def token(self) -> str:
        import msal
        import requests

        try:
            result = self._app.acquire_token_for_client(scopes=self.SCOPES)
        except requests.RequestException as exc:
            raise RemoteError(
                f"could not reach {self.config.authority_host} for a token ({type(exc).__name__})",
                hint="check the network and authority_host, then run again",
            ) from None
        except msal.exceptions.MsalServiceError:
            raise RemoteError("the Microsoft sign-in service failed", hint="wait a few minutes and run again") from None
        if "access_token" in result:
            return result["access_token"]
        raise auth_error(result.get("error_description") or result.get("error") or "")

    # Requests

    def request(self, method: str, path: str, *, json: Any = None, params: dict | None = None,
                headers: dict | None = None) -> Reply:  # fmt: skip
        """One request, retried as Microsoft documents; returns the final reply (4xx included)."""
        url = path if path.startswith("https://") else self.base + path
        writes = 1 if method in WRITE_METHODS else 0
        renewed = False
        for attempt in range(self.config.max_attempts):
            self.limiter.acquire(writes)
            try:
                response = self.session.request(
                    method, url, json=json, params=params, timeout=self.config.timeout,
                    headers={"Authorization": f"Bearer {self.token()}", **(headers or {})},
                )  # fmt: skip
            except no_whole_answer():
                time.sleep(backoff(attempt))  # the caller makes a retried create safe
                continue
            crashpoint("graph-answered")  # done in the tenant, the answer not yet read
            reply = Reply(response.status_code, _json(response), dict(response.headers))
            if reply.status == 401 and not renewed:  # an expired token: get a new one, once
                self._app.remove_tokens_for_client()
                renewed = True
                continue
            if reply.status in RETRY_STATUSES:
                self._wait(reply.headers, attempt)
                continue
            if reply.status == 403 and reply.error_code == "Authorization_RequestDenied":
                raise permission_error()
            if (reply.graph_error is None) if not reply.ok else (reply.status != 204 and not isinstance(reply.body, dict)):
                raise self.not_graph(reply.status)  # Graph's errors and answers are JSON objects (204: none)
            return reply
        raise RemoteError(
            f"Microsoft Graph kept failing after {self.config.max_attempts} attempts",
            hint="run apply again later: it carries on from where it stopped",
        )

    def not_graph(self, status: int) -> RemoteError:
        """An error that did not come from Microsoft Graph (its answers carry a documented error
        object): most often a wrong graph_url, or a proxy answering in its place."""
        return RemoteError(
            f"the answer from {self.base} (HTTP {status}) is not Microsoft Graph's; nothing more was sent",
            hint="check graph_url under [platforms.microsoft-365] (normally https://graph.microsoft.com/v1.0) and "
            "any proxy, then run the same command again",
        )

    def batch(self, requests_: list[dict]) -> dict[str, Reply]:
        """Send sub-requests (``id``, ``method``, ``url``, optional ``body``) in batches of 20.

        Every sub-request is counted as a write against the quota (a read would only be
        counted too generously). Returns each sub-request's final reply by id. Throttled or unavailable sub-requests are
        sent again after the longest Retry-After; everything else is returned as it came.
        """
        replies: dict[str, Reply] = {}
        queue = list(requests_)
        while queue:
            # As many as the quota allows now (at least a quarter of a batch, to keep the
            # round trips few): the rest go in the next batch.
            wanted = min(MAX_BATCH, len(queue))
            granted = self.limiter.acquire_up_to(wanted, at_least=min(wanted, MAX_BATCH // 4))
            pending = {r["id"]: r for r in queue[:granted]}
            queue = queue[granted:]
            for attempt in range(self.config.max_attempts):
                if not pending:
                    break
                body = {"requests": [_sub(r) for r in pending.values()]}
                writes = 0 if attempt == 0 else sum(1 for r in pending.values() if r["method"] in WRITE_METHODS)
                envelope = self._send_batch(body, writes)
                retry_after: list[dict] = []
                for item in envelope.get("responses", []):
                    reply = Reply(item.get("status", 500), item.get("body"), item.get("headers") or {})
                    if reply.status in RETRY_STATUSES:
                        retry_after.append(reply.headers)
                        continue
                    if reply.status == 403 and reply.error_code == "Authorization_RequestDenied":
                        raise permission_error()
                    replies[item["id"]] = reply
                    pending.pop(item["id"], None)
                if retry_after:
                    self._wait(max(retry_after, key=lambda h: _seconds(h) or 0), attempt)
            if pending:
                raise RemoteError(
                    f"Microsoft Graph kept refusing {len(pending)} request(s)",
                    hint="run apply again later: it carries on from where it stopped",
                )
        return replies

    def _send_batch(self, body: dict, writes: int) -> dict:
        """POST one $batch envelope, retrying the envelope itself; returns its JSON."""
        for attempt in range(self.config.max_attempts):
            self.limiter.acquire(writes)
            envelope = self._post_batch(body, attempt)
            if envelope is not None:
                return envelope
        raise RemoteError("Microsoft Graph kept failing", hint="run apply again later")

    def _post_batch(self, body: dict, attempt: int) -> dict | None:
        try:
            response = self.session.post(
                self.base + "/$batch", json=body, timeout=self.config.timeout,
                headers={"Authorization": f"Bearer {self.token()}"},
            )  # fmt: skip
        except no_whole_answer():
            time.sleep(backoff(attempt))
            return None
        crashpoint("graph-answered")
        if response.status_code == 401:
            self._app.remove_tokens_for_client()
            return None
        if response.status_code in RETRY_STATUSES:
            self._wait(dict(response.headers), attempt)
            return None
        data = _json(response)
        if response.status_code != 200 and not Reply(response.status_code, data).graph_error:
            raise self.not_graph(response.status_code)
        if response.status_code != 200 or not isinstance(data, dict) or not isinstance(data.get("responses"), list):
            raise RemoteError(f"Microsoft Graph refused a batch (HTTP {response.status_code})",
                              hint="run again with --debug and report it")  # fmt: skip
        return data

    def pages(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Every item of a listing, following @odata.nextLink."""
        reply = self.request("GET", path, params=params)
        while True:
            if not reply.ok:
                raise RemoteError(f"Microsoft Graph refused to list {path} ({reply.error_code or reply.status})",
                                  hint="check the app's permissions and settings")  # fmt: skip
            if not isinstance(reply.body, dict) or not isinstance(reply.body.get("value", []), list):
                raise self.not_graph(reply.status)
            yield from reply.body.get("value", [])
            link = reply.body.get("@odata.nextLink")
            if not link:
                return
            reply = self.request("GET", link)

    def _wait(self, headers: dict, attempt: int) -> None:
        seconds = _seconds(headers)
        self.limiter.pause(seconds if seconds is not None else backoff(attempt))


def no_whole_answer() -> tuple[type[Exception], ...]:
    """What requests raises when no whole answer came back, each worth asking again: the
    connection refused or dropped, the answer cut off part way, or slower than the timeout."""
    import requests

    return requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError


def _sub(request: dict) -> dict:
    sub = {"id": request["id"], "method": request["method"], "url": request["url"]}
    if "body" in request:
        sub["body"] = request["body"]
        sub["headers"] = {"Content-Type": "application/json"}
    return sub


def _seconds(headers: dict) -> float | None:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def _json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def auth_error(description: str) -> ProvisionerError:
    """An msal error as a message that names the setting to fix; never echoes the credential."""
    if "AADSTS7000215" in description or "AADSTS7000222" in description:
        return SettingsError(
            "Microsoft rejected the app's client secret (wrong or expired)",
            hint="create a new secret for the app and set PROVISIONER_M365_CLIENT_SECRET to its value (not its id)",
        )
    if "AADSTS700016" in description:
        return SettingsError(
            "the app (client_id) was not found in this tenant",
            hint="check client_id (Application (client) ID) and tenant_id under [platforms.microsoft-365]",
        )
    if "AADSTS90002" in description or "AADSTS90023" in description:
        return SettingsError("the tenant was not found", hint="check tenant_id under [platforms.microsoft-365]")
    if "AADSTS700027" in description or "AADSTS700023" in description:
        return SettingsError(
            "Microsoft rejected the app's certificate",
            hint="upload the certificate's public part to the app registration, or check the certificate file",
        )
    code = description.split(":")[0][:20] or "unknown"
    return RemoteError(f"Microsoft sign-in failed ({code})", hint="check tenant_id, client_id and the credential")


def permission_error() -> ProvisionerError:
    return SettingsError(
        "the app lacks a Microsoft Graph permission",
        hint="grant the application permissions User.ReadWrite.All and GroupMember.ReadWrite.All "
        "with admin consent, then run again",
    )

