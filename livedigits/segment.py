"""Cut candidate digits out of a camera frame: image in, ``Candidate`` list out.

The recipe: estimate the paper's local brightness, call "ink" what is clearly
darker than the paper around it (so shadows and light gradients do not matter),
remove long ruled lines, take connected components, filter them by size,
aspect, density and position, merge broken strokes, and normalise each
survivor as MNIST does (``normalize_ink``). Pure functions, no state.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .normalize import normalize_ink
from .types import Box, Candidate


@dataclass(frozen=True)
class SegmentConfig:
    """Named, documented knobs of the segmentation. Sizes are in source pixels unless said."""

    ink_contrast: float = 0.30
    """Ink must be at least this much darker than the local paper (0.3 = 30%). Faint ruled lines and
    pencil guide lines stay below it; pen ink of any colour is far above."""
    background_scale: int = 4
    """The paper brightness is estimated on a frame shrunk by this factor (speed)."""
    min_paper: float = 0.45
    """Ink counts only where the local paper is at least this bright relative to the page's brightest
    (95th percentile): the dark table around the page, and its texture, are not paper."""
    background_kernel: float = 0.06
    """Size of the max filter that erases strokes when estimating the paper, as a share of the frame's
    shorter side; it must exceed the thickest stroke."""
    min_height: int = 10
    """Smallest digit height in pixels that is still read (MNIST crops from 10 px are legible)."""
    max_height: float = 0.45
    """Largest digit height as a share of the frame height."""
    min_area: int = 12
    """Components with fewer ink pixels are noise."""
    max_aspect: float = 2.0
    """Width / height above this is not a digit (dashes, ruled lines, words run together)."""
    min_density: float = 0.06
    """Ink pixels / box area below this is a loose scribble or a frame of lines."""
    blob_density: float = 0.85
    """A box at least ``blob_aspect`` wide that is this full of ink is a solid blot, not writing (a bold 8
    can fill 75% of its box; rounder smudges are left to the classifier's not-a-digit class)."""
    blob_aspect: float = 0.45
    paper_margin: float = 0.25
    """Paper must extend this many digit heights beyond every side of a candidate's box."""
    reject_border: bool = True
    """Drop components that touch the frame edge: they are cut off, or the table."""
    line_length: float = 0.12
    """Horizontal or vertical ink runs longer than this share of the frame width are ruled lines and are
    removed before components are taken."""
    merge_gap: float = 0.2
    """A small piece within this share of a digit's height of its box is merged into it (a broken stroke)."""
    max_piece_height: float = 0.5
    """A piece beside a digit (not above or below it) and inside its padded box joins it when at most this
    share of the digit's height: the detached tail of a 1, not a second digit written close by."""
    min_piece_overlap: float = 0.5
    """... and if it overlaps the digit horizontally by this share of the narrower of the two."""
    max_candidates: int = 96
    """At most this many candidates per frame, the largest first (bounds the classifier's batch)."""
    max_side: int = 1920
    """Frames larger than this are shrunk for segmentation (an 8K frame is read, not choked on)."""
    roi: tuple[int, int, int, int] | None = None
    """Optional region of interest ``(x, y, w, h)`` in source pixels; only ink inside it is read."""


DEFAULT_CONFIG = SegmentConfig()

#: Rows of the pieces-by-pieces matrix built at a time when merging strokes (bounds its memory).
MERGE_BLOCK_ROWS = 512
#: A speck or short piece joins a digit when at least this share of it lies in the digit's padded box.
MIN_INSIDE_SHARE = 0.6
#: Up to this many item-root pairs, matching is done as one matrix; above it (noise, texture), by columns.
FULL_MATRIX_LIMIT = 200_000


def to_gray(image: np.ndarray) -> np.ndarray:
    """Any uint8/uint16 image with 1, 3 or 4 channels -> 2-D uint8 gray."""
    if image.dtype != np.uint8:
        if image.dtype == np.uint16:
            image = (image >> 8).astype(np.uint8)
        elif np.issubdtype(image.dtype, np.floating):
            image = np.clip(image * (255.0 if image.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
        else:
            image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"expected an image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {image.shape}")


def _ink_and_paper(gray: np.ndarray, config: SegmentConfig) -> tuple[np.ndarray, np.ndarray]:
    """The ink mask (uint8, 255 = ink) and the paper region, shrunk by ``background_scale``
    (uint8, 1 = well inside the page)."""
    h, w = gray.shape
    scale = max(1, config.background_scale)
    small_w, small_h = max(1, w // scale), max(1, h // scale)
    small = cv2.resize(gray, (small_w, small_h), interpolation=cv2.INTER_AREA)
    k = max(3, int(min(small_w, small_h) * config.background_kernel) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    # A max filter erases dark strokes thinner than k; a blur then smooths the estimate.
    paper = cv2.blur(cv2.dilate(small, kernel), (k, k))
    # Where the "paper" is much darker than the page, it is the table: no ink threshold there. The max
    # filter spread the page's brightness onto the table by half a kernel; an erosion by the same kernel
    # takes that band back, so the shadowed strip beside the page edge is not read as a stroke.
    brightest = float(np.percentile(paper[::2, ::2], 95))
    on_paper = cv2.erode((paper >= brightest * config.min_paper).astype(np.uint8), kernel)
    paper[on_paper == 0] = 0
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
    # ink where gray < paper * (1 - contrast); computed in integers for speed.
    limit = cv2.multiply(paper, np.full_like(paper, 1), scale=1.0 - config.ink_contrast)
    inside = cv2.erode(on_paper, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    return cv2.compare(gray, limit, cv2.CMP_LT), inside


def ink_mask(gray: np.ndarray, config: SegmentConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Binary uint8 mask (255 = ink) of what is clearly darker than the paper around it."""
    return _ink_and_paper(gray, config)[0]


def remove_lines(mask: np.ndarray, config: SegmentConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Remove long horizontal and vertical runs of ink (ruled lines, page edges, table edges).

    The openings run on a mask shrunk by two (any ink in a 2x2 block counts), which halves their cost;
    the lines found are blown back up in 2x2 blocks, so they cover what they covered at full size.
    """
    h, w = mask.shape
    length = int(w * config.line_length) // 2
    if length < 4 or h < 4:
        return mask
    half = cv2.resize(mask, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    half = cv2.compare(half, 0, cv2.CMP_GT)
    horizontal = cv2.morphologyEx(half, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
    vertical = cv2.morphologyEx(half, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length)))
    lines = cv2.bitwise_or(horizontal, vertical)
    if not lines.any():
        return mask
    lines = cv2.resize(lines, ((w // 2) * 2, (h // 2) * 2), interpolation=cv2.INTER_NEAREST)
    if lines.shape != mask.shape:
        lines = cv2.copyMakeBorder(lines, 0, h - lines.shape[0], 0, w - lines.shape[1], cv2.BORDER_REPLICATE)
    return cv2.subtract(mask, lines)


def _keep(x: int, y: int, w: int, h: int, area: int, frame_h: int, frame_w: int, config: SegmentConfig) -> bool:
    if h < config.min_height or h > config.max_height * frame_h or area < config.min_area:
        return False
    aspect = w / h
    if aspect > config.max_aspect:
        return False
    density = area / float(w * h)
    if density < config.min_density:
        return False
    if density > config.blob_density and aspect > config.blob_aspect:
        return False
    if config.reject_border and (x <= 0 or y <= 0 or x + w >= frame_w or y + h >= frame_h):
        return False
    return True


def _outer_contours(mask: np.ndarray) -> list[np.ndarray]:
    contours = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return list(contours[0] if len(contours) == 2 else contours[1])


def _merge_pieces(boxes: list[tuple], pieces: list[int], specks: list[int], config: SegmentConfig) -> dict[int, list[int]]:
    """Group the contours of one digit: smaller strokes stacked right above or below a taller one
    (a 3 or 5 written in two strokes, the detached bar of a 7), and specks inside its box.

    A piece belongs to the tallest contour that is taller than it, overlaps it horizontally by
    ``min_piece_overlap`` of the narrower, and lies within ``merge_gap`` of its height above or below.
    Lines of writing are further apart than that, so digits of two lines are not joined.
    Returns ``{root: [members]}`` where ``root`` is the tallest contour of each group.
    """
    parent: dict[int, int] = {}
    if len(pieces) > 1:
        b = np.array([boxes[i] for i in pieces], np.float32)
        x, y, w, h = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
        # Row i is the piece, column j its possible owner: all pairs at once instead of a Python loop,
        # in blocks of rows so a frame of texture or noise (thousands of pieces) does not need
        # gigabytes for the pairs matrix.
        for start in range(0, len(pieces), MERGE_BLOCK_ROWS):
            rows = slice(start, start + MERGE_BLOCK_ROWS)
            xr, yr, wr, hr = x[rows, None], y[rows, None], w[rows, None], h[rows, None]
            taller = h[None, :] > hr
            overlap = np.minimum(xr + wr, x[None] + w[None]) - np.maximum(xr, x[None])
            overlaps = overlap >= config.min_piece_overlap * np.minimum(wr, w[None])
            gap = np.maximum(y[None] - (yr + hr), yr - (y[None] + h[None]))
            close = gap <= config.merge_gap * h[None]
            owners = np.where(taller & overlaps & close, h[None], -1.0)
            best = owners.argmax(axis=1)
            for row, col in enumerate(best):
                if owners[row, col] > 0:  # the tallest piece it belongs to
                    parent[pieces[start + row]] = pieces[int(col)]

    def root(i: int) -> int:
        while i in parent:
            i = parent[i]
        return i

    groups: dict[int, list[int]] = {}
    for i in pieces:
        groups.setdefault(root(i), []).append(i)
    if len(groups) > 1:
        # A short piece beside a digit, inside its padded box (the detached tail of a 1 or a 4), joins it.
        roots = sorted(groups, key=lambda r: -boxes[r][3])
        owner = _inside_padded(np.array([_union(boxes, groups[r]) for r in roots], np.float64), roots, boxes,
                               config, max_height_share=config.max_piece_height)
        for k in range(len(roots) - 1, -1, -1):  # shortest first, so a chain ends at the tallest
            if owner[k] >= 0 and owner[k] != k and roots[k] in groups:
                target = roots[owner[k]]
                while target not in groups:  # its owner was itself folded into a taller one
                    target = roots[owner[roots.index(target)]]
                groups[target].extend(groups.pop(roots[k]))
    if not specks or not groups:
        return groups
    roots = list(groups)
    owner = _inside_padded(np.array([boxes[j] for j in specks], np.float64).reshape(-1, 4), roots, boxes, config)
    for j, k in zip(specks, owner):
        if k >= 0:
            groups[roots[k]].append(j)
    return groups


def _inside_padded(items: np.ndarray, roots: list[int], boxes: list[tuple], config: SegmentConfig,
                   max_height_share: float | None = None) -> np.ndarray:
    """For each item box ``(x, y, w, h)``, the index in ``roots`` of the box whose padded outline holds
    the largest share of it (at least ``MIN_INSIDE_SHARE``), or -1. With ``max_height_share``, only roots
    at least that many times taller qualify. Items are sorted by x so each root only looks at the items in
    its own column: a noisy frame has tens of thousands of specks and thousands of roots."""
    sx, sy, sw, sh = items.T
    area = np.maximum(1.0, sw * sh)
    if len(items) * len(roots) <= FULL_MATRIX_LIMIT:
        # The usual page: a few dozen of each, so all pairs at once beat a loop over the roots.
        r = np.array([boxes[i] for i in roots], np.float64)
        pad = config.merge_gap * r[:, 3]
        ox = np.minimum(sx[:, None] + sw[:, None], (r[:, 0] + r[:, 2] + pad)[None]) - np.maximum(sx[:, None], (r[:, 0] - pad)[None])
        oy = np.minimum(sy[:, None] + sh[:, None], (r[:, 1] + r[:, 3] + pad)[None]) - np.maximum(sy[:, None], (r[:, 1] - pad)[None])
        share = np.where((ox > 0) & (oy > 0), ox * oy / area[:, None], 0.0)
        if max_height_share is not None:
            share = np.where(sh[:, None] <= max_height_share * r[:, 3][None], share, 0.0)
        # The first root with the largest share wins, as in the loop below.
        best = share.argmax(axis=1)
        return np.where(share[np.arange(len(items)), best] > MIN_INSIDE_SHARE, best, -1)
    by_x = np.argsort(sx, kind="stable")
    sorted_x = sx[by_x]
    widest = float(sw.max()) if len(sw) else 0.0
    owner = np.full(len(items), -1, np.int64)
    best = np.full(len(items), MIN_INSIDE_SHARE)
    for k, i in enumerate(roots):
        x, y, w, h = boxes[i]
        pad = config.merge_gap * h
        first = np.searchsorted(sorted_x, x - pad - widest, "right")
        near = by_x[first: np.searchsorted(sorted_x, x + w + pad, "left")]
        if near.size == 0:
            continue
        ox = np.minimum(sx[near] + sw[near], x + w + pad) - np.maximum(sx[near], x - pad)
        oy = np.minimum(sy[near] + sh[near], y + h + pad) - np.maximum(sy[near], y - pad)
        share = (ox * oy) / area[near]
        better = (ox > 0) & (oy > 0) & (share > best[near])
        if max_height_share is not None:
            better &= sh[near] <= max_height_share * h
        owner[near[better]] = k
        best[near[better]] = share[better]
    return owner


def _surrounded_by_paper(box: tuple, inside: np.ndarray, scale_x: float, scale_y: float, config: SegmentConfig) -> bool:
    """Writing has paper all around it; the page's own edge has the table on one side. Look a little
    beyond each side of the box in the (shrunk) paper region."""
    x, y, w, h = box
    margin = max(2.0, config.paper_margin * h)
    cx, cy = x + w / 2.0, y + h / 2.0
    for px, py in ((x - margin, cy), (x + w + margin, cy), (cx, y - margin), (cx, y + h + margin)):
        sx, sy = int(px * scale_x), int(py * scale_y)
        if not (0 <= sx < inside.shape[1] and 0 <= sy < inside.shape[0]) or not inside[sy, sx]:
            return False
    return True


def _union(boxes: list[tuple], members: list[int]) -> tuple[int, int, int, int]:
    x0 = min(boxes[m][0] for m in members)
    y0 = min(boxes[m][1] for m in members)
    x1 = max(boxes[m][0] + boxes[m][2] for m in members)
    y1 = max(boxes[m][1] + boxes[m][3] for m in members)
    return x0, y0, x1 - x0, y1 - y0


def _member_patch(mask: np.ndarray, contours: list[np.ndarray], members: list[int], box: tuple) -> np.ndarray:
    """The ink of these contours only, inside ``box``: the mask ANDed with their filled outlines.

    Filling the outer contour and ANDing with the mask keeps the holes of 0, 6, 8, 9 and leaves out
    the ink of neighbours whose boxes overlap this one.
    """
    x, y, w, h = box
    shape = np.zeros((h, w), np.uint8)
    cv2.drawContours(shape, [contours[m] for m in members], -1, 255, thickness=cv2.FILLED, offset=(-x, -y))
    return cv2.bitwise_and(mask[y: y + h, x: x + w], shape)


def find_candidates(image: np.ndarray, config: SegmentConfig = DEFAULT_CONFIG, *, return_mask: bool = False):
    """Cut every candidate digit out of ``image``.

    ``image``: uint8 (or uint16) array, shape (H, W), (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA, any size
    from 1x1. Returns a list of ``Candidate`` (boxes in source pixels, crops (28, 28) float32 in [0, 1],
    ordered top to bottom then left to right), and with ``return_mask`` also the ink mask used.
    """
    gray = to_gray(np.asarray(image))
    full_h, full_w = gray.shape[:2]
    offset_x = offset_y = 0
    if config.roi is not None:
        rx, ry, rw, rh = config.roi
        rx, ry = min(max(0, int(rx)), full_w), min(max(0, int(ry)), full_h)
        rw, rh = max(0, min(int(rw), full_w - rx)), max(0, min(int(rh), full_h - ry))
        gray = gray[ry: ry + rh, rx: rx + rw]
        offset_x, offset_y = rx, ry
    scale = 1.0
    if gray.size and max(gray.shape) > config.max_side:
        scale = config.max_side / float(max(gray.shape))
        size = (max(1, int(gray.shape[1] * scale)), max(1, int(gray.shape[0] * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    h, w = gray.shape[:2]
    if h < config.min_height or w < 2:
        empty = np.zeros((h, w), np.uint8)
        return ([], empty) if return_mask else []

    mask, inside = _ink_and_paper(gray, config)
    contours = _outer_contours(mask)
    line_length = w * config.line_length
    # Removing ruled lines costs two long morphological openings: only pay for it when some piece
    # of ink is long enough to hold one.
    if any(bw > line_length or bh > line_length for bw, bh in (cv2.boundingRect(c)[2:] for c in contours)):
        mask = remove_lines(mask, config)
        contours = _outer_contours(mask)

    boxes = [cv2.boundingRect(c) for c in contours]
    # Pieces first, filters after: a 3 written in two strokes has a lower part wider than tall,
    # which only passes the aspect filter once it is joined to its upper part.
    pieces, specks = [], []
    for i, (x, y, bw, bh) in enumerate(boxes):
        if bh > config.max_height * h or bw > config.max_height * w:
            continue
        if bh >= config.min_height or bw >= config.min_height:
            pieces.append(i)
        elif bh >= 2 or bw >= 2:
            specks.append(i)
    groups = _merge_pieces(boxes, pieces, specks, config) if pieces else {}

    scale_x = inside.shape[1] / float(w)
    scale_y = inside.shape[0] / float(h)
    kept = {}
    for main, members in groups.items():
        box = _union(boxes, members)
        x, y, bw, bh = box
        if bh < config.min_height or bh > config.max_height * h or bw > config.max_aspect * bh:
            continue
        if not _surrounded_by_paper(box, inside, scale_x, scale_y, config):
            continue
        patch = _member_patch(mask, contours, members, box)
        if _keep(x, y, bw, bh, cv2.countNonZero(patch), h, w, config):
            kept[main] = (box, patch)
    if not kept:
        return ([], mask) if return_mask else []
    if len(kept) > config.max_candidates:
        largest = sorted(kept, key=lambda i: -(kept[i][0][2] * kept[i][0][3]))[: config.max_candidates]
        kept = {i: kept[i] for i in largest}

    candidates = []
    for (x0, y0, bw, bh), patch in kept.values():
        box = Box(
            int(x0 / scale) + offset_x,
            int(y0 / scale) + offset_y,
            max(1, int(round(bw / scale))),
            max(1, int(round(bh / scale))),
        )
        candidates.append(Candidate(box=box, crop=normalize_ink(patch)))
    candidates.sort(key=lambda c: (c.box.y, c.box.x))
    return (candidates, mask) if return_mask else candidates


def crops_batch(candidates: list[Candidate]) -> np.ndarray:
    """Stack candidate crops into the classifier's input: float32 ``(N, 28, 28, 1)``."""
    if not candidates:
        return np.zeros((0, 28, 28, 1), np.float32)
    return np.stack([c.crop for c in candidates])[..., None]
