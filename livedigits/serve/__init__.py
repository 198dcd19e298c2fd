"""``livedigits serve``: the live pipeline behind a web server (kiosk page, MJPEG, live feed, image API)."""

from __future__ import annotations

import socket
import sys

from ..errors import UsageError


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


class _Server:
    """uvicorn's Server, which also ends the never-ending responses (MJPEG, the feed) on Ctrl-C or
    SIGTERM, so shutdown is prompt instead of waiting out the graceful timeout."""

    def __new__(cls, config, on_exit=None):
        import uvicorn

        class Server(uvicorn.Server):
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
          max_pixels: int, width=None, height=None, fps=None, log=print, segment_config=None, reading_config=None) -> int:
    import uvicorn

    from ..classify import load_classifier
    from ..recognizer import Recognizer
    from ..supervise import KeptSource
    from .app import create_app
    from .hub import LivePipeline
    from .metrics import Metrics
    from .predict import Predictor

    if not max_upload_mb > 0:
        raise UsageError(f"--max-upload-mb must be above 0, got {max_upload_mb:g}")
    if max_pixels < 1:
        raise UsageError(f"--max-pixels must be 1 or more, got {max_pixels}")
    settings = {k: v for k, v in (("segment_config", segment_config), ("reading_config", reading_config)) if v is not None}
    source = None
    if spec is not None:
        source = KeptSource(spec, width=width, height=height, fps=fps,
                            on_state=lambda state, detail: log(f"source {state}: {detail}"))
    try:
        sock = bind(host, port)
        try:
            api_classifier = load_classifier(backend, model, device)
            metrics = Metrics()
            metrics.info.info({"backend": api_classifier.name})
            pipeline = None
            if source is not None:
                # The pipeline has a classifier of its own: LiteRT interpreters are not thread-safe,
                # and an upload must not wait for a frame (or a frame for an upload).
                pipeline = LivePipeline(source, Recognizer(load_classifier(backend, model, device), **settings), metrics,
                                        backend=api_classifier.name)
            app = create_app(Predictor(api_classifier, **settings), metrics, pipeline,
                             max_upload_bytes=int(max_upload_mb * 1024 * 1024), max_pixels=max_pixels)
            bound_host, bound_port = sock.getsockname()[:2]
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            log(f"serving on http://{shown}:{bound_port}/  ({'live: ' + source.name if source else 'image API only'}; "
                f"{api_classifier.name} backend)")
            if host not in ("127.0.0.1", "localhost", "::1"):
                log("note: reachable from other machines on this network; there is no authentication")
            sys.stdout.flush()
            config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2, access_log=False)
            server = _Server(config, on_exit=pipeline.close_streams if pipeline is not None else None)
            server.run(sockets=[sock])
            log("server stopped")
        finally:
            sock.close()
    finally:
        if source is not None:
            source.stop()
    return 0


__all__ = ["bind", "serve"]
