"""Realistic values for the OpenAPI examples of /review/v1 (documentation only): one case, a suspected
fraud (a mocked GPS fix) claimed by a specialist. The records are as `views.case_view` renders them."""

from __future__ import annotations

PAYLOAD = "SI1:K1:MTR1-000001:7QK2MXHD3WZP5RTB6AEJ"
CUSTOMER = "customer-3f2a9c"
INSTALL = {
    "id": "0b9f7c62-3c1e-4b8e-9a51-6f2d8e4c7a10",
    "connection": 1812,
    "asset_type": "smart_meter_1p",
    "asset": 930,
    "state": "in_review",
    "created_by": CUSTOMER,
    "created_by_role": "customer",
    "scanned_payload": PAYLOAD,
    "reasons": ["suspected_fraud"],
    "retake_count": 0,
    "help_message": None,
    "reading": 4512.7,
    "awaiting_info": False,
    "customer_message": None,
    "version": 9,
    "created_at": "2026-05-12T09:12:00+02:00",
    "started_at": "2026-05-12T09:12:00+02:00",
    "updated_at": "2026-05-12T09:41:00+02:00",
    "submitted_at": "2026-05-12T09:41:00+02:00",
    "decided_at": None,
}
CONNECTION = {
    "id": 1812,
    "ean": "871687000000000009",
    "street": "Jansbinnensingel",
    "house_number": 14,
    "house_number_suffix": "",
    "postcode": "6811AL",
    "city": "Arnhem",
    "lat": 51.9837,
    "lon": 5.9056,
    "capacity": "1x35A",
    "owner_subject": CUSTOMER,
}
ASSET = {
    "id": 930,
    "serial": "MTR1-000001",
    "asset_type": "smart_meter_1p",
    "status": "in_stock",
    "connection": None,
    "installed_at": None,
    "last_reading": None,
}
DECISION = {
    "id": 3311,
    "install": "0b9f7c62-3c1e-4b8e-9a51-6f2d8e4c7a10",
    "attempt": 1,
    "outcome": "in_review",
    "reasons": ["suspected_fraud"],
    "policy_version": "2026.12.1",
    "decided_by": "automation",
    "reason_code": None,
    "note": None,
    "message": None,
    "created_at": "2026-05-12T09:41:00+02:00",
}
EVENT = {
    "id": 20417,
    "install": "0b9f7c62-3c1e-4b8e-9a51-6f2d8e4c7a10",
    "actor": CUSTOMER,
    "actor_role": "customer",
    "action": "location.reported",
    "from_state": "draft",
    "to_state": "draft",
    "detail": {"accuracy_m": 6.0, "provider": "gps"},
    "created_at": "2026-05-12T09:36:00+02:00",
}
INFO_REQUEST = {
    "id": 77,
    "install": "0b9f7c62-3c1e-4b8e-9a51-6f2d8e4c7a10",
    "asked_by": "specialist-7",
    "message": None,
    "photo_label": "een foto van de aardlekschakelaar",
    "question": "Wanneer is de meter geplaatst?",
    "answer": "Op 12 mei, door mijzelf.",
    "answered_by": CUSTOMER,
    "answered_at": "2026-05-12T10:02:00+02:00",
    "created_at": "2026-05-12T09:55:00+02:00",
    "closed_at": "2026-05-12T10:05:00+02:00",
    "photo_slot": "extra_77",
    "photo_ids": [12],
}
