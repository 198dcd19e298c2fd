"""Still images into the pipeline's form: a photo or scan given to the package becomes a BGR ``uint8``
array here, upright by its EXIF orientation, from whatever depth and channels it was stored in.

``read_image`` is the one door for a file or its bytes (``livedigits run`` on an image or folder,
``livedigits collect`` imports, the web API's uploads); ``to_bgr8`` also normalises video frames.

Example::

    image = read_image("page.jpg")       # (H, W, 3) uint8 BGR, turned upright
    image = read_image(upload_bytes)     # the same from the file's bytes
"""

from __future__ import annotations

import io
import os
import warnings

import cv2
import numpy as np

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


def read_still(image_file: str | os.PathLike | bytes) -> np.ndarray | None:
    """Decode a still image (a path, or the file's bytes) at its real depth and channels, upright.

    What ``cv2.imread``/``cv2.imdecode`` with ``IMREAD_UNCHANGED`` give (16-bit and alpha kept),
    turned by the file's EXIF orientation, which ``IMREAD_UNCHANGED`` ignores (a phone photo taken
    upright would otherwise come out sideways). None when it cannot be decoded. ``read_image`` is
    this plus ``to_bgr8``; the raw form is for callers that check the stored layout themselves.
    """
    try:
        if isinstance(image_file, (bytes, bytearray, memoryview)):
            raw = cv2.imdecode(np.frombuffer(image_file, np.uint8), cv2.IMREAD_UNCHANGED)
        else:
            raw = cv2.imread(os.fspath(image_file), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None
    if raw is None or raw.size == 0:
        return None
    return apply_orientation(raw, exif_orientation(image_file))


class UnreadableImage(ValueError):
    """A still image that cannot become a BGR page; the message says why in a few words.

    ``decoded`` tells a damaged or unknown file (False: OpenCV could not decode it) from one that
    decoded to a layout no page has (True: e.g. two channels), for callers that answer differently.
    """

    def __init__(self, message: str, decoded: bool) -> None:
        super().__init__(message)
        self.decoded = decoded


def read_image(image_file: str | os.PathLike | bytes) -> np.ndarray:
    """Read a still image (a path, or the file's bytes) as a C-contiguous BGR uint8 ``(H, W, 3)`` array.

    Upright by its EXIF orientation (``read_still``), converted by ``to_bgr8``. Raises
    ``UnreadableImage`` when it cannot be decoded or has no page's layout; callers add what the image
    was (its path, the upload's format) to the message.
    """
    raw = read_still(image_file)
    if raw is None:
        raise UnreadableImage("not an image OpenCV can decode, or a damaged file", decoded=False)
    try:
        return to_bgr8(raw)
    except ValueError as exc:
        raise UnreadableImage(str(exc), decoded=True) from None


def read_image_file(path: str | os.PathLike) -> np.ndarray:
    """One still image file as a BGR ``uint8`` array, upright by its EXIF orientation (the Python API and
    ``livedigits collect`` read files so).

    :class:`~livedigits.errors.SourceError` with a one-line message when the file is missing, a folder,
    empty or not an image OpenCV can decode (for the last two, the message ``livedigits run IMAGE``
    prints).
    """
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
        return read_image(name)
    except UnreadableImage as exc:
        raise SourceError(unreadable_image_message(name, str(exc))) from None


def empty_image_message(path: str) -> str:
    return f"{path} is empty (0 bytes); pass an image file that was fully written"


def unreadable_image_message(path: str, why: str = "not an image OpenCV can decode, or a damaged file") -> str:
    return f"cannot read image {path}: {why}"


def is_image_path(path: str | os.PathLike) -> bool:
    """Does the file name end in one of ``IMAGE_EXTENSIONS`` (any case)?"""
    return os.path.splitext(os.fspath(path))[1].lower() in IMAGE_EXTENSIONS
