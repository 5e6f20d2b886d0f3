"""inspect_photo: which bytes are accepted, how they are bounded, and the facts read from them."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from PIL import ExifTags, Image

from backend.validation.photo import PhotoFacts, PhotoRejected, inspect_photo
from fixtures.photos import render_meter_photo

PAYLOAD = "SI1:K1:MTR1-T00000001:ABCDEFGHIJKLMNOPQRST"
LIMIT = 50_000_000


def inspect(data: bytes, *, max_pixels: int = LIMIT, find_qr: bool = False) -> PhotoFacts:
    return inspect_photo(io.BytesIO(data), max_pixels=max_pixels, find_qr=find_qr, qr_upscale_below_px=1200)


def encoded(fmt: str, size: tuple[int, int] = (64, 48), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (120, 130, 140)).save(out, format=fmt, **save)
    return out.getvalue()


def rejected_kind(data: bytes, **options: object) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as info:
        inspect(data, **options)  # type: ignore[arg-type]
    return info.value


class TestAcceptedFormats:
    @pytest.mark.parametrize(("fmt", "content_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"),
                                                        ("HEIF", "image/heic")])
    async def test_photo_formats_are_recognised_by_content(self, fmt: str, content_type: str) -> None:
        facts = inspect(render_meter_photo(None, size=(800, 600), fmt=fmt))
        assert facts.format == fmt
        assert facts.content_type == content_type
        assert (facts.width, facts.height) == (800, 600)

    async def test_qr_texts_are_none_when_not_asked(self) -> None:
        assert inspect(render_meter_photo(PAYLOAD, size=(800, 600))).qr_texts is None


class TestRefusedFormats:
    @pytest.mark.parametrize("fmt", ["GIF", "TIFF", "BMP", "WEBP", "ICO"])
    async def test_other_image_formats_are_unsupported(self, fmt: str) -> None:
        assert rejected_kind(encoded(fmt)).kind == "unsupported"

    @pytest.mark.parametrize("data", [b"", b"hello world", b"%PDF-1.7\n"])
    async def test_non_images_are_unsupported(self, data: bytes) -> None:
        assert rejected_kind(data).kind == "unsupported"


class TestPixelLimit:
    async def test_too_many_pixels_is_refused_with_the_count(self) -> None:
        error = rejected_kind(encoded("PNG", (100, 50)), max_pixels=4999)
        assert error.kind == "too_many_pixels"
        assert error.pixels == 5000

    async def test_exactly_the_limit_is_accepted(self) -> None:
        assert inspect(encoded("PNG", (100, 50)), max_pixels=5000).width == 100

    async def test_the_limit_uses_the_header_size_not_the_draft_size(self) -> None:
        # JPEG is decoded at half size; the limit must still count the full frame.
        error = rejected_kind(encoded("JPEG", (200, 100)), max_pixels=19_999)
        assert error.kind == "too_many_pixels"
        assert error.pixels == 20_000


class TestCorruptPhotos:
    async def test_truncated_jpeg_is_undecodable(self) -> None:
        data = render_meter_photo(None, size=(800, 600))
        assert rejected_kind(data[: len(data) // 2]).kind == "undecodable"

    async def test_truncated_png_is_undecodable(self) -> None:
        data = render_meter_photo(None, size=(800, 600), fmt="PNG")
        assert rejected_kind(data[: len(data) // 2]).kind == "undecodable"


class TestExifTime:
    async def test_offset_time_gives_an_aware_datetime(self) -> None:
        taken = datetime(2026, 5, 1, 14, 30, 15, tzinfo=timezone(timedelta(hours=2)))
        facts = inspect(render_meter_photo(None, size=(800, 600), captured_at=taken))
        assert facts.taken_at == taken
        assert facts.taken_at is not None and facts.taken_at.utcoffset() == timedelta(hours=2)

    async def test_negative_offset(self) -> None:
        taken = datetime(2026, 1, 31, 23, 5, 0, tzinfo=timezone(-timedelta(hours=5, minutes=30)))
        facts = inspect(render_meter_photo(None, size=(800, 600), captured_at=taken))
        assert facts.taken_at == taken
        assert facts.taken_at is not None and facts.taken_at.utcoffset() == -timedelta(hours=5, minutes=30)

    async def test_without_offset_the_time_is_taken_as_utc(self) -> None:
        exif = Image.Exif()
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:03:04 05:06:07"
        facts = inspect(encoded("JPEG", exif=exif.tobytes()))
        assert facts.taken_at == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)

    async def test_garbage_time_is_ignored(self) -> None:
        exif = Image.Exif()
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "1999:99:99 99:99:99"
        assert inspect(encoded("JPEG", exif=exif.tobytes())).taken_at is None

    async def test_no_exif_no_time(self) -> None:
        facts = inspect(encoded("JPEG"))
        assert facts.taken_at is None and facts.gps is None


class TestExifGps:
    @pytest.mark.parametrize("where", [(51.98370, 5.90560), (-33.85680, 151.21530), (40.68920, -74.04450),
                                       (-22.95190, -43.21050)])
    async def test_gps_with_hemisphere_refs(self, where: tuple[float, float]) -> None:
        facts = inspect(render_meter_photo(None, size=(800, 600), gps=where))
        assert facts.gps is not None
        assert facts.gps == pytest.approx(where, abs=1e-6)

    async def test_gps_in_png_and_heif(self) -> None:
        for fmt in ("PNG", "HEIF"):
            facts = inspect(render_meter_photo(None, size=(800, 600), gps=(-33.8568, -151.2153), fmt=fmt))
            assert facts.gps == pytest.approx((-33.8568, -151.2153), abs=1e-6), fmt


class TestQrInPhoto:
    @pytest.mark.parametrize("size", [(1600, 1200), (4000, 3000)])
    async def test_label_qr_is_found(self, size: tuple[int, int]) -> None:
        facts = inspect(render_meter_photo(PAYLOAD, size=size), find_qr=True)
        assert facts.qr_texts == (PAYLOAD,)
        assert (facts.width, facts.height) == size

    async def test_no_label_no_text(self) -> None:
        assert inspect(render_meter_photo(None, size=(1600, 1200)), find_qr=True).qr_texts == ()

    async def test_blurred_label_never_yields_a_wrong_text(self) -> None:
        facts = inspect(render_meter_photo(PAYLOAD, size=(1600, 1200), blur_radius=8), find_qr=True)
        assert facts.qr_texts is not None
        assert all(text == PAYLOAD for text in facts.qr_texts), facts.qr_texts
