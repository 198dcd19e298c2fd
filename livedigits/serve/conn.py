"""Connection hygiene under uvicorn: read timeouts, a cap on open connections, quiet accept errors.

uvicorn closes an idle keep-alive connection after a few seconds, but nothing else: a client that
opens a connection and sends its headers a byte a second (or never), or stops half-way through a
body, holds a socket and a file descriptor for ever, and enough of them lock everyone out. So each
connection here is watched (once a second, by a timer on the event loop; no thread):

- the request line and headers must arrive within ``header_timeout`` seconds of the connection (or of
  the previous answer, on a kept-alive connection);
- a body must keep coming: ``body_timeout`` seconds without a byte (while the server is reading)
  closes the connection;
- past ``max_connections`` open connections a new one gets ``503`` with ``Retry-After`` and is closed;
  the server's own descriptor limit is raised towards its hard limit at start so the cap, not
  ``accept()`` failing, is what a flood meets.

Refusals and accept errors are logged once per ``LOG_EVERY_S`` with a count, never per attempt.

What uvicorn offers as documented settings is used as such (:func:`uvicorn_settings`):
``timeout_keep_alive`` closes a kept-alive connection that sends nothing after its answer,
``h11_max_incomplete_event_size`` bounds the request line and headers, and ``limit_concurrency`` is a
backstop (uvicorn answers a *request* past it with a bare 503). uvicorn has no setting for the rest: a
deadline for the headers of a connection that never completes them, a body that stalls, and a refusal
*at connect* with ``Retry-After``. Those live in :func:`protocol`, a subclass of uvicorn's h11 protocol
that reads its attributes ``conn`` (the h11 connection), ``flow.read_paused``, ``cycle``, ``loop`` and
``transport``: uvicorn internals, so ``pyproject.toml`` bounds uvicorn's version to the ones tested
(``tests/test_abuse.py`` covers each limit against a real server).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import resource
import time

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("livedigits.serve")

HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 15.0
MAX_CONNECTIONS = 4096
#: The request line and headers together may not exceed this (h11's own default, set explicitly so it
#: is ours to see): enough for any browser's cookies and a bearer token.
MAX_HEADER_BYTES = 16 * 1024
#: File descriptors kept for everything but client connections (model, source, logs, threads).
RESERVED_FDS = 64
WATCH_EVERY_S = 1.0
LOG_EVERY_S = 10.0


class RateLimitedLog:
    """Logs a kind of event at most once per ``every`` seconds, with how many happened meanwhile."""

    def __init__(self, every: float = LOG_EVERY_S) -> None:
        self.every = every
        self._last: dict[str, float] = {}
        self._count: dict[str, int] = {}

    def __call__(self, kind: str, message: str) -> None:
        now = time.monotonic()
        self._count[kind] = self._count.get(kind, 0) + 1
        if now - self._last.get(kind, -1e9) >= self.every:
            count, self._count[kind] = self._count[kind], 0
            self._last[kind] = now
            log.warning("%s%s", message, f" ({count} times in the last {self.every:g} s)" if count > 1 else "")


def fd_limit(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted`` (within the hard limit); the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def connection_cap(max_connections: int = MAX_CONNECTIONS) -> int:
    """``max_connections``, lowered to what the descriptor limit allows (after raising it)."""
    limit = fd_limit(max_connections + RESERVED_FDS)
    if limit == resource.RLIM_INFINITY:
        return max_connections
    return max(16, min(max_connections, limit - RESERVED_FDS))


def quiet_accept_errors(loop: asyncio.AbstractEventLoop, notes: RateLimitedLog) -> None:
    """Route the loop's ``accept()`` failures (out of descriptors, aborted handshakes) to ``notes``."""
    default = loop.get_exception_handler()

    def handler(loop, context) -> None:
        message = str(context.get("message", ""))
        exc = context.get("exception")
        if "accept" in message or isinstance(exc, (ConnectionAbortedError, ConnectionResetError)):
            notes("accept", f"accepting a connection failed: {type(exc).__name__ if exc else ''} {exc or message}".strip())
            return
        if default is not None:
            default(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


def uvicorn_settings(*, header_timeout: float = HEADER_TIMEOUT_S, max_connections: int = MAX_CONNECTIONS,
                     **_protocol_only) -> dict:
    """The documented ``uvicorn.Config`` settings for these limits (the others are the protocol's)."""
    return {
        # An answered connection has header_timeout for its next request line, as a new one has.
        "timeout_keep_alive": max(1, math.ceil(header_timeout)),
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        # One above the cap: the protocol refuses the connection past the cap first, with Retry-After;
        # uvicorn's check (open connections or running requests) only catches what slips past it.
        "limit_concurrency": max_connections + 1,
    }


def protocol(*, header_timeout: float = HEADER_TIMEOUT_S, body_timeout: float = BODY_TIMEOUT_S,
             max_connections: int = MAX_CONNECTIONS, notes: RateLimitedLog | None = None) -> type:
    """The uvicorn HTTP protocol class with these limits (``uvicorn.Config(http=...)``)."""
    notes = notes or RateLimitedLog()
    refusal = json.dumps({"error": f"too many open connections (over {max_connections}); try again in a moment",
                          "status": 503}).encode()
    refusal = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n"
               b"connection: close\r\ncontent-length: " + str(len(refusal)).encode() + b"\r\n\r\n" + refusal)

    open_connections: set = set()  # counted here, not through uvicorn's own server state

    class GuardedH11Protocol(H11Protocol):
        _refused = False
        _watch = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            open_connections.add(self)
            now = time.monotonic()
            self._waiting_since = now  # for the request line and headers
            self._last_data = now
            if len(open_connections) > max_connections:
                self._refused = True
                notes("refused", f"refused a connection: {max_connections} connections are open")
                transport.write(refusal)
                transport.close()
                return
            self._watch = self.loop.call_later(WATCH_EVERY_S, self._check)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            self._last_data = time.monotonic()
            super().data_received(data)

        def on_response_complete(self) -> None:
            self._waiting_since = time.monotonic()  # the next request's headers are due from now
            super().on_response_complete()

        def connection_lost(self, exc) -> None:
            open_connections.discard(self)
            if self._watch is not None:
                self._watch.cancel()
                self._watch = None
            super().connection_lost(exc)

        def _check(self) -> None:
            self._watch = None
            if self.transport.is_closing():
                return
            now = time.monotonic()
            state = self.conn.their_state
            if self.flow.read_paused:  # the app has not taken the body yet: not the client's delay
                self._last_data = now
            if state is h11.IDLE and (self.cycle is None or self.cycle.response_complete):
                if now - self._waiting_since > header_timeout:
                    self._close()
                    return
            elif state is h11.SEND_BODY and now - self._last_data > body_timeout:
                self._close()
                return
            self._watch = self.loop.call_later(WATCH_EVERY_S, self._check)

        def _close(self) -> None:
            if self.cycle is not None and not self.cycle.response_complete:
                self.cycle.disconnected = True
                self.cycle.message_event.set()
            self.transport.close()

    return GuardedH11Protocol


__all__ = ["RateLimitedLog", "connection_cap", "protocol", "quiet_accept_errors", "uvicorn_settings"]
