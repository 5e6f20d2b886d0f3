"""Safe photo decoding and the facts a check needs: format, size, EXIF time and GPS, QR texts.

Formats are recognised by content, never by name or header, and only JPEG, PNG and HEIC/HEIF are
opened at all. The pixel count is checked before any pixel is decoded.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import BinaryIO

import numpy as np
import pillow_heif
from PIL import ExifTags, Image, UnidentifiedImageError

from backend.validation import qr_read
from backend.validation.reuse_hash import PhotoHashes, QueryHashes, photo_hashes

pillow_heif.register_heif_opener()
# HEIC has no draft mode; its tiles decode in parallel instead.
pillow_heif.options.DECODE_THREADS = 2

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "HEIF": "image/heic"}
_EXIF_DATETIME_ORIGINAL = 0x9003
_EXIF_OFFSET_TIME_ORIGINAL = 0x9011
# A camera time outside these years is no usable time (a reset clock, or a forged tag that would
# not even convert to UTC: 9999-12-31 23:59:59 at -23:59); the same range the API accepts.
EXIF_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
EXIF_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    struct.error,
    zlib.error,
    EOFError,
    IndexError,
    TypeError,
    Image.DecompressionBombError,
    RuntimeError,
)


class PhotoRejected(Exception):
    """The bytes are not a photo we accept; `kind` is unsupported, too_many_pixels or undecodable."""

    def __init__(self, kind: str, detail: str = "", pixels: int = 0) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.pixels = pixels


# Quality metrics are measured on the photo reduced to about this long side, so thresholds do not
# depend on the camera's resolution and the work stays small.
METRIC_LONG_SIDE = 1024
# The first QR search and the metrics run on the photo decoded at about this size (a 12 MP JPEG
# decodes at 1/4 scale); a label too small to read there is looked for again at full size.
WORK_LONG_SIDE = 1000
# Sharpness compares the energy of 1-pixel differences with that of SHARPNESS_LAG-pixel ones, per
# direction: a sharp edge scores about 1, an edge smeared over >= LAG pixels about 1/LAG.
SHARPNESS_LAG = 8
# Structure: a step of at least this many grey levels between pixels two apart (after a 2x2 mean,
# so sensor noise does not count) is an edge.
EDGE_STEP = 8.0
# The metrics run over bands of this many rows: their temporaries stay in the CPU cache and are
# not fresh pages from the OS each time (3-5x faster than whole-image arrays at 1000 px).
_ROW_BAND = 128
# Below this edge density a picture is near-uniform and takes no part in reuse matching (phone
# photos as taken measure 0.019 and more).
NEAR_UNIFORM_EDGE_DENSITY = 0.005
_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True, slots=True)
class PhotoFacts:
    format: str
    content_type: str
    width: int  # as stored (before EXIF orientation)
    height: int
    taken_at: datetime | None
    gps: tuple[float, float] | None
    qr_texts: tuple[str, ...] | None  # None: the slot does not look for a QR code
    qr_symbol_seen: bool  # a QR symbol was located, decoded or not
    sharpness: float  # weakest direction's fine/coarse difference energy ratio (see directional_sharpness)
    edge_density: float  # share of pixels on an edge of >= EDGE_STEP grey levels
    contrast: float  # grey levels between the 1st and 99th percentile
    brightness: float  # mean luminance 0..255
    dark_fraction: float  # share of pixels below 16
    bright_fraction: float  # share of pixels above 239
    hashes: PhotoHashes  # what is stored to find this picture again (reuse_hash)
    lookup: QueryHashes  # what this picture is looked up with
    # Pixels decoded beyond the one decode: a JPEG's rows decoded again, down to a small label the
    # working image could not read (qr_read, step 3); 0 when nothing label-like was seen.
    second_look_px: int = 0


def inspect_photo(
    fp: BinaryIO, *, max_pixels: int, find_qr: bool, qr_upscale_below_px: int, local_tz: tzinfo = UTC
) -> PhotoFacts:
    """Open, bound and decode the photo once; read EXIF, quality metrics and, if asked, QR codes.

    `local_tz` is the zone of an EXIF time that carries no offset (phones write local wall time).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(fp, formats=list(CONTENT_TYPES))
            width, height, fmt = img.width, img.height, img.format or ""  # draft() below shrinks img.size
            pixels = width * height
            if pixels > max_pixels:
                raise PhotoRejected("too_many_pixels", f"{width}x{height}", pixels)
            taken_at, gps, orientation = _exif_facts(img, local_tz)
            work, full_grey = _decode_working(img)
            # The decoded photo (a HEIC's full-size RGB) is let go at once; of the grey images the
            # full-size one (HEIC, PNG) lives only until the QR search is done.
            del img
            qr = qr_read.find_qr(fp, work, (width, height), qr_upscale_below_px, full_grey) if find_qr else None
            del full_grey
    except PhotoRejected:
        raise
    except UnidentifiedImageError as exc:
        raise PhotoRejected("unsupported", str(exc)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected("too_many_pixels", str(exc), max_pixels + 1) from None
    except _DECODE_ERRORS as exc:
        raise PhotoRejected("undecodable", f"{type(exc).__name__}: {exc}") from None
    small = _metric_image(work, orientation)
    hist = small.histogram()
    total = max(1, small.width * small.height)
    grey = np.asarray(small)
    density = edge_density(grey)
    # A clear sky, a blank wall, a gradient: no picture to reuse.
    hashes, lookup = photo_hashes(small, informative=density >= NEAR_UNIFORM_EDGE_DENSITY)
    return PhotoFacts(
        format=fmt,
        content_type=CONTENT_TYPES[fmt],
        width=width,
        height=height,
        taken_at=taken_at,
        gps=gps,
        qr_texts=qr.texts if qr is not None else None,
        qr_symbol_seen=qr is not None and qr.symbol_seen,
        sharpness=directional_sharpness(grey),
        edge_density=density,
        contrast=_percentile(hist, 0.99) - _percentile(hist, 0.01),
        brightness=sum(level * count for level, count in enumerate(hist)) / total,
        dark_fraction=sum(hist[:16]) / total,
        bright_fraction=sum(hist[240:]) / total,
        hashes=hashes,
        lookup=lookup,
        second_look_px=qr.second_look_px if qr is not None else 0,
    )


def _decode_working(img: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """Decode every pixel once, in grayscale, at about WORK_LONG_SIDE or more.

    JPEG decodes straight to a 1/2, 1/4 or 1/8 scale (DCT scaling: the cheap part of a decode);
    PNG and HEIF have no such mode, so they decode fully and are reduced afterwards — their
    full-size grey image is returned too, for a QR search at full size without a second decode.
    """
    long_side = max(img.size)
    scale = next((s for s in (8, 4, 2) if long_side // s >= WORK_LONG_SIDE), 1)
    if img.format == "JPEG" and scale > 1:
        img.draft("L", (img.width // scale, img.height // scale))
    img.load()
    gray = img if img.mode == "L" else img.convert("L")
    factor = max(gray.size) // WORK_LONG_SIDE
    if factor <= 1:
        return gray, None
    full_size = img.format != "JPEG" or scale == 1  # not drafted down: this is every pixel
    return gray.reduce(factor), (gray if full_size else None)


def _metric_image(work: Image.Image, orientation: int) -> Image.Image:
    """Upright (EXIF orientation applied) and reduced to at most about METRIC_LONG_SIDE."""
    factor = -(-max(work.size) // METRIC_LONG_SIDE)  # ceiling division
    small = work.reduce(factor) if factor > 1 else work
    transpose = _TRANSPOSE_FOR_ORIENTATION.get(orientation)
    return small.transpose(transpose) if transpose is not None else small


def directional_sharpness(grey: np.ndarray) -> float:
    """min over 4 directions of LAG * E[d1^2] / E[d_LAG^2], on the interior (no border effects).

    The ratio does not depend on the scene's contrast: a sharp photo measures 0.34-2.0 on real
    phone cameras; a Gaussian blur of 1/200 of the width 0.14-0.22, a motion blur of 1/60 0.16-0.28
    (in the weakest direction: that is where a shake smears). Noise-only images score high, which
    is why the structure check exists beside this one. `grey` is 8-bit; differences are taken in
    16-bit integers and summed as float32 dot products, in bands of rows (see _ROW_BAND).
    """
    lag, m = SHARPNESS_LAG, SHARPNESS_LAG
    h, w = grey.shape
    if h <= 3 * m or w <= 3 * m:
        return 0.0
    pixels = grey.astype(np.int16)
    directions = ((0, 1), (1, 0), (1, 1), (1, -1))
    fine, coarse = [0.0] * len(directions), [0.0] * len(directions)
    for top in range(m, h - m, _ROW_BAND):
        bottom = min(top + _ROW_BAND, h - m)
        core = pixels[top:bottom, m : w - m]
        for k, (dy, dx) in enumerate(directions):
            d = (pixels[top + dy : bottom + dy, m + dx : w - m + dx] - core).astype(np.float32)
            fine[k] += float(np.vdot(d, d))
            d = (pixels[top + dy * lag : bottom + dy * lag, m + dx * lag : w - m + dx * lag] - core).astype(np.float32)
            coarse[k] += float(np.vdot(d, d))
    return min(lag * f / c if c > 0 else 0.0 for f, c in zip(fine, coarse, strict=True))


def edge_density(grey: np.ndarray) -> float:
    """Share of pixels whose central difference (after a 2x2 mean) is at least EDGE_STEP levels.

    `grey` is 8-bit; in integers on 2x2 sums (4x the mean, so the step is 4 * EDGE_STEP), in bands
    of rows."""
    h, w = grey.shape
    if h < 4 or w < 4:
        return 0.0
    threshold = int((4 * EDGE_STEP) ** 2)
    edges = 0
    for top in range(0, h - 3, _ROW_BAND):
        rows = grey[top : min(top + _ROW_BAND + 3, h)].astype(np.int32)  # the band and its 3-row margin
        sums = rows[:-1, :-1] + rows[1:, :-1] + rows[:-1, 1:] + rows[1:, 1:]
        gx = sums[1:-1, 2:] - sums[1:-1, :-2]
        gy = sums[2:, 1:-1] - sums[:-2, 1:-1]
        gx *= gx
        gy *= gy
        gx += gy
        edges += int(np.count_nonzero(gx >= threshold))
    return edges / ((h - 3) * (w - 3))


def _percentile(hist: list[int], q: float) -> float:
    """The grey level below which a share `q` of the pixels lie."""
    target, seen = q * sum(hist), 0
    for level, count in enumerate(hist):
        seen += count
        if seen >= target:
            return float(level)
    return 255.0


def _exif_facts(img: Image.Image, local_tz: tzinfo) -> tuple[datetime | None, tuple[float, float] | None, int]:
    exif = img.getexif()
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    orientation = exif.get(ExifTags.Base.Orientation, 1)
    gps = _gps(exif.get_ifd(ExifTags.IFD.GPSInfo))
    return _taken_at(sub, local_tz), gps, orientation if isinstance(orientation, int) else 1


def _taken_at(sub: dict[int, object], local_tz: tzinfo) -> datetime | None:
    """EXIF DateTimeOriginal, with OffsetTimeOriginal when present (else in `local_tz`); None if unusable."""
    raw = sub.get(_EXIF_DATETIME_ORIGINAL)
    if not isinstance(raw, str):
        return None
    try:
        naive = datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = sub.get(_EXIF_OFFSET_TIME_ORIGINAL)
    tz: tzinfo = local_tz
    if isinstance(offset, str) and len(offset.strip("\x00")) == 6 and offset[0] in "+-":
        try:
            sign = 1 if offset[0] == "+" else -1
            tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
        except ValueError:
            tz = local_tz
    taken = naive.replace(tzinfo=tz)
    # Comparing aware times never overflows; converting one at 9999-12-31 -23:59 to UTC (storing it) would.
    return taken if EXIF_EARLIEST <= taken < EXIF_LATEST else None


def _gps(gps: dict[int, object]) -> tuple[float, float] | None:
    try:
        lat = _degrees(gps[ExifTags.GPS.GPSLatitude], gps.get(ExifTags.GPS.GPSLatitudeRef), "S")
        lon = _degrees(gps[ExifTags.GPS.GPSLongitude], gps.get(ExifTags.GPS.GPSLongitudeRef), "W")
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def _degrees(dms: object, ref: object, negative: str) -> float:
    d, m, s = (float(x) for x in dms)  # type: ignore[union-attr]
    value = d + m / 60 + s / 3600
    return -value if isinstance(ref, str) and ref.strip("\x00").upper() == negative else value
