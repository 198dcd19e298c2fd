"""Still images into the pipeline's form: a photo or scan given to the package becomes a BGR ``uint8``
array here, upright by its EXIF orientation, from whatever depth and channels it was stored in.

``read_image`` is the one door for a file or its bytes (``livedigits run`` on an image or folder,
``livedigits collect`` imports, the web API's uploads); ``to_bgr8`` also normalises video frames.

Example::

    image = read_image("page.jpg")       # (H, W, 3) uint8 BGR, turned upright
    image = read_image(upload_bytes)     # the same from the file's bytes
    image, scale = read_image_scaled("photo.jpg", max_side=2560)  # a 4000x3000 JPEG: 2000x1500, scale 2
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
import warnings

import cv2
import numpy as np

log = logging.getLogger(__name__)

#: Still-image file name extensions OpenCV's imread can decode.
IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".bmp", ".dib", ".tif", ".tiff", ".webp",
     ".pbm", ".pgm", ".ppm", ".pnm", ".pxm", ".sr", ".ras", ".jp2", ".exr", ".hdr", ".pic", ".avif"}
)


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as a C-contiguous BGR ``uint8`` array of shape ``(H, W, 3)``.

    Accepts what ``cv2.imread(..., IMREAD_UNCHANGED)`` and ``VideoCapture.read``
    give: ``(H, W)`` or ``(H, W, 1)`` grayscale, ``(H, W, 3)`` BGR or
    ``(H, W, 4)`` BGRA, in ``uint8``, ``uint16``, other integers or floats.

    Depth is scaled by the dtype's value range, not clipped, so a 16-bit scan
    keeps its contrast (65535 -> 255). Floats are taken to be in [0, 1], as
    OpenCV does. Alpha is composited over white: handwriting exported with a
    transparent background usually has black (0, 0, 0) colour under alpha 0,
    so dropping alpha would turn the whole page black and hide the ink.
    """
    if image is None or image.size == 0:
        raise ValueError("empty image")
    image = _to_uint8(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = _composite_over_white(image)
    elif not (image.ndim == 3 and image.shape[2] == 3):
        raise ValueError(f"expected an image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {image.shape}")
    return np.ascontiguousarray(image)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """Scale any integer or float depth to ``uint8`` by its value range.

    Without float64 copies: OpenCV scales 16-bit and smaller integers straight into the 8-bit result
    (a 16-bit RGBA page of 40 megapixels would otherwise take 2.5 GB of temporaries); wider types
    go through one float32 copy.
    """
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        # 65535 / 255 == 257 exactly, so this maps the full range onto 0..255 (rounded).
        return cv2.convertScaleAbs(image, alpha=1.0 / 257.0)
    if image.dtype in (np.int8, np.int16, np.int32):
        info = np.iinfo(image.dtype)
        scale = 255.0 / (info.max - info.min)
        return cv2.convertScaleAbs(image, alpha=scale, beta=-info.min * scale)
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        scaled = image.astype(np.float32)
        scaled -= np.float32(info.min)
        scaled *= np.float32(255.0 / (info.max - info.min))
        np.rint(scaled, out=scaled)
        return scaled.astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        scaled = np.nan_to_num(image.astype(np.float32), copy=False)
        np.clip(scaled, 0.0, 1.0, out=scaled)
        scaled *= np.float32(255.0)
        np.rint(scaled, out=scaled)
        return scaled.astype(np.uint8)
    raise ValueError(f"unsupported image dtype {image.dtype}")


def _composite_over_white(bgra: np.ndarray) -> np.ndarray:
    """Blend a ``(H, W, 4)`` uint8 BGRA image over a white page -> ``(H, W, 3)``.

    ``255 - (255 - colour) * alpha / 255``, rounded, in 8-bit OpenCV operations (no 16-bit copies).
    """
    alpha = np.ascontiguousarray(bgra[:, :, 3])
    ink = cv2.bitwise_not(np.ascontiguousarray(bgra[:, :, :3]))
    ink = cv2.multiply(ink, cv2.merge([alpha, alpha, alpha]), scale=1.0 / 255.0)
    return cv2.bitwise_not(ink)


#: EXIF tag number of the orientation a camera stores instead of turning the pixels.
EXIF_ORIENTATION_TAG = 0x0112


def exif_orientation(image_file: str | os.PathLike | bytes) -> int:
    """The EXIF orientation (1-8) of a still image file or its bytes; 1 when absent or unreadable.

    Only the header is parsed (Pillow reads lazily); formats Pillow does not know count as 1.
    """
    from PIL import Image  # a dependency; imported here so sources stays cheap to import

    try:
        handle = io.BytesIO(image_file) if isinstance(image_file, (bytes, bytearray, memoryview)) else image_file
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(handle) as image:
                value = image.getexif().get(EXIF_ORIENTATION_TAG, 1)
    except Exception:  # noqa: BLE001 - not an image Pillow reads, or a damaged header: no orientation
        return 1
    try:
        value = int(value)
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Turn/flip ``image`` (``(H, W)`` or ``(H, W, C)``, any dtype) so EXIF ``orientation`` becomes upright (1).

    1 upright; 2 mirrored left-right; 3 turned 180 degrees; 4 mirrored top-bottom; 5 mirrored along
    the main diagonal; 6 needs a quarter turn clockwise; 7 mirrored along the other diagonal; 8 needs
    a quarter turn anticlockwise. Other values leave the image as it is.
    """
    if orientation == 2:
        out = image[:, ::-1]
    elif orientation == 3:
        out = image[::-1, ::-1]
    elif orientation == 4:
        out = image[::-1]
    elif orientation == 5:
        out = np.swapaxes(image, 0, 1)
    elif orientation == 6:
        out = np.swapaxes(image[::-1], 0, 1)
    elif orientation == 7:
        out = np.swapaxes(image[::-1, ::-1], 0, 1)
    elif orientation == 8:
        out = np.swapaxes(image[:, ::-1], 0, 1)
    else:
        return image
    return np.ascontiguousarray(out)


#: The whole factors libjpeg decodes a JPEG at straight away (its DCT scaling): an 8x8 block becomes
#: 4x4, 2x2 or 1x1 pixels, several times cheaper than decoding it whole and shrinking it after.
JPEG_REDUCED_FLAGS = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}


def shrink_factor(width: int, height: int, max_side: int | None) -> int:
    """The whole factor a frame of this size is shrunk by before segmentation: the smallest that brings
    its longer side to ``max_side`` at most (``SegmentConfig.max_side``), 1 when it fits or ``max_side``
    is None."""
    side = max(int(width), int(height))
    if not max_side or side <= max_side:
        return 1
    return -(-side // int(max_side))


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` of a JPEG as stored (before any EXIF turn), read from its frame header; None
    when the header cannot be found. The segments are walked by their lengths, as in ``jpeg_complete``."""
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        if marker == 0xDA:  # a scan before any frame header: not a JPEG we can size
            return None
        # SOF0-SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if i + 9 > len(data):
                return None
            height = int.from_bytes(data[i + 5:i + 7], "big")
            width = int.from_bytes(data[i + 7:i + 9], "big")
            return (width, height) if width and height else None
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    return None


def read_still(image_file: str | os.PathLike | bytes) -> np.ndarray | None:
    """Decode a still image (a path, or the file's bytes) at its real depth and channels, upright.

    What ``cv2.imdecode`` with ``IMREAD_UNCHANGED`` gives (16-bit and alpha kept), turned by the file's
    EXIF orientation, which ``IMREAD_UNCHANGED`` ignores (a phone photo taken upright would otherwise
    come out sideways). None when it cannot be decoded. ``read_image`` is this plus ``to_bgr8``; the raw
    form is for callers that check the stored layout themselves.

    A JPEG cut short raises :class:`DamagedImage` rather than being decoded: libjpeg fills the missing
    part with grey and carries on, so the picture would pass as whole. What libjpeg says about a JPEG
    it does decode ("Corrupt JPEG data: ...") goes through logging, once, naming the file, instead of
    straight to the terminal; one whose scan data ends early ("premature end of data segment") is
    damaged too.
    """
    return read_still_scaled(image_file)[0]


def read_still_scaled(image_file: str | os.PathLike | bytes, max_side: int | None = None) -> tuple[np.ndarray | None, int]:
    """``read_still``, and the whole factor the image was decoded smaller by: ``(image, scale)``.

    With ``max_side`` (``SegmentConfig.max_side``), a JPEG that the segmentation would shrink by 2, 4 or
    8 anyway is decoded straight at that size by libjpeg (``JPEG_REDUCED_FLAGS``): a 12 MP phone photo
    takes a quarter of the time to decode. ``scale`` is that factor (1 for a full decode): the file's
    pixels are ``scale`` times the image's. Other formats, and other factors, are decoded whole.
    """
    name = None
    if isinstance(image_file, (bytes, bytearray, memoryview)):
        data = bytes(image_file)
    else:
        name = os.fspath(image_file)
        try:
            with open(name, "rb") as handle:
                data = handle.read()
        except OSError:
            return None, 1
    scale = 1
    try:
        if data[:2] == b"\xff\xd8":
            if not jpeg_complete(data):
                raise DamagedImage("damaged: a JPEG cut short, its data ends before the end-of-image marker")
            size = jpeg_size(data) if max_side else None
            scale = shrink_factor(*size, max_side) if size else 1
            flags = cv2.IMREAD_UNCHANGED
            if scale in JPEG_REDUCED_FLAGS:
                # The EXIF turn is applied below, as for a full decode: OpenCV must not turn it first.
                flags = JPEG_REDUCED_FLAGS[scale] | cv2.IMREAD_IGNORE_ORIENTATION
            else:
                scale = 1
            raw, said = _decode_telling(data, flags)
            if "premature end" in said.lower():  # scan data missing: grey or smeared blocks in its place
                raise DamagedImage(f"damaged: libjpeg: {said}")
            if said:
                log.warning("%s: libjpeg: %s", name or "image bytes", said)
        else:
            raw = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None, 1
    if raw is None or raw.size == 0:
        return None, 1
    return apply_orientation(raw, exif_orientation(data)), scale


def jpeg_complete(data: bytes) -> bool:
    """True if an end-of-image marker follows the start of the JPEG's first scan.

    The segments before the scan are walked by their lengths, so the EOI of an EXIF thumbnail (a
    whole JPEG inside APP1) does not count; data after the EOI (a phone's trailer) is allowed.
    """
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return False
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if marker == 0xDA:  # start of scan: the entropy-coded data follows
            return data.find(b"\xff\xd9", i + 2 + length) != -1
        i += 2 + length
    return False


#: One decode at a time catches file descriptor 2: what libjpeg prints is told apart per file.
_NATIVE_LOCK = threading.Lock()
#: How libjpeg's messages begin (jerror.h); other text caught meanwhile (another thread's) is passed on.
_LIBJPEG_PREFIXES = ("Corrupt JPEG data", "Premature end of JPEG", "Invalid", "Bogus", "Warning", "Unsupported",
                     "Huffman", "Inconsistent", "Not a JPEG", "Quantization", "Scan script")


def _decode_telling(data: bytes, flags: int = cv2.IMREAD_UNCHANGED) -> tuple[np.ndarray | None, str]:
    """``cv2.imdecode`` of JPEG bytes with ``flags``, and what libjpeg printed meanwhile (one line), caught
    from file descriptor 2 where it would go straight to the terminal."""
    import tempfile

    with _NATIVE_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):  # no real stderr: nothing to catch
            return cv2.imdecode(np.frombuffer(data, np.uint8), flags), ""
        with tempfile.TemporaryFile() as caught:
            os.dup2(caught.fileno(), 2)
            try:
                raw = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            caught.seek(0)
            text = caught.read().decode("utf-8", errors="replace")
    said, other = [], []
    for line in text.splitlines():
        (said if line.strip().startswith(_LIBJPEG_PREFIXES) else other).append(line)
    if other:
        sys.stderr.write("\n".join(other) + "\n")  # not libjpeg's: passed on as it was
    return raw, "; ".join(line.strip() for line in said)


class UnreadableImage(ValueError):
    """A still image that cannot become a BGR page; the message says why in a few words.

    ``decoded`` tells a damaged or unknown file (False: OpenCV could not decode it) from one that
    decoded to a layout no page has (True: e.g. two channels), for callers that answer differently.
    """

    def __init__(self, message: str, decoded: bool) -> None:
        super().__init__(message)
        self.decoded = decoded


class DamagedImage(UnreadableImage):
    """A file of a known format that is cut short or corrupt (a JPEG without its end): named as damaged
    by every reader — the command line skips it with a warning, the Python API raises, the server
    answers 400."""

    def __init__(self, message: str) -> None:
        super().__init__(message, decoded=False)


def read_image(image_file: str | os.PathLike | bytes) -> np.ndarray:
    """Read a still image (a path, or the file's bytes) as a C-contiguous BGR uint8 ``(H, W, 3)`` array.

    Upright by its EXIF orientation (``read_still``), converted by ``to_bgr8``. Raises
    ``UnreadableImage`` when it cannot be decoded or has no page's layout; callers add what the image
    was (its path, the upload's format) to the message.
    """
    return read_image_scaled(image_file)[0]


def read_image_scaled(image_file: str | os.PathLike | bytes, max_side: int | None = None) -> tuple[np.ndarray, int]:
    """``read_image``, decoded smaller where the segmentation would shrink it anyway: ``(image, scale)``.

    ``max_side``: ``SegmentConfig.max_side`` (None: always whole). A big JPEG comes back ``scale`` (2, 4
    or 8) times smaller than the file (``read_still_scaled``); give ``scale`` on with the image
    (``Frame.scale``, ``segment(..., source_scale=)``) so boxes are put back in the file's pixels.
    """
    raw, scale = read_still_scaled(image_file, max_side)  # DamagedImage for a JPEG cut short
    if raw is None:
        raise UnreadableImage("not an image OpenCV can decode, or a damaged file", decoded=False)
    try:
        return to_bgr8(raw), scale
    except ValueError as exc:
        raise UnreadableImage(str(exc), decoded=True) from None


def read_image_file(path: str | os.PathLike) -> np.ndarray:
    """One still image file as a BGR ``uint8`` array, upright by its EXIF orientation (the Python API and
    ``livedigits collect`` read files so).

    :class:`~livedigits.errors.SourceError` with a one-line message when the file is missing, a folder,
    empty or not an image OpenCV can decode (for the last two, the message ``livedigits run IMAGE``
    prints).
    """
    return read_image_file_scaled(path)[0]


def read_image_file_scaled(path: str | os.PathLike, max_side: int | None = None) -> tuple[np.ndarray, int]:
    """``read_image_file``, decoded smaller where the segmentation would shrink it anyway: ``(image,
    scale)``, as ``read_image_scaled`` says."""
    from livedigits.capture.bundled import resolve
    from livedigits.errors import SourceError

    name = resolve(os.path.expanduser(os.fspath(path)))  # samples/page.png: the bundled one, from anywhere
    if not os.path.isfile(name):
        if os.path.isdir(name):
            raise SourceError(f"{name} is a folder, not an image file")
        where = "" if os.path.isabs(name) else f" (a relative path starts from the working folder, {os.getcwd()})"
        raise SourceError(f"no such file: {name}{where}")
    if os.path.getsize(name) == 0:
        raise SourceError(empty_image_message(name))
    try:
        return read_image_scaled(name, max_side)
    except UnreadableImage as exc:
        raise SourceError(unreadable_image_message(name, str(exc))) from None


def source_image(frame) -> np.ndarray:
    """A new copy of ``frame.image`` (a :class:`~livedigits.types.Frame`) at the size of the file it was
    read from, for drawing the result's boxes (which are in the file's pixels) on it.

    A frame decoded smaller (``Frame.scale`` > 1, a big JPEG) is decoded again whole from its file, as it
    would have been read without the shortcut; if the file is gone or changed size, the small image is
    enlarged instead. Costs a full decode only when a picture is drawn.
    """
    scale = int(getattr(frame, "scale", 1) or 1)
    if scale == 1:
        return frame.image.copy()
    h, w = frame.image.shape[:2]
    if frame.file is not None:
        try:
            whole = read_image(frame.file)
        except (UnreadableImage, OSError):
            whole = None
        # libjpeg rounds a reduced side up: the whole image is within a factor's width of it.
        if whole is not None and abs(whole.shape[0] - h * scale) < scale and abs(whole.shape[1] - w * scale) < scale:
            return whole
    return cv2.resize(frame.image, (w * scale, h * scale), interpolation=cv2.INTER_LINEAR)


def empty_image_message(path: str) -> str:
    return f"{path} is empty (0 bytes); pass an image file that was fully written"


def unreadable_image_message(path: str, why: str = "not an image OpenCV can decode, or a damaged file") -> str:
    return f"cannot read image {path}: {why}"


def is_image_path(path: str | os.PathLike) -> bool:
    """Does the file name end in one of ``IMAGE_EXTENSIONS`` (any case)?"""
    return os.path.splitext(os.fspath(path))[1].lower() in IMAGE_EXTENSIONS
