"""``livedigits serve``: the live pipeline behind a web server (kiosk page, MJPEG, live feed, image API)."""

from __future__ import annotations

import math
import secrets
import socket
import sys

from livedigits.errors import UsageError


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; a one-line error if the address is taken or wrong.

    Bound here, before uvicorn starts, so a busy port is a clear error and exit code, and port 0
    (any free port) can be printed.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"cannot use --host {host!r}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        hint = "pick another with --port" if exc.errno in (98, 48, 10048) else "check --host and --port"
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}; {hint}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def server_config(app, *, max_connections: int | None = None, header_timeout: float | None = None,
                  body_timeout: float | None = None, **kwargs):
    """uvicorn's Config for ``app`` with this package's connection limits (:mod:`.conn`): uvicorn's own
    documented settings where it has one (``timeout_keep_alive``, ``h11_max_incomplete_event_size``,
    ``limit_concurrency``), and the protocol of :func:`.conn.protocol` for what it lacks."""
    import uvicorn

    from livedigits.serve import conn

    limits = dict(max_connections=conn.connection_cap(max_connections or conn.MAX_CONNECTIONS))
    if header_timeout is not None:
        limits["header_timeout"] = header_timeout
    if body_timeout is not None:
        limits["body_timeout"] = body_timeout
    kwargs.setdefault("log_level", "warning")
    return uvicorn.Config(app, http=conn.protocol(**limits), **conn.uvicorn_settings(**limits), **kwargs)


def _share_cores() -> None:
    """OpenCV's own worker threads run at normal priority whoever calls it: an upload's 40-megapixel
    page would spread over every core and take the live pipeline's. Half the cores for OpenCV's pool
    (the pipeline's frames are small and gain little from more), the rest stays free."""
    import os

    import cv2

    cv2.setNumThreads(max(1, (os.cpu_count() or 2) // 2))


class _Server:
    """uvicorn's Server, which also ends the never-ending responses (MJPEG, the feed) on Ctrl-C or
    SIGTERM, so shutdown is prompt instead of waiting out the graceful timeout, and logs accept()
    failures once in a while instead of once per attempt."""

    def __new__(cls, config, on_exit=None):
        import uvicorn

        class Server(uvicorn.Server):
            async def startup(self, sockets=None) -> None:
                import asyncio

                from livedigits.serve.conn import RateLimitedLog, quiet_accept_errors

                quiet_accept_errors(asyncio.get_running_loop(), RateLimitedLog())
                await super().startup(sockets=sockets)

            def handle_exit(self, sig, frame) -> None:
                if on_exit is not None:
                    on_exit()
                super().handle_exit(sig, frame)
                # uvicorn re-raises the signal after its graceful shutdown (the process then dies
                # "killed by SIGTERM"); like `livedigits run`, a requested stop is a clean exit 0.
                captured = getattr(self, "_captured_signals", None)
                if isinstance(captured, list):
                    captured.clear()

        return Server(config)


def serve(spec, *, host: str, port: int, backend: str, model, device: str, max_upload_mb: float,
          max_pixels: int, width=None, height=None, fps=None, log=print, token: str | None = None,
          no_token: bool = False, allow_hosts=(), segment_config=None, reading_config=None) -> int:
    from livedigits.classify.backends import load_classifier
    from livedigits.reading.recognizer import Recognizer
    from livedigits.capture.supervise import KeptSource
    from livedigits.serve.app import create_app
    from livedigits.serve.hub import LivePipeline
    from livedigits.serve.metrics import Metrics
    from livedigits.serve.predict import Predictor

    if not (max_upload_mb > 0 and math.isfinite(max_upload_mb) and max_upload_mb <= 4096):
        raise UsageError(f"--max-upload-mb must be above 0 and at most 4096, got {max_upload_mb:g}")
    from livedigits.serve.guard import is_loopback, machine_names

    if token is not None and (len(token) < 8 or not token.isprintable() or " " in token):
        raise UsageError("--token must be at least 8 printable characters without spaces")
    if token is None and not no_token and not is_loopback(host):
        token = secrets.token_urlsafe(18)  # bound beyond this machine: nobody gets in without it
    if no_token:
        token = None
    allowed = machine_names(host) | {h.lower() for h in allow_hosts}
    from livedigits.serve.memory import fewer_malloc_arenas

    fewer_malloc_arenas()
    _share_cores()
    if max_pixels < 1:
        raise UsageError(f"--max-pixels must be 1 or more, got {max_pixels}")
    settings = {k: v for k, v in (("segment_config", segment_config), ("reading_config", reading_config)) if v is not None}
    specs = [] if spec is None else list(spec) if isinstance(spec, (list, tuple)) else [spec]
    sources = []
    try:
        for one in specs:
            # Each state line names its source (the detail does).
            sources.append(KeptSource(one, width=width, height=height, fps=fps,
                                      on_state=lambda state, detail: log(f"source {state}: {detail}")))
    except BaseException:
        for source in sources:
            source.stop()
        raise
    try:
        sock = bind(host, port)
        try:
            api_classifier = load_classifier(backend, model, device)
            metrics = Metrics()
            metrics.describe(backend=api_classifier.name)
            pipeline = None
            if sources:
                # The pipeline has a classifier of its own: LiteRT interpreters are not thread-safe,
                # and an upload must not wait for a frame (or a frame for an upload).
                pipeline = LivePipeline(sources, Recognizer(load_classifier(backend, model, device), **settings), metrics,
                                        backend=api_classifier.name)
            app = create_app(Predictor(api_classifier, **settings), metrics, pipeline,
                             max_upload_bytes=int(max_upload_mb * 1024 * 1024), max_pixels=max_pixels,
                             allowed_hosts=allowed, token=token)
            bound_host, bound_port = sock.getsockname()[:2]
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            query = f"?token={token}" if token else ""
            live = ", ".join(s.name for s in sources)
            log(f"serving on http://{shown}:{bound_port}/{query}  ({'live: ' + live if sources else 'image API only'}; "
                f"{api_classifier.name} backend)")
            if not is_loopback(host):
                log("note: reachable from other machines on this network; "
                    + ("open the address above with its token (scripts: Authorization: Bearer TOKEN)" if token
                       else "--no-token: anyone who can reach it can use it"))
            sys.stdout.flush()
            config = server_config(app, timeout_graceful_shutdown=2, access_log=False)
            server = _Server(config, on_exit=pipeline.close_streams if pipeline is not None else None)
            server.run(sockets=[sock])
            log("server stopped")
        finally:
            sock.close()
    finally:
        for source in sources:
            source.stop()
    return 0


__all__ = ["bind", "serve", "server_config"]
