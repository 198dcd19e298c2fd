"""The web app: the kiosk page, the MJPEG stream, the live feed, the image API, health and metrics.

Starlette (the toolkit under FastAPI) with uvicorn: a small, well-kept ASGI stack whose streaming
responses suit MJPEG and Server-Sent Events, and whose test client drives every endpoint in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from livedigits.serve import trim_malloc
from livedigits.serve.guard import Guard, machine_names
from livedigits.serve.hub import LivePipeline
from livedigits.serve.metrics import CONTENT_TYPE_LATEST, Metrics
from livedigits.serve.predict import MODES, Predictor, UploadError, check_image, decode_image

BOUNDARY = "livedigitsframe"
#: A comment line down an idle feed keeps proxies from closing it and lets a dead client be noticed.
KEEPALIVE_S = 15.0
STATIC = resources.files("livedigits.serve") / "static"
#: Uploads decoded and read at once (half the cores, at most 4); more wait for a turn (up to DECODE_WAIT_S), then get a 503 with
#: Retry-After. Decoding a large image takes memory in proportion to its pixels: this bounds the sum.
MAX_DECODES = max(1, min(4, (os.cpu_count() or 2) // 2))  # half the cores: the live pipeline keeps the rest
DECODE_WAIT_S = 5.0
#: Niceness of the upload threads (the live pipeline runs at the process's own).
UPLOAD_NICENESS = 10
#: A body announced over the limit is still read (and thrown away) up to this many times the limit or
#: this long, so a client that sends it all before reading (Python's urllib) gets the 413 rather than a
#: reset connection; past that, the connection is closed.
DRAIN_FACTOR = 4
DRAIN_MAX_S = 5.0
#: After reading an image of at least this many bytes (decoded), freed memory is returned to the system.
LARGE_IMAGE_BYTES = 12_000_000
#: Status recorded for a client that went away before its answer (nginx's convention).
CLIENT_GONE = 499


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)


def create_app(
    predictor: Predictor,
    metrics: Metrics,
    pipeline: LivePipeline | None = None,
    *,
    max_upload_bytes: int = 10 * 1024 * 1024,
    max_pixels: int = 40_000_000,
    allowed_hosts: set[str] | None = None,
    token: str | None = None,
    max_decodes: int = MAX_DECODES,
):
    """``pipeline`` None: the image API alone (``livedigits serve`` without a SOURCE).

    ``allowed_hosts``: names answered in the Host header besides IP addresses (default: loopback and
    this machine's names; ``{"*"}`` any); ``token``: required on every request but the health checks
    (see :mod:`livedigits.serve.guard`).
    """
    metrics.model_loaded.set(1)
    slots_by_loop: dict = {}  # an asyncio semaphore belongs to one event loop (tests run several)

    def decode_slots() -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop not in slots_by_loop:
            slots_by_loop.clear()
            slots_by_loop[loop] = asyncio.Semaphore(max_decodes)
        return slots_by_loop[loop]
    # Uploads are decoded and read on threads of their own, at a lower priority than the live
    # pipeline: a burst of large uploads takes the cores the pipeline leaves, not its frames.
    uploads = ThreadPoolExecutor(max_decodes, thread_name_prefix="livedigits-upload", initializer=_lower_priority)

    async def on_upload_thread(fn, *args):
        return await asyncio.get_running_loop().run_in_executor(uploads, fn, *args)
    no_source = "no source: this server runs the image API only (start `livedigits serve SOURCE` for live video)"

    async def index(request: Request) -> Response:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    async def status(request: Request) -> Response:
        if pipeline is None:
            return JSONResponse({"state": "none", "detail": no_source, "backend": predictor.classifier.name})
        return JSONResponse(pipeline.status())

    def channel_of(request: Request):
        """The source a URL names (``/stream/NAME.mjpg``), the first one without a name; None: none such."""
        return pipeline.channel(request.path_params.get("name"))

    async def stream(request: Request) -> Response:
        if pipeline is None:
            return _error(404, no_source)
        channel = channel_of(request)
        if channel is None:
            return _error(404, "no such source; /api/status lists each source's stream")

        async def parts():
            channel.viewers += 1
            metrics.viewers.inc()
            try:
                first = await run_in_threadpool(channel.snapshot_jpeg)
                if first:
                    yield _part(first)
                seq = channel.video.seq
                while not pipeline.stopped:
                    newer, jpeg = await channel.video.wait(seq, timeout=1.0)
                    if newer != seq and jpeg:
                        seq = newer
                        yield _part(jpeg)
            finally:
                channel.viewers -= 1
                metrics.viewers.dec()

        return StreamingResponse(parts(), media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                                 headers={"Cache-Control": "no-cache, no-store", "Pragma": "no-cache"})

    async def snapshot(request: Request) -> Response:
        channel = None if pipeline is None else channel_of(request)
        if pipeline is not None and channel is None:
            return _error(404, "no such source; /api/status lists each source's stream")
        jpeg = None if channel is None else await run_in_threadpool(channel.snapshot_jpeg)
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
        started = time.perf_counter()
        status = 200
        try:
            mode = request.query_params.get("mode", "auto")
            if mode not in MODES:
                raise UploadError(400, f"mode must be one of {', '.join(MODES)}, got {mode!r}")
            data = await _upload(request, max_upload_bytes)
            fmt, _, _ = check_image(data, max_pixels)
            slots = decode_slots()
            try:
                await asyncio.wait_for(slots.acquire(), DECODE_WAIT_S)
            except asyncio.TimeoutError:
                raise UploadError(503, "busy reading other images; try again in a moment",
                                  {"Retry-After": "2"}) from None
            try:
                image = await on_upload_thread(decode_image, data, fmt)
                del data
                body = await on_upload_thread(predictor.predict, image, mode)
                large = image.size >= LARGE_IMAGE_BYTES
                del image
                if large:  # hand the decode's memory back, so the server does not stay at its peak
                    await on_upload_thread(trim_malloc)
            finally:
                slots.release()
            response: Response = JSONResponse(body)
        except UploadError as exc:
            status = exc.status
            response = _error(exc.status, exc.message, exc.headers)
        except ClientDisconnect:  # gone mid-upload: nobody to answer, nothing to log
            status = CLIENT_GONE
            response = Response(status_code=400, headers={"Connection": "close"})
        metrics.predict_requests.labels(str(status)).inc()
        metrics.predict_seconds.observe(time.perf_counter() - started)
        return response

    async def healthz(request: Request) -> Response:
        checks = {"model_loaded": True}
        problems = []
        if pipeline is not None:
            # The state of them all: "live" only when every source is, so never next to source_connected false.
            state = next((c.source.state for c in pipeline.channels if c.source.state != "live"), "live")
            flowing = pipeline.frames_flowing()
            checks.update(source=pipeline.source.name, source_state=state, source_connected=state == "live",
                          frames_flowing=flowing, frames=pipeline.frames)
            if len(pipeline.channels) > 1:
                checks.update(sources={c.name: c.source.state for c in pipeline.channels})
            if pipeline.error:
                problems.append(f"pipeline failed: {pipeline.error}")
            for channel in pipeline.channels:
                where = f"source {channel.name}" if len(pipeline.channels) > 1 else "source"
                channel_state = channel.source.state
                if channel_state != "live":
                    problems.append(f"{where} {channel_state}: {channel.source.detail or 'no frames yet'}")
                elif not channel.flowing():
                    problems.append(f"{where}: no frame for over 5 s")
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
            uploads.shutdown(wait=False, cancel_futures=True)

    routes = [
        Route("/", index),
        Route("/stream.mjpg", stream),
        Route("/stream/{name}.mjpg", stream),
        Route("/snapshot.jpg", snapshot),
        Route("/snapshot/{name}.jpg", snapshot),
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

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: not_found})
    return Guard(app, allowed_hosts=machine_names() if allowed_hosts is None else allowed_hosts, token=token)


def _lower_priority() -> None:
    """Lower this thread's scheduling priority (Linux: niceness is per thread); nothing elsewhere."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), UPLOAD_NICENESS)
    except (AttributeError, OSError):
        pass


def _part(jpeg: bytes) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n").encode() + jpeg + b"\r\n"


async def _upload(request: Request, limit: int) -> bytes:
    """The image bytes of a raw or multipart body, refused at ``limit`` bytes as they stream in.

    A 413 closes the connection (``Connection: close``): the rest of an endless body is never read.
    A body whose Content-Length is over the limit is first read and thrown away, within bounds
    (``DRAIN_FACTOR`` times the limit, ``DRAIN_MAX_S``), so a client that sends everything before it
    reads gets its answer instead of a reset connection.
    """
    too_big = UploadError(413, f"upload over the limit of {limit / 2**20:g} MB; send a smaller file "
                               "(or start the server with a larger --max-upload-mb)", {"Connection": "close"})
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + 64 * 1024:  # room for multipart headers
        if int(declared) <= max(DRAIN_FACTOR * limit, 16 * 2**20):
            drained, deadline = 0, time.monotonic() + DRAIN_MAX_S
            async for chunk in request.stream():
                drained += len(chunk)
                if time.monotonic() > deadline:
                    break
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit + 64 * 1024:
            raise too_big
        chunks.append(chunk)
    body = b"".join(chunks)
    del chunks
    content_type = request.headers.get("content-type", "").lower()
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
