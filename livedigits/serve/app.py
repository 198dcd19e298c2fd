"""The web app: the kiosk page, the MJPEG stream, the live feed, the image API, health and metrics.

Starlette (the toolkit under FastAPI) with uvicorn: a small, well-kept ASGI stack whose streaming
responses suit MJPEG and Server-Sent Events, and whose test client drives every endpoint in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from importlib import resources

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .hub import LivePipeline
from .metrics import CONTENT_TYPE_LATEST, Metrics
from .predict import MODES, Predictor, UploadError, check_image, decode_image

BOUNDARY = "livedigitsframe"
#: A comment line down an idle feed keeps proxies from closing it and lets a dead client be noticed.
KEEPALIVE_S = 15.0
STATIC = resources.files("livedigits.serve") / "static"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status)


def create_app(
    predictor: Predictor,
    metrics: Metrics,
    pipeline: LivePipeline | None = None,
    *,
    max_upload_bytes: int = 10 * 1024 * 1024,
    max_pixels: int = 40_000_000,
) -> Starlette:
    """``pipeline`` None: the image API alone (``livedigits serve`` without a SOURCE)."""
    metrics.model_loaded.set(1)
    no_source = "no source: this server runs the image API only (start `livedigits serve SOURCE` for live video)"

    async def index(request: Request) -> Response:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    async def status(request: Request) -> Response:
        if pipeline is None:
            return JSONResponse({"state": "none", "detail": no_source, "backend": predictor.classifier.name})
        return JSONResponse(pipeline.status())

    async def stream(request: Request) -> Response:
        if pipeline is None:
            return _error(404, no_source)

        async def parts():
            pipeline.viewers += 1
            metrics.viewers.inc()
            try:
                first = await run_in_threadpool(pipeline.snapshot_jpeg)
                if first:
                    yield _part(first)
                seq = pipeline.video.seq
                while not pipeline.stopped:
                    newer, jpeg = await pipeline.video.wait(seq, timeout=1.0)
                    if newer != seq and jpeg:
                        seq = newer
                        yield _part(jpeg)
            finally:
                pipeline.viewers -= 1
                metrics.viewers.dec()

        return StreamingResponse(parts(), media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                                 headers={"Cache-Control": "no-cache, no-store", "Pragma": "no-cache"})

    async def snapshot(request: Request) -> Response:
        jpeg = None if pipeline is None else await run_in_threadpool(pipeline.snapshot_jpeg)
        if not jpeg:
            return _error(404 if pipeline is None else 503, no_source if pipeline is None else "no frame yet")
        return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-cache"})

    async def events(request: Request) -> Response:
        if pipeline is None:
            return _error(404, no_source)

        async def messages():
            entry = pipeline.feed.subscribe()
            metrics.subscribers.inc()
            try:
                yield "retry: 2000\n\n"
                yield "event: status\ndata: " + json.dumps(pipeline.status(), separators=(",", ":")) + "\n\n"
                queue = entry[1]
                while True:
                    try:
                        message = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                    except asyncio.TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    if message is None:
                        return
                    yield message
            finally:
                pipeline.feed.unsubscribe(entry)
                metrics.subscribers.dec()

        return StreamingResponse(messages(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def predict(request: Request) -> Response:
        with metrics.predict_seconds.time():
            try:
                mode = request.query_params.get("mode", "auto")
                if mode not in MODES:
                    raise UploadError(400, f"mode must be one of {', '.join(MODES)}, got {mode!r}")
                data = await _upload(request, max_upload_bytes)
                fmt, _, _ = check_image(data, max_pixels)
                image = await run_in_threadpool(decode_image, data, fmt)
                body = await run_in_threadpool(predictor.predict, image, mode)
            except UploadError as exc:
                metrics.predict_requests.labels(str(exc.status)).inc()
                return _error(exc.status, exc.message)
        metrics.predict_requests.labels("200").inc()
        return JSONResponse(body)

    async def healthz(request: Request) -> Response:
        checks = {"model_loaded": True}
        problems = []
        if pipeline is not None:
            state = pipeline.source.state
            flowing = pipeline.frames_flowing()
            checks.update(source=pipeline.source.name, source_state=state, source_connected=state == "live",
                          frames_flowing=flowing, frames=pipeline.frames)
            if pipeline.error:
                problems.append(f"pipeline failed: {pipeline.error}")
            if state != "live":
                problems.append(f"source {state}: {pipeline.source.detail or 'no frames yet'}")
            elif not flowing:
                problems.append("no frame for over 5 s")
        else:
            checks.update(source=None)
        body = {"status": "ok" if not problems else "unavailable", **checks, "problems": problems}
        return JSONResponse(body, status_code=200 if not problems else 503)

    async def livez(request: Request) -> Response:
        # Liveness: the process answers. A camera that is away is no reason to restart it (it is being
        # retried); a pipeline thread that died with an error is.
        if pipeline is not None and pipeline.error:
            return JSONResponse({"status": "failed", "problems": [f"pipeline failed: {pipeline.error}"]}, status_code=503)
        return JSONResponse({"status": "alive"})

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    async def not_found(request: Request, exc) -> Response:
        return _error(exc.status_code, getattr(exc, "detail", "not found") or "not found")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        if pipeline is not None:
            pipeline.start()
        try:
            yield
        finally:
            if pipeline is not None:
                await run_in_threadpool(pipeline.stop)

    routes = [
        Route("/", index),
        Route("/stream.mjpg", stream),
        Route("/snapshot.jpg", snapshot),
        Route("/events", events),
        Route("/api/status", status),
        Route("/api/predict", predict, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/readyz", healthz),  # readiness: model loaded, source connected, frames flowing
        Route("/livez", livez),
        Route("/metrics", metrics_endpoint),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]
    from starlette.exceptions import HTTPException

    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: not_found})


def _part(jpeg: bytes) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n").encode() + jpeg + b"\r\n"


async def _upload(request: Request, limit: int) -> bytes:
    """The image bytes of a raw or multipart body, refused at ``limit`` bytes as they stream in."""
    too_big = UploadError(413, f"upload over the limit of {limit / 2**20:g} MB; send a smaller file "
                               "(or start the server with a larger --max-upload-mb)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + 64 * 1024:  # room for multipart headers
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit + 64 * 1024:
            raise too_big
        chunks.append(chunk)
    body = b"".join(chunks)
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        if len(body) > limit:
            raise too_big
        return body

    async def replay():
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=4, max_fields=16, max_part_size=limit)
    except Exception as exc:  # noqa: BLE001 - python-multipart's parse errors
        raise UploadError(400, f"malformed multipart body ({exc}); send the image as a file field") from None
    try:
        files = [value for _, value in form.multi_items() if hasattr(value, "read")]
        if not files:
            raise UploadError(400, "no file in the form: send the image as a file field (e.g. curl -F file=@page.jpg)")
        data = await files[0].read()
    finally:
        await form.close()
    if len(data) > limit:
        raise too_big
    return data
