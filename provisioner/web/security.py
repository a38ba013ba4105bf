"""Who may use the local web interface: the person who started it, from this computer only.

The pages show every pupil's name and the passwords' slips, so the server trusts nothing it
is not given at start:

- It listens on a loopback address only (``check_bind``): another computer cannot reach it.
- A random token is made at each start and carried in the address that is opened; the first
  request with it gets the token back as an HttpOnly, SameSite=Strict cookie, and is sent on to
  the same page without it (so it is not left in the history). Any request without the cookie
  is refused: another program or another user of the computer does not know the token.
- The Host header must name the loopback address, so a web page whose own name is made to point
  at 127.0.0.1 (DNS rebinding) is refused though the browser would send it the cookie-less
  request.
- Every form that changes something carries a second random token (CSRF) the pages print and
  the server checks (``checked_form``); SameSite=Strict already keeps other sites' forms from
  sending the cookie, and this holds even where a browser does not.
- Every answer says ``Cache-Control: no-store`` (pupils' names are on most pages, and files
  handed out hold passwords), forbids framing, sends no referrer and loads nothing from outside
  the machine (``Content-Security-Policy``).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.datastructures import FormData, MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from provisioner.errors import UsageError

COOKIE = "provisioner_session"
LOOPBACK_NAMES = ("localhost",)
HEADERS = {
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}  # fmt: skip


class Refused(Exception):
    """A request the interface will not answer: the status and a sentence for the person."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Tokens:
    """The two tokens of one start of the server; gone when it stops."""

    session: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def address(self, base: str) -> str:
        """The address to open: the token rides in it once, then lives in the cookie."""
        return f"{base}/?{urlencode({'token': self.session})}"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, without a port) is this computer only."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str) -> None:
    """Refuse to listen anywhere another computer could reach."""
    if not is_loopback(host):
        raise UsageError(f"the web interface listens on this computer only, not on '{host}'",
                         hint="leave out --host (it is 127.0.0.1), or give another loopback address")  # fmt: skip


def host_name(header: str) -> str:
    """The name in a Host header, without its port: "127.0.0.1:8765" -> "127.0.0.1", "[::1]:80" -> "[::1]"."""
    if header.startswith("["):
        return header.split("]", 1)[0] + "]"
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def checked_form(request: Request) -> FormData:
    """The posted form, refused unless it carries this start's CSRF token."""
    form = await request.form()
    given = form.get("csrf")
    if not same(given if isinstance(given, str) else None, request.app.state.tokens.csrf):
        raise Refused(403, "This form is out of date or did not come from this interface. Go back, reload the page "
                           "and send it again.")  # fmt: skip
    return form


def refusal_page(status: int, message: str) -> HTMLResponse:
    """A refusal in plain words, without the templates (it is shown before anyone is let in)."""
    body = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Refused</title></head><body>"
            f"<h1>Not allowed</h1><p>{message}</p></body></html>")  # fmt: skip
    return HTMLResponse(body, status_code=status)


class Guard:
    """The ASGI layer in front of every route: Host, then the token or its cookie, then the
    headers every answer carries."""

    def __init__(self, app: ASGIApp, tokens: Tokens):
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        response = self._refusal(request)
        if response is None and same(request.query_params.get("token"), self.tokens.session):
            response = RedirectResponse(request.url.path, status_code=303)
            response.set_cookie(COOKIE, self.tokens.session, httponly=True, samesite="strict", path="/")
        if response is not None:
            await self._with_headers(response)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _refusal(self, request: Request) -> Response | None:
        if not is_loopback(host_name(request.headers.get("host", ""))):
            return refusal_page(421, "This interface answers only at the address provisioner serve printed "
                                     "(http://127.0.0.1:...), not under another name.")  # fmt: skip
        if same(request.query_params.get("token"), self.tokens.session):
            return None
        if not same(request.cookies.get(COOKIE), self.tokens.session):
            return refusal_page(403, "Open the address that provisioner serve printed (it carries a one-time key), "
                                     "or start it again.")  # fmt: skip
        return None

    @staticmethod
    def _with_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers[name] = value
        return response
