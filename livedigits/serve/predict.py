"""``POST /api/predict``: an uploaded image in, the digits and numbers on it out.

The checks, in the order they run (each a JSON error with its HTTP status):

1. size: a body over the limit is refused while it streams in (413), never buffered whole;
2. type: PNG, JPEG, BMP or WebP, told by the file's own header, not its name (415 otherwise);
3. pixels: width x height from the header, before any decoding (413 over the limit), counted as what
   the decode will allocate: a pixel of more than three bytes (alpha, 16 bits per channel) counts
   for as many 8-bit colour pixels as it takes the room of (a 16-bit RGBA pixel is 8/3 of one);
4. integrity: a damaged or truncated file is a 400 (a JPEG must end with its end-of-image marker:
   libjpeg would fill the missing part with grey and answer as if nothing were wrong).

Pillow reads the header lazily (``Image.open`` decodes nothing); OpenCV does the actual decode, the
same as for files given to ``livedigits run``.
"""

from __future__ import annotations

import io
import threading
import time
import warnings

import numpy as np

from livedigits.collect.importer import SINGLE_DIGIT_MAX_SIDE, single_digit_crop
from livedigits.capture.images import UnreadableImage, jpeg_complete, read_image
from livedigits.reading.recognizer import Recognizer
from livedigits.types import NOT_A_DIGIT, Frame

ACCEPTED_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "BMP": "image/bmp", "WEBP": "image/webp"}
DEFAULT_MAX_UPLOAD_MB = 10.0
DEFAULT_MAX_PIXELS = 40_000_000  # a 40-megapixel photo; pages from any phone fit
MODES = ("auto", "page", "digit")


class UploadError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def check_image(data: bytes, max_pixels: int) -> tuple[str, int, int]:
    """``(format, width, height)`` of an accepted image, from its header; UploadError otherwise."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise UploadError(400, "empty upload: send the image file as the request body or as a multipart file field")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's own bomb warning: we apply our limit just below
        try:
            with Image.open(io.BytesIO(data)) as image:
                fmt, (width, height) = image.format, image.size
                bands = len(image.getbands())
        except Image.DecompressionBombError as exc:  # far over any sane size: Pillow's own guard
            raise UploadError(413, f"image has too many pixels ({exc}); the limit is {max_pixels:,}: "
                                   "scale it down first") from None
        except UnidentifiedImageError:
            raise UploadError(415, "not an image: send a PNG, JPEG, BMP or WebP file") from None
        except Exception as exc:  # noqa: BLE001 - a header Pillow recognises but cannot parse
            raise UploadError(400, f"damaged image header ({exc}); send the file again or re-save it") from None
    if fmt not in ACCEPTED_FORMATS:
        raise UploadError(415, f"{fmt} images are not accepted: send a PNG, JPEG, BMP or WebP file")
    if width * height > max_pixels:
        raise UploadError(413, f"image is {width}x{height} = {width * height:,} pixels, over the limit of "
                               f"{max_pixels:,}; scale it down first")
    sample_bytes = decoded_bytes_per_pixel(data, fmt, bands)
    weight = max(3, sample_bytes) / 3
    if width * height * weight > max_pixels:
        raise UploadError(413, f"image is {width}x{height} at {sample_bytes} bytes a pixel ({_depth_name(sample_bytes)}), "
                               f"as large once decoded as {int(width * height * weight):,} colour pixels, over the "
                               f"limit of {max_pixels:,}; scale it down or save it as 8-bit RGB first")
    if fmt == "JPEG" and not jpeg_complete(data):
        raise UploadError(400, "damaged or truncated JPEG file: its data ends before the end-of-image marker; send the file again")
    return fmt, width, height


def decoded_bytes_per_pixel(data: bytes, fmt: str, bands: int) -> int:
    """Bytes a pixel takes once OpenCV has decoded it unchanged (depth and channels kept)."""
    if fmt == "PNG" and len(data) >= 26 and data[12:16] == b"IHDR":
        depth, colour = data[24], data[25]
        channels = {0: 1, 2: 3, 3: 3, 4: 4, 6: 4}.get(colour, 4)  # palette -> BGR, grey+alpha -> BGRA
        return channels * (2 if depth == 16 else 1)
    return max(1, min(bands, 4))


def _depth_name(sample_bytes: int) -> str:
    return {1: "8-bit grey", 2: "16-bit grey", 3: "8-bit colour", 4: "8-bit with alpha",
            6: "16-bit colour", 8: "16-bit with alpha"}.get(sample_bytes, f"{sample_bytes} bytes")


def decode_image(data: bytes, fmt: str) -> np.ndarray:
    """Decode an accepted image to BGR uint8; UploadError 400 if it is damaged or truncated.

    A PNG's chunk checksums are verified first (Pillow's ``verify``: no pixel decoding, ~1 ms for a
    page); OpenCV then refuses truncated PNG, JPEG, WebP and BMP data (it returns nothing).
    """
    from PIL import Image

    if fmt == "PNG":
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(io.BytesIO(data)) as image:
                    image.verify()
        except Exception as exc:  # noqa: BLE001
            raise UploadError(400, f"damaged PNG file ({exc}); send the file again or re-save it") from None
    try:
        return read_image(data)  # upright by the EXIF orientation, like every still the package reads
    except UnreadableImage as exc:
        if exc.decoded:  # a depth or channel count OpenCV decoded but no page has
            raise UploadError(400, f"unsupported {fmt} image ({exc}); save it as 8-bit RGB first") from None
        raise UploadError(400, f"damaged or truncated {fmt} file: it cannot be decoded; send the file again or re-save it") from None


class Predictor:
    """Reads still images with its own classifier (calls are serialised: LiteRT is not thread-safe)."""

    def __init__(self, classifier, segment_config=None, reading_config=None) -> None:
        self.classifier = classifier
        self._settings = {k: v for k, v in (("segment_config", segment_config), ("reading_config", reading_config)) if v is not None}
        self._lock = threading.Lock()

    def predict(self, image: np.ndarray, mode: str = "auto") -> dict:
        started = time.perf_counter()
        height, width = image.shape[:2]
        body: dict
        with self._lock:
            if mode in ("auto", "page"):
                result = Recognizer(self.classifier, smooth=False, **self._settings).process(Frame(0, 0.0, image))
                record = result.to_record()
                # A small image in which the page reading finds fewer than two digits (an MNIST digit,
                # a canvas drawing, whose ink fills the frame) is one digit, read whole; anything
                # larger, or a small crop with several digits on it ("42"), is a page.
                small = max(width, height) <= SINGLE_DIGIT_MAX_SIDE
                if mode == "page" or not small or len(result.detections) > 1:
                    body = {"mode": "page", "detections": record["detections"], "numbers": record["numbers"]}
                else:
                    body = self._digit(image)
            else:
                body = self._digit(image)
        return {"width": width, "height": height, **body, "latency_ms": round((time.perf_counter() - started) * 1e3, 2)}

    def _digit(self, image: np.ndarray) -> dict:
        """The whole image is one digit (an MNIST image, a canvas drawing)."""
        height, width = image.shape[:2]
        crop = single_digit_crop(image)
        body = {"mode": "digit", "detections": [], "numbers": [], "digit": None, "confidence": None, "probabilities": None}
        if crop is None:
            return body  # blank: no ink to read
        probabilities = self.classifier.predict(crop[None, :, :, None].astype(np.float32))[0]
        best = int(np.argmax(probabilities))
        confidence = float(probabilities[best])
        body["probabilities"] = [round(float(p), 4) for p in probabilities]
        body["confidence"] = round(confidence, 4)
        if best != NOT_A_DIGIT:
            body["digit"] = best
            box = [0, 0, int(width), int(height)]
            body["detections"] = [{"box": box, "digit": best, "confidence": round(confidence, 4)}]
            body["numbers"] = [{"text": str(best), "box": box, "confidence": round(confidence, 4)}]
        return body
