"""Perceptual hashes for finding the same picture again, through the cheap tricks of reuse.

A stored photo keeps two difference hashes: of its whole frame and of its central CORE part.
A new photo is looked up with
- its whole frame under the 8 mirror/rotation symmetries (against stored whole frames): catches a
  copy that was re-encoded, resized, turned grey, mirrored or rotated by 90/180/270 degrees;
- a grid of crops at the sizes where a stored photo's core would sit if the new one were that photo
  cropped by up to MAX_CROP per side (against stored cores): catches crops.
Each hash is 64 bits (indexed by its two 32-bit halves) with a 256-bit fingerprint of the same region
that confirms a match. Uniform images (the caller says which) never match.

Hashes are computed from box means over an integral image (numpy): hundreds of crops cost about a
millisecond. The crops' 64-bit hashes stay a numpy array, and their 256-bit fingerprints are made
only for the few a lookup finds close: thousands of Python integers per upload would cost more than
the hashing itself.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

CORE = 0.70  # the stored core: the central 70 % of the width and the height
MAX_CROP = 0.15  # a crop keeping at least 85 % of the width and the height is still found
_CROP_SCALES = 7  # kept shares of the width (and height) tried, from 1 - MAX_CROP to 1
# Where a stored core can lie inside a crop is tried in steps of this share of the frame: the
# difference hash tolerates a shift of about a tenth of its 1/9-wide cells.
_CROP_STEP = 0.012
_HASH_LONG_SIDE = 256
PROBE_BITS = 2
# A crop match is refined over this many sizes and shifts per axis, within these bounds, twice.
_REFINE_STEPS = 5
_REFINE_ROUNDS = 2
_REFINE_SCALE = 0.012
_REFINE_SHIFT = 0.008


@dataclass(frozen=True, slots=True)
class HashPair:
    short: int  # 64-bit difference hash (indexed by its 32-bit halves)
    long: int  # 256-bit difference hash of the same region (confirms)


@dataclass(frozen=True, slots=True)
class PhotoHashes:
    frame: HashPair
    core: HashPair
    informative: bool  # False for a uniform image: it takes no part in reuse matching


def _no_hashes() -> np.ndarray:
    return np.zeros(0, dtype=np.uint64)


def _no_boxes() -> np.ndarray:
    return np.zeros(0, dtype=np.intp)


@dataclass(frozen=True, slots=True, eq=False)
class QueryHashes:
    frames: tuple[HashPair, ...]  # the whole frame under the 8 symmetries
    # 64-bit hashes (uint64) of candidate positions of a stored core inside this photo, with their
    # probes; crops[i] was taken from box crop_box_of[i] of crop_boxes (x, y, w, h on `integral`).
    crops: np.ndarray = field(default_factory=_no_hashes)
    crop_box_of: np.ndarray = field(default_factory=_no_boxes)
    crop_boxes: np.ndarray | None = None
    integral: np.ndarray | None = None
    # refined_crop_distance's search rounds, made once per upload (see _refine_round).
    refine_cache: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def crop_fingerprints(self, boxes: Sequence[int]) -> list[int]:
        """The 256-bit fingerprints of these crop boxes."""
        if self.integral is None or self.crop_boxes is None or not boxes:
            return []
        return _bits(_grid(self.integral, self.crop_boxes[np.asarray(boxes, dtype=np.intp)], 17))

    def refined_crop_distance(self, box: int, stored_long: int) -> int:
        """The 256-bit distance to a stored core after aligning the matched box finely.

        The lookup grid is 1.2 % of the frame apart and tries one kept share for both axes, so the
        best box can sit half a step off a true crop (which then measures up to ~24 bits, as close as
        two distinct close-ups of one meter model). Two rounds of search around the box, over both
        axes' sizes and shifts, each round finer, bring true crops to 3-10 bits.
        """
        if self.integral is None or self.crop_boxes is None:
            return 256
        target = np.frombuffer(stored_long.to_bytes(32, "big"), dtype=np.uint8)
        best, path = 256, (int(box),)
        for _ in range(_REFINE_ROUNDS):
            boxes, packed = self._refine_round(path)
            distances = np.bitwise_count(packed ^ target).sum(axis=1, dtype=np.int64)
            i = int(np.argmin(distances))
            best = min(best, int(distances[i]))
            path = (*path, i)
        return best

    def _refine_round(self, path: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The boxes of one search round and their packed 256-bit hashes; `path` is the matched box and
        the index picked in each earlier round. They depend on nothing else, and an upload measures
        many stored cores that start from the same few boxes (133 searches from 18 boxes in a loaded
        run), so each is made once per upload."""
        cached = self.refine_cache.get(path)
        if cached is not None:
            return cached
        if len(path) == 1:
            x, y, w, h = self.crop_boxes[path[0]]  # type: ignore[index]
        else:
            x, y, w, h = self._refine_round(path[:-1])[0][path[-1]]
        rounds_before = len(path) - 1
        scale, shift = _REFINE_SCALE / 2.5**rounds_before, _REFINE_SHIFT / 2.5**rounds_before
        frame_w, frame_h = self.integral.shape[1] - 1, self.integral.shape[0] - 1  # type: ignore[union-attr]
        steps = np.linspace(-1, 1, _REFINE_STEPS)
        sx, sy, dy, dx = (a.ravel() for a in np.meshgrid(1 + scale * steps, 1 + scale * steps, steps, steps))
        bw, bh = w * sx, h * sy
        boxes = np.stack([x + (w - bw) / 2 + dx * shift * frame_w, y + (h - bh) / 2 + dy * shift * frame_h, bw, bh], 1)
        cached = self.refine_cache[path] = (boxes, _packed(_grid(self.integral, boxes, 17)))  # type: ignore[arg-type]
        return cached


def photo_hashes(grey: Image.Image, informative: bool) -> tuple[PhotoHashes, QueryHashes]:
    """What to store for this (upright, greyscale) photo, and what to look it up with.

    `informative` is the caller's verdict on whether the picture shows anything (photo.py: its edge
    density); a uniform picture gets no lookup hashes at all (hundreds of crops not worth making).
    """
    img = _shrink(grey)
    integral = _integral(img)
    h, w = img.shape
    frame_box = np.array([[0.0, 0.0, float(w), float(h)]])
    core_box = np.array([[w * (1 - CORE) / 2, h * (1 - CORE) / 2, w * CORE, h * CORE]])
    frame8, frame16 = _grids(integral, frame_box)
    core8, core16 = _grids(integral, core_box)
    stored = PhotoHashes(
        frame=HashPair(_bits(frame8)[0], _bits(frame16)[0]),
        core=HashPair(_bits(core8)[0], _bits(core16)[0]),
        informative=informative,
    )
    if not informative:
        return stored, QueryHashes(frames=())
    # _probes orders its output variant by variant: the 8 symmetries' hashes, then their probes.
    longs = _bits(np.concatenate(_symmetries(frame16)))
    shorts = _probes(np.concatenate(_symmetries(frame8))).tolist()
    frames = [HashPair(short, longs[i % len(longs)]) for i, short in enumerate(shorts)]
    boxes = _crop_boxes(w, h)
    crops = _probes(_grid(integral, boxes, 9))
    return stored, QueryHashes(
        frames=tuple(dict.fromkeys(frames)),
        crops=crops,
        crop_box_of=np.tile(np.arange(len(boxes), dtype=np.intp), len(crops) // len(boxes)),
        crop_boxes=boxes,
        integral=integral,
    )


def _probes(grid: np.ndarray) -> np.ndarray:
    """Each box's 64-bit hash, then the same with its PROBE_BITS least certain bits flipped one at a
    time and together (multi-probe lookup), as uint64 in that order (all boxes per variant): a copy's
    bits differ mostly where two cells were nearly equal, so these variants reach the stored hash
    within the lookup's 3-bit prefilter when the hash itself is 4-5 bits off (measured: crops of 8-15 %
    found 77 of 80 times instead of 70)."""
    n = grid.shape[1] - 1
    diff = grid[:, :n, :n] - grid[:, :n, 1 : n + 1]
    bits = (diff > 0).reshape(diff.shape[0], -1)
    weakest = np.argsort(np.abs(diff).reshape(diff.shape[0], -1), axis=1)[:, :PROBE_BITS]
    rows = np.arange(len(bits))
    variants = [bits]
    for j in range(PROBE_BITS):
        flipped = bits.copy()
        flipped[rows, weakest[:, j]] ^= True
        variants.append(flipped)
    both = bits.copy()
    for j in range(PROBE_BITS):
        both[rows, weakest[:, j]] ^= True
    variants.append(both)
    packed = np.packbits(np.concatenate(variants), axis=1)  # (variants * boxes, 8) big-endian bytes
    return packed.view(">u8").ravel().astype(np.uint64)


def _shrink(grey: Image.Image) -> np.ndarray:
    """About _HASH_LONG_SIDE on the long side, by block means (the hash needs no more detail)."""
    factor = max(1, max(grey.size) // _HASH_LONG_SIDE)
    return np.asarray(grey.reduce(factor) if factor > 1 else grey)


def _integral(img: np.ndarray) -> np.ndarray:
    """Summed-area table of the 8-bit pixels, exact in int32 (_shrink leaves < 512 x 512: < 2^26)."""
    out = np.zeros((img.shape[0] + 1, img.shape[1] + 1), dtype=np.int32)
    np.cumsum(img, axis=0, out=out[1:, 1:])
    np.cumsum(out[1:, 1:], axis=1, out=out[1:, 1:])
    return out


@functools.lru_cache(maxsize=64)
def _crop_boxes(w: int, h: int) -> np.ndarray:
    """(x, y, width, height) of where a stored core lies if this photo is a crop of the stored one."""
    boxes = []
    for kept in np.linspace(1 - MAX_CROP, 1, _CROP_SCALES):
        # The stored core spans (1-CORE)/2 .. (1+CORE)/2 of the original; a crop keeping `kept`
        # of it, taken anywhere, shows the core at this size, starting in this range.
        size = CORE / kept
        first, last = 1 - (1 + CORE) / 2 / kept, (1 - CORE) / 2 / kept
        starts = np.linspace(first, last, max(1, round((last - first) / _CROP_STEP) + 1))
        for fy in starts:
            for fx in starts:
                boxes.append((fx * w, fy * h, size * w, size * h))
    out = np.array(boxes)
    out.flags.writeable = False  # shared between calls (cached per size)
    return out


def _grids(integral: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _grid(integral, boxes, 9), _grid(integral, boxes, 17)


def _grid(integral: np.ndarray, boxes: np.ndarray, n: int) -> np.ndarray:
    """Box means on an n x n grid over each box: shape (boxes, n, n)."""
    steps = np.linspace(0, 1, n + 1)
    xs = np.rint(boxes[:, 0:1] + boxes[:, 2:3] * steps).astype(np.intp)
    ys = np.rint(boxes[:, 1:2] + boxes[:, 3:4] * steps).astype(np.intp)
    xs = np.clip(xs, 0, integral.shape[1] - 1)
    ys = np.clip(ys, 0, integral.shape[0] - 1)
    corners = np.take(integral, ys[:, :, None] * integral.shape[1] + xs[:, None, :])  # (boxes, n+1, n+1)
    sums = corners[:, 1:, 1:] - corners[:, :-1, 1:] - corners[:, 1:, :-1] + corners[:, :-1, :-1]
    areas = np.diff(ys, axis=1)[:, :, None] * np.diff(xs, axis=1)[:, None, :]
    return sums / np.maximum(areas, 1)


def _symmetries(grid: np.ndarray) -> list[np.ndarray]:
    """The grid as it would be for the image mirrored and/or rotated (8 variants, identity first)."""
    out = []
    for flipped in (grid, grid[:, :, ::-1]):
        for turns in range(4):
            out.append(np.rot90(flipped, turns, axes=(1, 2)))
    return out


def _packed(grid: np.ndarray) -> np.ndarray:
    """Difference hash per grid, packed big-endian (boxes, bytes): is each cell brighter than its
    right neighbour (last row unused)."""
    n = grid.shape[1] - 1
    bits = grid[:, :n, :n] > grid[:, :n, 1 : n + 1]
    return np.packbits(bits.reshape(bits.shape[0], -1), axis=1)


def _bits(grid: np.ndarray) -> list[int]:
    """Difference hash per grid as integers (see _packed)."""
    return [int.from_bytes(row.tobytes(), "big") for row in _packed(grid)]
