"""inspect_photo: which bytes are accepted, how they are bounded, and the facts read from them."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
import zxingcpp
from PIL import ExifTags, Image

from backend.installs.context import load_policy
from backend.validation.photo import PhotoFacts, PhotoRejected, inspect_photo
from fixtures.demo_photos import photo_for_slot
from fixtures.photos import render_cabinet_photo, render_display_photo, render_meter_photo
from tests.helpers.validation import reencoded

PAYLOAD = "SI1:K1:MTR1-T00000001:ABCDEFGHIJKLMNOPQRST"
LIMIT = 50_000_000
POLICY = load_policy()


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
    @pytest.mark.parametrize(
        ("fmt", "content_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("HEIF", "image/heic")]
    )
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
    @pytest.mark.parametrize(
        "where", [(51.98370, 5.90560), (-33.85680, 151.21530), (40.68920, -74.04450), (-22.95190, -43.21050)]
    )
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


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


SCENES = {
    "meter": lambda **o: render_meter_photo(PAYLOAD, **o),
    "cabinet": lambda **o: render_cabinet_photo(**o),
    "display": lambda **o: render_display_photo("004512.7", **o),
}


class TestSharpness:
    # Sharpness is judged on the photo reduced to ~1000 px: the same visible blur at any resolution,
    # i.e. a blur radius that scales with the photo (4 px at 1600 wide is 10 px at 4000 wide).
    @pytest.mark.parametrize("size", [(1600, 1200), (4000, 3000)])
    async def test_blur_drops_sharpness_below_the_policy_minimum(self, size: tuple[int, int]) -> None:
        sharp = inspect(render_meter_photo(None, size=size, seed=11)).sharpness
        radius = 4 * size[0] / 1600
        blurred = inspect(render_meter_photo(None, size=size, seed=11, blur_radius=radius)).sharpness
        assert sharp >= POLICY.photo.min_sharpness * 1.5, sharp
        assert blurred < POLICY.photo.min_sharpness, (size, blurred)

    async def test_sharpness_does_not_depend_on_the_resolution(self) -> None:
        small = inspect(render_meter_photo(None, size=(1600, 1200), seed=11)).sharpness
        large = inspect(render_meter_photo(None, size=(4000, 3000), seed=11)).sharpness
        assert 0.5 < large / small < 2, (small, large)

    async def test_a_flat_image_has_no_structure(self) -> None:
        # The old Laplacian measure counted Pillow's unfiltered border: a flat grey frame scored 12-30.
        facts = inspect(encoded("JPEG", size=(1600, 1200)))
        assert facts.edge_density == 0.0 and facts.contrast < POLICY.photo.min_contrast


class TestBrightness:
    @pytest.mark.parametrize("scene", sorted(SCENES))
    async def test_normal_photo_is_within_the_policy(self, scene: str) -> None:
        facts = inspect(SCENES[scene](seed=5))
        assert POLICY.photo.min_brightness < facts.brightness < POLICY.photo.max_brightness
        assert facts.dark_fraction < 0.05 and facts.bright_fraction < 0.05

    async def test_dark_photo_is_below_the_minimum(self) -> None:
        facts = inspect(render_meter_photo(None, seed=5, brightness=0.25))
        assert facts.brightness < POLICY.photo.min_brightness
        assert facts.bright_fraction == 0.0

    async def test_nearly_black_photo_is_mostly_crushed(self) -> None:
        facts = inspect(render_meter_photo(None, seed=5, brightness=0.05))
        assert facts.brightness < 16
        assert facts.dark_fraction > POLICY.photo.max_clipped_fraction

    async def test_overexposed_photo_is_blown_out(self) -> None:
        facts = inspect(render_meter_photo(None, seed=5, brightness=2.0))
        assert facts.brightness > POLICY.photo.max_brightness
        assert facts.bright_fraction > POLICY.photo.max_clipped_fraction
        assert facts.dark_fraction == 0.0


def close_copy(a: PhotoFacts, b: PhotoFacts) -> bool:
    """b looked up as a new photo finds a's whole frame within the policy: the same picture."""
    stored = a.hashes.frame
    return any(
        hamming(q.short, stored.short) <= POLICY.reuse.max_hamming
        and hamming(q.long, stored.long) <= POLICY.reuse.max_fingerprint_distance
        for q in b.lookup.frames
    )


class TestReuseHashes:
    @pytest.mark.parametrize("scene", sorted(SCENES))
    async def test_stable_under_resizing_and_reencoding(self, scene: str) -> None:
        original = SCENES[scene](seed=21)
        first = inspect(original)
        assert 0 <= first.hashes.frame.short < 1 << 64 and 0 <= first.hashes.frame.long < 1 << 256
        assert close_copy(first, inspect(reencoded(original)))
        assert close_copy(first, inspect(reencoded(original, quality=50, scale=0.5)))

    @pytest.mark.parametrize("scene", sorted(SCENES))
    async def test_same_picture_in_another_format_has_the_same_hashes(self, scene: str) -> None:
        assert close_copy(inspect(SCENES[scene](seed=21)), inspect(SCENES[scene](seed=21, fmt="PNG")))

    @pytest.mark.parametrize("scene", sorted(SCENES))
    async def test_differs_between_pictures(self, scene: str) -> None:
        facts = [inspect(SCENES[scene](seed=seed)) for seed in (31, 32, 33, 34)]
        assert not any(close_copy(a, b) for a in facts for b in facts if a is not b)

    @pytest.mark.parametrize(("slot", "seeds"), [("meter_label", (1073, 1179)), ("meter_display", (1017, 1132))])
    async def test_two_similar_cabinets_are_not_the_same_picture(self, slot: str, seeds: tuple[int, int]) -> None:
        # Two customers' photos of the same meter model (other framing, breakers, rotation, wall).
        a, b = (inspect(photo_for_slot(slot, payload=PAYLOAD, serial="DEMO", gps=None, seed=s)) for s in seeds)
        assert not close_copy(a, b) and not close_copy(b, a)

    async def test_a_uniform_image_is_not_informative(self) -> None:
        facts = inspect(encoded("JPEG", size=(1600, 1200)))
        assert not facts.hashes.informative and facts.lookup.frames == () and len(facts.lookup.crops) == 0


class TestOrientation:
    @pytest.mark.parametrize("orientation", [3, 6, 8])
    async def test_metrics_are_of_the_upright_photo(self, orientation: int) -> None:
        upright = inspect(render_meter_photo(PAYLOAD, seed=41))
        turned = inspect(render_meter_photo(PAYLOAD, seed=41, orientation=orientation))
        assert close_copy(upright, turned)
        assert turned.brightness == pytest.approx(upright.brightness, abs=2)
        assert turned.sharpness == pytest.approx(upright.sharpness, rel=0.1)

    async def test_size_is_reported_as_stored(self) -> None:
        facts = inspect(render_meter_photo(PAYLOAD, seed=41, orientation=6))
        assert (facts.width, facts.height) == (1200, 1600)

    @pytest.mark.parametrize(
        "turn", [Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.FLIP_LEFT_RIGHT]
    )
    async def test_a_turned_or_mirrored_copy_is_still_the_same_picture(self, turn: Image.Transpose) -> None:
        # Reuse by rotating or mirroring the pixels (no EXIF tag) is one of the cheap tricks.
        upright = inspect(render_meter_photo(PAYLOAD, seed=41))
        with Image.open(io.BytesIO(render_meter_photo(PAYLOAD, seed=41))) as img:
            out = io.BytesIO()
            img.transpose(turn).save(out, format="JPEG", quality=90)
        assert close_copy(upright, inspect(out.getvalue()))


def small_label_in_a_big_photo(fmt: str) -> bytes:
    """A 12 MP cabinet photo with the meter and its label far away: too small to read at ~1000 px."""
    with Image.open(io.BytesIO(render_cabinet_photo(size=(4000, 3000), seed=51))) as bg:
        canvas = bg.convert("RGB")
    with Image.open(io.BytesIO(render_meter_photo(PAYLOAD, size=(800, 600), seed=52))) as meter:
        canvas.paste(meter.convert("RGB"), (2900, 1900))
    out = io.BytesIO()
    canvas.save(out, format=fmt, **({"quality": 92} if fmt == "JPEG" else {"compress_level": 1}))
    return out.getvalue()


def readable_at(data: bytes, long_side: int) -> bool:
    with Image.open(io.BytesIO(data)) as img:
        gray = img.convert("L").resize((long_side, long_side * img.height // img.width), Image.Resampling.BOX)
    return bool(zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode))


class TestQrFullSizeRetry:
    @pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
    async def test_a_small_label_in_a_12_mp_photo_is_read_at_full_size(self, fmt: str) -> None:
        data = small_label_in_a_big_photo(fmt)
        assert not readable_at(data, 1000)  # the first, reduced look cannot find it
        facts = inspect(data, find_qr=True)
        assert facts.qr_texts == (PAYLOAD,)
        assert (facts.width, facts.height) == (4000, 3000)

    async def test_a_12_mp_photo_without_a_label_reads_nothing(self) -> None:
        assert inspect(render_cabinet_photo(size=(4000, 3000), seed=51), find_qr=True).qr_texts == ()
