"""The server's front door: allowed Host values, the access token, and security headers.

An ASGI middleware around the whole app (pages, API, static files, redirects and errors alike):

- **Host**: a browser page from another site can point its own DNS name at this machine (DNS
  rebinding) and then read ``/snapshot.jpg`` as if it were same-origin. Such a request carries that
  site's name in ``Host``; only names this server is known by are answered (loopback names, any IP
  address literal, this machine's host names, the ``--host`` name and ``--allow-host`` names), others
  get a 400.
- **Token**: when the server is bound beyond loopback, every request but the health checks must carry
  the token: ``?token=`` in the URL (the kiosk page's address, an ``<img src>`` of the MJPEG stream),
  ``Authorization: Bearer`` (scripts, Prometheus), or the cookie the page gets when it is opened with
  the token (so its own requests carry it).
- **Headers** on every response: ``X-Content-Type-Options: nosniff``, a Content-Security-Policy
  allowing only the page's own files (``frame-ancestors 'none'``), ``X-Frame-Options: DENY`` and
  ``Referrer-Policy: no-referrer`` (the token in a URL does not leak to other sites).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import socket
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

COOKIE = "livedigits_token"
#: Paths answered without the token: health checks for load balancers and orchestrators (they show
#: states and names, never secrets or absolute paths), and the page's static files.
OPEN_PATHS = ("/healthz", "/livez", "/readyz")
OPEN_PREFIXES = ("/static/",)
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; "
     b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host.strip("[]").lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def machine_names(bound_host: str | None = None) -> set[str]:
    """Names this server may be reached by: its host names (and ``NAME.local``), and ``bound_host``."""
    names = set(LOOPBACK_NAMES)
    for name in (socket.gethostname(), socket.getfqdn()):
        if name:
            names.update({name.lower(), name.lower().split(".")[0], name.lower().split(".")[0] + ".local"})
    if bound_host and bound_host not in ("0.0.0.0", "::", ""):
        names.add(bound_host.strip("[]").lower())
    return names


def _host_name(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:8000
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


class Guard:
    """See the module docstring. ``allowed_hosts`` None: any Host (tests of other things);
    ``"*"`` in it: any Host too (an operator behind a proxy who wants that)."""

    def __init__(self, app, *, allowed_hosts: set[str] | None = None, token: str | None = None) -> None:
        self.app = app
        self.allowed = None if allowed_hosts is None or "*" in allowed_hosts else {h.lower() for h in allowed_hosts}
        self.token = token

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {}
        for key, value in scope.get("headers", []):
            headers.setdefault(key, value)
        set_cookie = False

        async def send_secured(message) -> None:
            if message["type"] == "http.response.start":
                extra = [h for h in SECURITY_HEADERS]
                if set_cookie:
                    extra.append((b"set-cookie", f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode()))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        host = headers.get(b"host", b"").decode("latin-1")
        if self.allowed is not None and host:
            name = _host_name(host)
            if not (_is_ip(name) or name in self.allowed):
                await _reject(send_secured, 400, f"Host {host[:100]!r} is not a name of this server; "
                                                 "start it with --allow-host NAME to answer to it")
                return
        if self.token is not None and scope["path"] not in OPEN_PATHS and not scope["path"].startswith(OPEN_PREFIXES):
            given, from_query = self._given(scope, headers)
            if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                await _reject(send_secured, 401, "this server needs its access token: open the address it printed at "
                                                 "start (.../?token=...), or send Authorization: Bearer TOKEN",
                              [(b"www-authenticate", b"Bearer")])
                return
            set_cookie = from_query
        await self.app(scope, receive, send_secured)

    def _given(self, scope, headers) -> tuple[str | None, bool]:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if query.get("token"):
            return query["token"][0], True
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip(), False
        cookie = headers.get(b"cookie", b"").decode("latin-1")
        if cookie:
            jar = SimpleCookie()
            try:
                jar.load(cookie)
            except Exception:  # noqa: BLE001 - a malformed cookie header is no token
                return None, False
            if COOKIE in jar:
                return jar[COOKIE].value, False
        return None, False


async def _reject(send, status: int, message: str, headers=()) -> None:
    body = json.dumps({"error": message, "status": status}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


__all__ = ["Guard", "is_loopback", "machine_names"]
