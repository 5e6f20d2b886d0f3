"""Signed QR label payloads: sign, verify, key rotation, rendering."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image, ImageDraw

from backend.errors import Invalid
from backend.installs import qr

KEYS = {"K1": "first-secret-for-tests"}
SERIAL = "MTR1-T00000042"


def code_of(payload: str, keys: dict[str, str] = KEYS) -> str:
    with pytest.raises(Invalid) as info:
        qr.verify(payload, keys)
    return info.value.code


def with_part(payload: str, index: int, value: str) -> str:
    parts = payload.split(":")
    parts[index] = value
    return ":".join(parts)


class TestSignVerify:
    async def test_round_trip(self) -> None:
        payload = qr.sign(SERIAL, KEYS, "K1")
        assert payload.startswith(f"SI1:K1:{SERIAL}:")
        assert qr.verify(payload, KEYS) == qr.LabelPayload(key_id="K1", serial=SERIAL)

    async def test_payload_uses_only_qr_alphanumeric_characters(self) -> None:
        payload = qr.sign(SERIAL, KEYS, "K1")
        assert set(payload) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
        assert len(payload.rsplit(":", 1)[1]) == 20

    async def test_signing_is_deterministic_and_serial_specific(self) -> None:
        assert qr.sign(SERIAL, KEYS, "K1") == qr.sign(SERIAL, KEYS, "K1")
        assert qr.sign(SERIAL, KEYS, "K1") != qr.sign("MTR1-T00000043", KEYS, "K1")

    async def test_surrounding_whitespace_is_tolerated(self) -> None:
        assert qr.verify(f"  {qr.sign(SERIAL, KEYS, 'K1')}\n", KEYS).serial == SERIAL

    @pytest.mark.parametrize("serial", ["mtr1-lower", "AB", "-LEADING", "WITH SPACE", "X" * 40, "MTR1-X1\n"])
    async def test_bad_serials_cannot_be_signed(self, serial: str) -> None:
        with pytest.raises(ValueError):
            qr.sign(serial, KEYS, "K1")


class TestTampering:
    async def test_tampered_serial_is_forged(self) -> None:
        payload = qr.sign(SERIAL, KEYS, "K1")
        assert code_of(with_part(payload, 2, "MTR1-T00000043")) == "qr/forged"

    async def test_tampered_signature_is_forged(self) -> None:
        payload = qr.sign(SERIAL, KEYS, "K1")
        signature = payload.rsplit(":", 1)[1]
        flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
        assert code_of(with_part(payload, 3, flipped)) == "qr/forged"

    async def test_signature_binds_the_key_id(self) -> None:
        keys = {"K1": "same-secret", "K2": "same-secret"}
        payload = qr.sign(SERIAL, keys, "K1")
        assert code_of(with_part(payload, 1, "K2"), keys) == "qr/forged"

    async def test_unknown_key_id(self) -> None:
        payload = qr.sign(SERIAL, {"K9": "retired-secret"}, "K9")
        assert code_of(payload) == "qr/unknown-key"

    @pytest.mark.parametrize(
        "payload",
        [
            "",
            "hello",
            "https://example.com/SI1:K1:MTR1-T1:ABCDEFGHIJKLMNOPQRST",
            "SI2:K1:MTR1-T00000042:ABCDEFGHIJKLMNOPQRST",
            "si1:K1:MTR1-T00000042:ABCDEFGHIJKLMNOPQRST",
            "SI1:K1:mtr1-t00000042:ABCDEFGHIJKLMNOPQRST",
            "SI1:K1:MTR1-T00000042:ABCDEFGHIJKLMNOPQRS",
            "SI1:K1:MTR1-T00000042:ABCDEFGHIJKLMNOPQRSTU",
            "SI1:K1:MTR1-T00000042:ABCDEFGHIJKLMNOPQRS1",
            "SI1:K1:MTR1-T00000042",
            "SI1::MTR1-T00000042:ABCDEFGHIJKLMNOPQRST",
            "SI1:KEYIDTOOLONG:MTR1-T00000042:ABCDEFGHIJKLMNOPQRST",
            "SI1:K1:MTR1-T00000042:ABCDEFGHIJKLMNOPQRST:EXTRA",
            "SI1:K1:MTR1 T00000042:ABCDEFGHIJKLMNOPQRST",
            "SI1:K1:MTR1-T00000042:ABCDEFGHIJ\nKLMNOPQRST",
        ],
    )
    async def test_malformed(self, payload: str) -> None:
        assert code_of(payload) == "qr/malformed"


class TestKeyRotation:
    async def test_old_labels_verify_while_the_new_key_signs(self) -> None:
        old_label = qr.sign(SERIAL, KEYS, "K1")
        rotated = {"K2": "second-secret-for-tests", **KEYS}
        active = next(iter(rotated))  # as settings choose: the first configured key signs
        new_label = qr.sign("MTR1-T00000099", rotated, active)
        assert new_label.startswith("SI1:K2:")
        assert qr.verify(old_label, rotated) == qr.LabelPayload(key_id="K1", serial=SERIAL)
        assert qr.verify(new_label, rotated).key_id == "K2"

    async def test_new_labels_are_refused_where_the_new_key_is_unknown(self) -> None:
        new_label = qr.sign(SERIAL, {"K2": "second-secret-for-tests"}, "K2")
        assert code_of(new_label) == "qr/unknown-key"

    async def test_removing_the_old_key_refuses_its_labels(self) -> None:
        old_label = qr.sign(SERIAL, KEYS, "K1")
        assert code_of(old_label, {"K2": "second-secret-for-tests"}) == "qr/unknown-key"


class TestRender:
    async def test_png_label_scans_back_to_the_payload(self) -> None:
        payload = qr.sign(SERIAL, KEYS, "K1")
        image = Image.open(io.BytesIO(qr.render_png(payload, SERIAL)))
        assert image.format == "PNG"
        assert [b.text for b in zxingcpp.read_barcodes(image)] == [payload]

    async def test_svg_is_an_svg_document(self) -> None:
        svg = qr.render_svg(qr.sign(SERIAL, KEYS, "K1"))
        assert b"<svg" in svg and b"<path" in svg


def _rasterize(svg: bytes, scale: float = 8.0) -> Image.Image:
    """The sheet's code modules drawn as pixels (each `M x y h s v s h -s z` a square), white elsewhere."""
    page = Image.new("L", (int(210 * scale), int(297 * scale)), 255)
    draw = ImageDraw.Draw(page)
    for x, y, size in re.findall(rb"M([\d.]+) ([\d.]+)h([\d.]+)", svg):
        x0, y0, s = float(x) * scale, float(y) * scale, float(size) * scale
        draw.rectangle((x0, y0, x0 + s - 1, y0 + s - 1), fill=0)
    return page


class TestSheet:
    def test_every_label_on_the_sheet_scans_back_and_verifies(self) -> None:
        serials = [f"MTR1-T{n:08d}" for n in range(qr.SHEET_SIZE)]
        labels = [qr.SheetLabel(qr.sign(s, KEYS, "K1"), s, "slimme meter (1-fase)") for s in serials]
        svg = qr.render_sheet_svg(labels)
        assert b'width="210mm" height="297mm"' in svg  # prints at true size
        read = sorted(b.text for b in zxingcpp.read_barcodes(_rasterize(svg)))
        assert read == sorted(label.payload for label in labels)
        assert {qr.verify(text, KEYS).serial for text in read} == set(serials)
        assert svg.count(b"slimme meter (1-fase)") == qr.SHEET_SIZE

    def test_captions_are_escaped_and_a_sheet_has_a_size(self) -> None:
        label = qr.SheetLabel(qr.sign(SERIAL, KEYS, "K1"), SERIAL, "<script>x</script>")
        assert b"<script>" not in qr.render_sheet_svg([label])
        with pytest.raises(ValueError):
            qr.render_sheet_svg([label] * (qr.SHEET_SIZE + 1))
