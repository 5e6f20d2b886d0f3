"""The QR reader's extra tries: a located but unreadable symbol is reported, never guessed at, and is
only worked on when one was located at all."""

from __future__ import annotations

import gc
import io
from dataclasses import fields
from functools import cache

import qrcode
import zxingcpp
from PIL import Image, ImageDraw, ImageFilter

from backend.validation.photo import PhotoFacts, inspect_photo
from fixtures.degrade import label_on_photo, open_upright
from fixtures.photos import render_meter_photo
from tests.conftest import corpus_dir

PAYLOAD = "SI1:K1:MTR1-T00000001:ABCDEFGHIJKLMNOPQRST"
MODULE_PX = 8
QUIET_ZONE = 4  # modules


def inspect(data: bytes) -> PhotoFacts:
    return inspect_photo(io.BytesIO(data), max_pixels=50_000_000, find_qr=True, qr_upscale_below_px=1200)


def qr_code(error_correction: int = qrcode.constants.ERROR_CORRECT_M) -> tuple[Image.Image, int]:
    """The payload as a grey QR image (MODULE_PX per module, quiet zone included) and its module count."""
    qr = qrcode.QRCode(error_correction=error_correction, border=QUIET_ZONE, box_size=MODULE_PX)
    qr.add_data(PAYLOAD)
    qr.make(fit=True)
    return qr.make_image().get_image().convert("L"), qr.modules_count


def wiped(code: Image.Image, first: int, last: int) -> Image.Image:
    """The code with modules first..last-1 (both axes) painted white: far more than error correction
    restores, the three finder patterns left intact."""
    img = code.copy()
    o = QUIET_ZONE * MODULE_PX
    ImageDraw.Draw(img).rectangle(
        (o + first * MODULE_PX, o + first * MODULE_PX, o + last * MODULE_PX - 1, o + last * MODULE_PX - 1), fill=255
    )
    return img


def on_wall(code: Image.Image, size: tuple[int, int], at: tuple[int, int]) -> Image.Image:
    scene = Image.new("L", size, 150)
    scene.paste(code, at)
    return scene


def encoded(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()


def plain_read(img: Image.Image) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode, return_errors=True)


class TestLocatedButUnreadable:
    async def test_a_damaged_code_is_seen_and_yields_no_text(self) -> None:
        code, modules = qr_code(qrcode.constants.ERROR_CORRECT_L)
        damaged = wiped(code, 9, modules - 9)
        assert [b.valid for b in plain_read(damaged) if b.format == zxingcpp.BarcodeFormat.QRCode] == [False]
        facts = inspect(encoded(on_wall(damaged, (1600, 1200), (500, 300)), "PNG"))
        assert facts.qr_texts == ()
        assert facts.qr_symbol_seen

    async def test_a_damaged_code_in_a_big_photo_is_seen_at_full_size(self) -> None:
        # 2 px per module in the working image: the symbol is found in the full-size decode only.
        code, modules = qr_code(qrcode.constants.ERROR_CORRECT_L)
        facts = inspect(encoded(on_wall(wiped(code, 9, modules - 9), (4000, 3000), (2400, 1300)), "JPEG"))
        assert facts.qr_texts == ()
        assert facts.qr_symbol_seen

    async def test_a_blurred_code_located_but_not_read_at_first_is_read_exactly_from_its_crop(self) -> None:
        # Blurred over more than half a module: the first try locates it but samples it wrong (with
        # zxing-cpp 3.1.1 from radius 4.25 px; the crop reads it up to 4.75).
        code, _ = qr_code(qrcode.constants.ERROR_CORRECT_Q)
        photo = on_wall(code, (1600, 1200), (500, 300)).filter(ImageFilter.GaussianBlur(4.5))
        first = plain_read(photo)  # the first try: located, not decoded
        assert first and not any(b.valid for b in first)
        facts = inspect(encoded(photo, "PNG"))
        assert facts.qr_texts == (PAYLOAD,)
        assert facts.qr_symbol_seen


class TestNoSymbol:
    async def test_a_generated_photo_without_a_label_sees_no_symbol(self) -> None:
        facts = inspect(render_meter_photo(None, size=(1600, 1200)))
        assert facts.qr_texts == ()
        assert not facts.qr_symbol_seen

    async def test_a_real_camera_photo_without_a_label_sees_no_symbol(self) -> None:
        facts = inspect((corpus_dir("phone-photos") / "Nexus_4.jpg").read_bytes())
        assert facts.qr_texts == ()
        assert not facts.qr_symbol_seen


LABEL_PAYLOAD = "SI1:K1:MTR1-000001:JVHVHWKTJMJN7N365FDI"  # as long as a real label's payload
BIG_PHONE_JPEGS = ("Issue_525.jpg", "Samsung_SM-G935L_Galaxy_S7_Edge.jpg", "Oppo_R7_Plus.jpg")  # 12-13 MP


@cache
def labelled(name: str, share: float, fmt: str = "JPEG", size: tuple[int, int] | None = None) -> bytes:
    """A real phone photo (cropped to `size`) with a printed label pasted at `share` of its width, as
    JPEG or PNG bytes."""
    photo = open_upright(corpus_dir("phone-photos") / name)
    if size is not None:
        photo = photo.crop((0, 0, *size))
    jpeg = label_on_photo(photo, LABEL_PAYLOAD, captured_at=None, gps=None, width_share=share)
    if fmt == "JPEG":
        return jpeg
    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).save(out, format=fmt, compress_level=1)
    return out.getvalue()


class TestSecondLook:
    async def test_a_label_at_4_percent_of_a_real_12mp_photo_is_read_from_rows_decoded_down_to_it(self) -> None:
        # ~150 px wide: about a pixel a module at working size, unreadable there.
        for name in BIG_PHONE_JPEGS[::2]:
            facts = inspect(labelled(name, 0.04))
            assert facts.qr_texts == (LABEL_PAYLOAD,), name
            assert 0 < facts.second_look_px < facts.width * facts.height, name

    async def test_a_label_at_15_percent_is_read_at_working_size_alone(self) -> None:
        facts = inspect(labelled("Issue_525.jpg", 0.15))
        assert facts.qr_texts == (LABEL_PAYLOAD,)
        assert facts.second_look_px == 0

    async def test_real_12mp_photos_without_a_label_are_decoded_once(self) -> None:
        for name in BIG_PHONE_JPEGS:
            facts = inspect((corpus_dir("phone-photos") / name).read_bytes())
            assert facts.qr_texts == (), name
            assert facts.second_look_px == 0, name

    async def test_a_small_label_in_a_png_is_read_from_its_single_decode(self) -> None:
        facts = inspect(labelled("Issue_525.jpg", 0.04, "PNG"))
        assert facts.qr_texts == (LABEL_PAYLOAD,)
        assert facts.second_look_px == 0


class TestMemory:
    async def test_no_full_size_image_outlives_the_inspection(self) -> None:
        # A PNG decodes in full (no reduced decode): its full-size grey image serves the second look,
        # then must be let go with the decoded photo before the facts are returned. (A size of its
        # own: no other test's cache holds an image of it.)
        data = labelled("Issue_525.jpg", 0.04, "PNG", (4001, 3001))
        facts = inspect(data)
        assert facts.qr_texts == (LABEL_PAYLOAD,)
        gc.collect()
        alive = [o.size for o in gc.get_objects() if isinstance(o, Image.Image)]
        assert (facts.width, facts.height) not in alive
        assert not [f for f in fields(facts) if isinstance(getattr(facts, f.name), Image.Image)]
