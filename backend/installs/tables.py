"""Piccolo tables of the install domain. Only `repository.py` queries them."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class Connection(Table, tablename="connections"):
    """A grid connection (aansluiting), identified by its 18-digit EAN code."""

    ean = Varchar(length=18, unique=True)
    street = Varchar(length=120)
    house_number = Integer()
    house_number_suffix = Varchar(length=10, default="")
    postcode = Varchar(length=6)  # normalised: '6811AB'; index connections_postcode_ean (postcode, ean)
    city = Varchar(length=80)
    lat = DoublePrecision()
    lon = DoublePrecision()
    capacity = Varchar(length=8)  # '1x35A', '3x25A'
    owner_subject = Varchar(length=128, null=True, default=None, index=True)
    created_at = Timestamptz()


class Asset(Table, tablename="assets"):
    """A physical asset with a signed QR label."""

    serial = Varchar(length=40, unique=True)
    asset_type = Varchar(length=40)
    status = Varchar(length=16, default="in_stock")
    connection = ForeignKey(references=Connection, null=True, default=None)
    installed_at = Timestamptz(null=True, default=None)
    last_reading = DoublePrecision(null=True, default=None)
    created_at = Timestamptz()
    # The QR key the last label issued for it was signed with (NULL: issued before keys were recorded),
    # so the labels of a key can be listed and reprinted before the key is retired.
    label_key_id = Varchar(length=8, null=True, default=None)
    label_issued_at = Timestamptz(null=True, default=None)
    retired_at = Timestamptz(null=True, default=None)
    # The asset that took its place on the connection in a swap; the retired one keeps its connection.
    replaced_by = ForeignKey(references="self", null=True, default=None, on_delete=OnDelete.no_action)


class Install(Table, tablename="installs"):
    """One self-install attempt; its id is made by the client so offline retries are idempotent."""

    id = UUID(primary_key=True)
    connection = ForeignKey(references=Connection)
    asset_type = Varchar(length=40)
    asset = ForeignKey(references=Asset, null=True, default=None)
    state = Varchar(length=16, index=True)
    created_by = Varchar(length=128, index=True)
    created_by_role = Varchar(length=16)
    request_hash = Varchar(length=64)
    scanned_payload = Varchar(length=80, null=True, default=None)
    reasons = JSON(default=[])
    retake_count = Integer(default=0)
    help_message = Text(null=True, default=None)
    reading = DoublePrecision(null=True, default=None)  # the meter reading the user typed
    awaiting_info = Boolean(default=False)  # a specialist asked for more: the next submit goes back to them
    customer_message = Text(null=True, default=None)  # the specialist's words to the customer
    version = Integer(default=1)
    created_at = Timestamptz()
    # When the phone says the install began (offline work syncs later); bounded by the server.
    started_at = Timestamptz(null=True, default=None)
    # The phone's own clock when it sent the create, as sent (bounded like every timestamp): beside
    # created_at, the server's, it shows how far off the phone's clock was when offline-made.
    client_time = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()
    submitted_at = Timestamptz(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)  # the device itself reported in at this connection
    # The installer whose job this install is (set once, at insert; NULL for a customer's own install):
    # an installer's scope, read through one index (installs_installer: installer_subject, created_at, id).
    installer_subject = Varchar(length=128, null=True, default=None)
    # The asset the install's job reserved (copied at insert): a scan of any other is refused.
    allocated_asset = ForeignKey(references=Asset, null=True, default=None, on_delete=OnDelete.no_action)
    # The customer the install belongs to: the connection's owner when it was made (set once, at insert).
    # A customer's scope (installs_customer: customer_subject, created_at, id): a new occupant never sees
    # the previous one's installs, and the previous one keeps their own history.
    customer_subject = Varchar(length=128, null=True, default=None)


class Photo(Table, tablename="photos"):
    """Evidence photo metadata; the bytes live in the photo store under `sha256`."""

    install = ForeignKey(references=Install, index=True)
    slot = Varchar(length=40)
    sha256 = Varchar(length=64, index=True, index_method=IndexMethod.btree)
    content_type = Varchar(length=32)
    size_bytes = Integer()
    width = Integer()
    height = Integer()
    exif_taken_at = Timestamptz(null=True, default=None)
    exif_lat = DoublePrecision(null=True, default=None)
    exif_lon = DoublePrecision(null=True, default=None)
    qr_texts = JSON(null=True, default=None)  # None: the slot does not look for a QR code
    qr_symbol_seen = Boolean(default=False)  # a QR symbol was located, read or not
    sharpness = DoublePrecision(null=True, default=None)
    brightness = DoublePrecision(null=True, default=None)
    dark_fraction = DoublePrecision(null=True, default=None)
    bright_fraction = DoublePrecision(null=True, default=None)
    # 64-bit difference hash (stored signed) and its two 32-bit halves (unsigned): a near-duplicate
    # within Hamming distance 3 has one half at most 1 bit off, so indexed equalities on each half and
    # its 32 one-bit neighbours find it (verdict.half_neighbours). The half indexes are partial (WHERE
    # hash_informative; raw SQL in the migrations, same names).
    phash = BigInt(null=True, default=None)
    phash_h0 = BigInt(null=True, default=None, index=True)
    phash_h1 = BigInt(null=True, default=None, index=True)
    fingerprint = Varchar(length=64, null=True, default=None)  # 256-bit difference hash, hex
    # The same two hashes of the photo's central part, so that a crop of it is found too.
    core_hash = BigInt(null=True, default=None)
    core_h0 = BigInt(null=True, default=None, index=True)
    core_h1 = BigInt(null=True, default=None, index=True)
    core_fingerprint = Varchar(length=64, null=True, default=None)
    hash_informative = Boolean(default=True)  # False: a uniform picture, never matched for reuse
    edge_density = DoublePrecision(null=True, default=None)
    contrast = DoublePrecision(null=True, default=None)
    is_current = Boolean(default=True)  # False once a retake replaced it; kept for specialists
    uploaded_by = Varchar(length=128)
    created_at = Timestamptz()


class LocationFix(Table, tablename="location_fixes"):
    """A GPS fix reported by the phone."""

    install = ForeignKey(references=Install, index=True)
    lat = DoublePrecision()
    lon = DoublePrecision()
    accuracy_m = DoublePrecision()
    captured_at = Timestamptz()
    provider = Varchar(length=16)
    mocked = Boolean(default=False)
    client_time = Timestamptz(null=True, default=None)  # the phone's clock when it sent the fix, as sent
    created_at = Timestamptz()  # when the server received it


class CheckResult(Table, tablename="check_results"):
    """One automatic check's outcome, with the evidence a specialist can read."""

    install = ForeignKey(references=Install, index=True)
    photo = ForeignKey(references=Photo, null=True, default=None)
    attempt = Integer()  # 0 while gathering evidence, n at the n-th submit
    check_name = Varchar(length=40)
    subject = Varchar(length=40)  # the slot or step it judged
    status = Varchar(length=12)
    confidence = DoublePrecision()
    evidence = JSON(default={})
    user_fixable = Boolean()
    fix = Text(default="")  # a msgid of the message catalogs (backend/i18n.py), worded where it is shown
    fix_params = JSON(default={})
    created_at = Timestamptz()


class Decision(Table, tablename="decisions"):
    """An automatic or a specialist's decision, with the policy version or reason code behind it."""

    install = ForeignKey(references=Install, index=True)
    attempt = Integer()
    outcome = Varchar(length=16)
    reasons = JSON(default=[])
    policy_version = Varchar(length=32)
    decided_by = Varchar(length=128)
    reason_code = Varchar(length=40, null=True, default=None)  # specialists: from the fixed list
    note = Text(null=True, default=None)  # specialists' internal note: never shown to the customer
    message = Text(null=True, default=None)  # specialists' message to the customer
    created_at = Timestamptz()


class InfoRequest(Table, tablename="info_requests"):
    """What a specialist asked the customer for with a request_info decision: an extra photo (to the slot
    `extra_<id>`, described in words) and/or a question; the answer comes back here. Closed when everything
    asked was given (the install went back to the specialist) or a newer request took its place."""

    install = ForeignKey(references=Install, index=True)
    asked_by = Varchar(length=128)
    message = Text(null=True, default=None)  # the specialist's words to the customer, as with the decision
    photo_label = Text(null=True, default=None)  # e.g. "een foto van de aardlekschakelaar"
    question = Text(null=True, default=None)
    answer = Text(null=True, default=None)
    answered_by = Varchar(length=128, null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)


class Event(Table, tablename="events"):
    """Append-only audit log: who did what, when, from which state. Never updated or deleted."""

    install = ForeignKey(references=Install, null=True, default=None, index=True)
    # The connection a connection or asset event is about (events_connection: its audit trail).
    connection = ForeignKey(references=Connection, null=True, default=None, on_delete=OnDelete.no_action)
    actor = Varchar(length=128)
    actor_role = Varchar(length=16)
    action = Varchar(length=40)
    from_state = Varchar(length=16, null=True, default=None)
    to_state = Varchar(length=16, null=True, default=None)
    detail = JSON(default={})
    created_at = Timestamptz()


class ClaimAttempt(Table, tablename="claim_attempts"):
    """Evaluated connection-claim attempts, to limit guessing per subject and per connection (EAN)."""

    subject = Varchar(length=128, index=True)
    ean = Varchar(length=18, default="", index=True)  # as offered: unknown EANs are limited alike
    succeeded = Boolean()
    created_at = Timestamptz(index=True)
