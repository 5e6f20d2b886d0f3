"""Every query of the install domain. Callers own the transaction; nothing here commits on its own."""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import msgspec
import numpy as np
from piccolo.columns import JSON
from piccolo.columns.combination import WhereRaw
from piccolo.query import Select
from piccolo.query.functions.aggregate import Count
from piccolo.query.methods.raw import Raw
from piccolo.table import Table
from piccolo.utils.encoding import dump_json

from backend.installs.enums import AssetStatus, InstallState
from backend.installs.records import (
    AssetRec,
    CheckRec,
    ConnectionRec,
    DecisionRec,
    EventRec,
    FixRec,
    InfoRequestRec,
    InstallRec,
    PhotoRec,
    Record,
)
from backend.installs.tables import (
    Asset,
    CheckResult,
    ClaimAttempt,
    Connection,
    Decision,
    Event,
    InfoRequest,
    Install,
    LocationFix,
    Photo,
)

R = TypeVar("R", bound=Record)


def _one(rows: list[dict[str, Any]], rec: type[R]) -> R | None:
    return msgspec.convert(rows[0], rec, strict=False) if rows else None


def _many(rows: list[dict[str, Any]], rec: type[R]) -> list[R]:
    return [msgspec.convert(r, rec, strict=False) for r in rows]


# --- connections -------------------------------------------------------------------------------


async def connection_by_ean(ean: str, for_update: bool = False) -> ConnectionRec | None:
    """`for_update` locks the row until the transaction ends, so who owns the connection cannot change
    between reading it and acting on it (an install started, a release that checked for open installs).
    PostgreSQL; SQLite's IMMEDIATE transaction already holds the whole database."""
    return _one(await _locked(Connection.select().where(Connection.ean == ean), for_update), ConnectionRec)


def _locked(query: Select, for_update: bool) -> Select:
    if for_update and Connection._meta.db.engine_type == "postgres":
        return query.lock_rows("update")
    return query


async def connection_by_id(connection_id: int, for_update: bool = False) -> ConnectionRec | None:
    """`for_update`: as connection_by_ean's."""
    query = Connection.select().where(Connection.id == connection_id)
    return _one(await _locked(query, for_update), ConnectionRec)


async def connections_owned(subject: str, limit: int, after_ean: str | None) -> list[ConnectionRec]:
    return _many(await connections_owned_query(subject, limit, after_ean), ConnectionRec)


def connections_owned_query(subject: str, limit: int, after_ean: str | None) -> Select:
    """A customer's connections by EAN, keyset on the EAN (index connections_owner: owner_subject, ean;
    the plan tests EXPLAIN it)."""
    where = Connection.owner_subject == subject
    if after_ean is not None:
        where &= Connection.ean > after_ean
    return Connection.select().where(where).order_by(Connection.ean).limit(limit)


async def latest_installs(connection_ids: list[int], customer: str) -> dict[int, InstallRec]:
    """Each of these connections' newest install of `customer`, if any (a previous occupant's never):
    its id by one index walk a connection, then the rows by primary key."""
    if not connection_ids:
        return {}
    ids = [row["id"] for row in await newest_install_ids_query(connection_ids, customer) if row["id"] is not None]
    if not ids:
        return {}
    rows = await Install.select(*Install.all_columns()).where(Install.id.is_in(ids)).output(load_json=True)
    return {rec.connection: rec for rec in _many(rows, InstallRec)}


def newest_install_ids_query(connection_ids: list[int], customer: str) -> Raw:
    """latest_installs' id query (the plan tests EXPLAIN it): per connection, the customer's newest,
    by installs_customer (customer_subject, created_at, id) or installs_connection (connection, created_at)."""
    return Connection.raw(
        "SELECT (SELECT i.id FROM installs i WHERE i.connection = c.id AND i.customer_subject = {}"
        " ORDER BY i.created_at DESC, i.id DESC"
        f" LIMIT 1) AS id FROM connections c WHERE c.id IN ({_integers(connection_ids)})",
        customer,
    )


async def insert_connections(rows: list[dict[str, Any]]) -> None:
    if rows:
        await Connection.insert(*[Connection(**r) for r in rows])


async def set_connection_owner(connection_id: int, subject: str | None, expected: str | None) -> bool:
    """Compare-and-set of the owner: False when it is no longer `expected` (a concurrent claim or release)."""
    current = Connection.owner_subject.is_null() if expected is None else Connection.owner_subject == expected
    rows = (
        await Connection.update({Connection.owner_subject: subject})
        .where((Connection.id == connection_id) & current)
        .returning(Connection.id)
    )
    return bool(rows)


async def open_installs_on(connection_id: int) -> list[InstallRec]:
    """The connection's installs not decided yet (draft, retake, in review), newest first: by
    installs_connection (connection, created_at), whose few rows a connection are filtered."""
    rows = (
        await Install.select(*Install.all_columns())
        .where((Install.connection == connection_id) & Install.state.is_in(list(_OPEN_STATES)))
        .order_by(Install.created_at, ascending=False)
        .output(load_json=True)
    )
    return _many(rows, InstallRec)


_OPEN_STATES = (InstallState.DRAFT.value, InstallState.NEEDS_RETAKE.value, InstallState.IN_REVIEW.value)


def connections_search_query(
    limit: int,
    after_ean: str | None,
    ean: str | None = None,
    postcode: str | None = None,
    house_number: int | None = None,
    owner: str | None = None,
) -> Select:
    """Admins' connection search by EAN, keyset on the EAN; each filter has an index ending in the EAN
    (the unique EAN, connections_postcode_ean, connections_owner), so a page never reads the rest."""
    where: Any = Connection.id.is_not_null()
    if ean is not None:
        where &= Connection.ean == ean
    if postcode is not None:
        where &= Connection.postcode == postcode
    if house_number is not None:  # with a postcode only (the service's rule): a postcode's few addresses
        where &= Connection.house_number == house_number
    if owner is not None:
        where &= Connection.owner_subject == owner
    if after_ean is not None:
        where &= Connection.ean > after_ean
    return Connection.select().where(where).order_by(Connection.ean).limit(limit)


async def search_connections(limit: int, after_ean: str | None, **filters: Any) -> list[ConnectionRec]:
    return _many(await connections_search_query(limit, after_ean, **filters), ConnectionRec)


def connection_events_query(connection_id: int, limit: int) -> Select:
    """A connection's audit trail, newest first (events_connection: connection, id)."""
    return (
        Event.select()
        .where(Event.connection == connection_id)
        .order_by(Event.id, ascending=False)
        .limit(limit)
        .output(load_json=True)
    )


async def connection_events(connection_id: int, limit: int) -> list[EventRec]:
    return _many(await connection_events_query(connection_id, limit), EventRec)


async def assets_on(connection_id: int) -> list[AssetRec]:
    """Every asset ever installed at the connection, the current and the retired, oldest first."""
    rows = await Asset.select().where(Asset.connection == connection_id).order_by(Asset.installed_at).order_by(Asset.id)
    return _many(rows, AssetRec)


def _advisory_key(scope: str, value: str) -> int:
    """A signed 64-bit key for pg_advisory_xact_lock (a collision only serialises two strangers)."""
    return int.from_bytes(hashlib.sha256(f"{scope}:{value}".encode()).digest()[:8], "big", signed=True)


async def lock_claims(subject: str, ean: str) -> None:
    """Serialise claim attempts by `subject` and on `ean` until the transaction ends, so counting and
    recording an attempt cannot interleave with another's. Subject first, then EAN, always: no cycle.
    On SQLite the IMMEDIATE write transaction already holds the database's only write lock."""
    if ClaimAttempt._meta.db.engine_type != "postgres":
        return
    for key in (_advisory_key("claim-subject", subject), _advisory_key("claim-ean", ean)):
        await ClaimAttempt.raw("SELECT pg_advisory_xact_lock({})", key)


async def _claim_failures(match: Any, since: datetime) -> list[datetime]:
    rows = (
        await ClaimAttempt.select(ClaimAttempt.created_at)
        .where(match & (ClaimAttempt.succeeded.eq(False)) & (ClaimAttempt.created_at > since))
        .order_by(ClaimAttempt.created_at)
    )
    return [r["created_at"] for r in rows]


async def claim_failures_by(subject: str, since: datetime) -> list[datetime]:
    """When `subject` failed to claim after `since`, oldest first."""
    return await _claim_failures(ClaimAttempt.subject == subject, since)


async def claim_failures_on(ean: str, since: datetime) -> list[datetime]:
    """When anyone failed to claim `ean` after `since`, oldest first."""
    return await _claim_failures(ClaimAttempt.ean == ean, since)


async def insert_claim_attempt(subject: str, ean: str, succeeded: bool, at: datetime) -> None:
    await ClaimAttempt.insert(ClaimAttempt(subject=subject, ean=ean, succeeded=succeeded, created_at=at))


# --- assets ------------------------------------------------------------------------------------


async def asset_by_serial(serial: str) -> AssetRec | None:
    return _one(await Asset.select().where(Asset.serial == serial), AssetRec)


async def asset_by_id(asset_id: int) -> AssetRec | None:
    return _one(await Asset.select().where(Asset.id == asset_id), AssetRec)


async def assets_by_serials(serials: list[str]) -> list[AssetRec]:
    if not serials:
        return []
    return _many(await Asset.select().where(Asset.serial.is_in(serials)), AssetRec)


async def insert_assets(rows: list[dict[str, Any]]) -> None:
    if rows:
        await Asset.insert(*[Asset(**r) for r in rows])


def assets_search_query(
    limit: int,
    after_serial: str | None,
    serial: str | None = None,
    asset_type: str | None = None,
    status: str | None = None,
    key_id: str | None = None,
) -> Select:
    """Admins' asset search by serial, keyset on the serial; each filter has an index ending in the
    serial (the unique serial, assets_type, assets_status, assets_label_key)."""
    where: Any = Asset.id.is_not_null()
    if serial is not None:
        where &= Asset.serial == serial
    if asset_type is not None:
        where &= Asset.asset_type == asset_type
    if status is not None:
        where &= Asset.status == status
    if key_id is not None:
        where &= Asset.label_key_id == key_id
    if after_serial is not None:
        where &= Asset.serial > after_serial
    return Asset.select().where(where).order_by(Asset.serial).limit(limit)


async def search_assets(limit: int, after_serial: str | None, **filters: Any) -> list[AssetRec]:
    return _many(await assets_search_query(limit, after_serial, **filters), AssetRec)


async def eans_of(connection_ids: Collection[int]) -> dict[int, str]:
    """The EANs of these connections, by id (primary key)."""
    if not connection_ids:
        return {}
    rows = await Connection.select(Connection.id, Connection.ean).where(Connection.id.is_in(list(connection_ids)))
    return {r["id"]: r["ean"] for r in rows}


async def serials_of(asset_ids: Collection[int]) -> dict[int, str]:
    """The serials of these assets, by id (primary key)."""
    if not asset_ids:
        return {}
    rows = await Asset.select(Asset.id, Asset.serial).where(Asset.id.is_in(list(asset_ids)))
    return {r["id"]: r["serial"] for r in rows}


async def label_key_counts() -> dict[str, int]:
    """How many assets' last issued label each QR key signed (assets_label_key)."""
    rows = (
        await Asset.select(Asset.label_key_id, Count(Asset.id, alias="n"))
        .where(Asset.label_key_id.is_not_null())
        .group_by(Asset.label_key_id)
    )
    return {r["label_key_id"]: r["n"] for r in rows}


async def record_label_key(serials: list[str], key_id: str, at: datetime) -> None:
    """The labels of these assets were (re)issued signed with `key_id`; unchanged rows are not written."""
    if serials:
        await Asset.update({Asset.label_key_id: key_id, Asset.label_issued_at: at}).where(
            Asset.serial.is_in(serials) & ((Asset.label_key_id != key_id) | Asset.label_key_id.is_null())
        )


async def set_asset_status(asset_id: int, expected_status: str, values: dict[str, Any]) -> bool:
    """Compare-and-set on the asset's status: False when it moved meanwhile (another retire or swap)."""
    columns = {getattr(Asset, k): v for k, v in values.items()}
    rows = (
        await Asset.update(columns)
        .where((Asset.id == asset_id) & (Asset.status == expected_status))
        .returning(Asset.id)
    )
    return bool(rows)


async def asset_in_open_install(asset_id: int) -> bool:
    """Whether an undecided install has scanned the asset."""
    return bool(await Install.exists().where((Install.asset == asset_id) & Install.state.is_in(list(_OPEN_STATES))))


def _installed_values(connection_id: int, at: datetime, reading: float | None) -> dict[Any, Any]:
    values: dict[Any, Any] = {
        Asset.status: AssetStatus.INSTALLED.value,
        Asset.connection: connection_id,
        Asset.installed_at: at,
    }
    if reading is not None:
        values[Asset.last_reading] = reading
    return values


async def mark_asset_installed(asset_id: int, connection_id: int, at: datetime, reading: float | None) -> None:
    """Set the asset installed at the connection, unconditionally (tests and fixtures lay a registry with it;
    an approval places an asset with place_asset)."""
    await Asset.update(_installed_values(connection_id, at, reading)).where(Asset.id == asset_id)


async def place_asset(
    asset_id: int, connection_id: int, rival_types: Collection[str], at: datetime, reading: float | None
) -> bool:
    """Set the asset installed at the connection if that is still what an approval was decided on: it is
    in stock or installed there already, and no other asset of `rival_types` is installed there. A
    compare-and-set: False, nothing written, when either changed meanwhile (another approval placed it,
    an admin retired it, another meter went in there)."""
    installed = AssetStatus.INSTALLED.value
    free_here = (Asset.status == AssetStatus.IN_STOCK.value) | (
        (Asset.status == installed) & (Asset.connection == connection_id)
    )
    where: Any = (Asset.id == asset_id) & free_here
    if rival_types:
        types = sorted(rival_types)
        where &= WhereRaw(
            "NOT EXISTS (SELECT 1 FROM assets AS rival WHERE rival.connection = {} AND rival.status = {}"
            f" AND rival.id <> {{}} AND rival.asset_type IN ({', '.join('{}' for _ in types)}))",
            connection_id,
            installed,
            asset_id,
            *types,
        )
    rows = await Asset.update(_installed_values(connection_id, at, reading)).where(where).returning(Asset.id)
    return bool(rows)


async def rivals_installed(connection_id: int, asset_types: Collection[str], asset_id: int | None) -> list[AssetRec]:
    """The assets of `asset_types` installed at the connection, `asset_id` aside (index assets_connection)."""
    if not asset_types:
        return []
    where: Any = (
        (Asset.connection == connection_id)
        & (Asset.status == AssetStatus.INSTALLED.value)
        & Asset.asset_type.is_in(sorted(asset_types))
    )
    if asset_id is not None:
        where &= Asset.id != asset_id
    return _many(await Asset.select().where(where).order_by(Asset.id), AssetRec)


async def lock_connection(connection_id: int) -> None:
    """Lock the connection's row until the transaction ends, so what is placed at it is decided one
    transaction at a time (PostgreSQL); SQLite's IMMEDIATE write transaction already holds the only
    write lock."""
    if Connection._meta.db.engine_type == "postgres":
        await Connection.select(Connection.id).where(Connection.id == connection_id).lock_rows("update")


# --- installs ----------------------------------------------------------------------------------


def _scope(subject: str, role: str) -> Any:
    """The WHERE clause that limits installs to what the caller may see."""
    if role == "customer":  # their own installs, not the connection's owner's now (a move-out keeps them apart)
        return Install.customer_subject == subject
    if role == "installer":  # their jobs' installs: the installer written at insert (indexed), never a customer's
        return Install.installer_subject == subject
    return Install.id.is_not_null()  # specialists and admins see every install


async def install_by_id(install_id: uuid.UUID) -> InstallRec | None:
    return _one(await Install.select().where(Install.id == install_id).output(load_json=True), InstallRec)


async def install_scoped(install_id: uuid.UUID, subject: str, role: str, for_update: bool = False) -> InstallRec | None:
    """The install if the caller may see it; `for_update` locks its row until the transaction ends
    (PostgreSQL; SQLite's IMMEDIATE transaction already holds the whole database)."""
    query = Install.select(*Install.all_columns()).where((Install.id == install_id) & _scope(subject, role))
    if for_update and Install._meta.db.engine_type == "postgres":
        query = query.lock_rows("update", of=(Install,))
    return _one(await query.output(load_json=True), InstallRec)


async def installs_scoped(
    subject: str, role: str, limit: int, after: tuple[datetime, uuid.UUID] | None, state: str | None
) -> list[InstallRec]:
    """Newest first; keyset pagination on (created_at, id)."""
    return _many(await installs_query(subject, role, limit, after, state), InstallRec)


def installs_query(
    subject: str, role: str, limit: int, after: tuple[datetime, uuid.UUID] | None, state: str | None
) -> Select:
    """The list's query (the plan tests EXPLAIN it): keyset as one row comparison. A customer's list
    walks installs_customer, an installer's installs_installer; everyone's walks
    installs_created, or installs_state_created with a state: a page never reads the rest of the table."""
    # An installer's scope is a column of the install itself: installs_installer matches filter and
    # order, where a join (through connections, or jobs) made PostgreSQL walk installs_created backwards.
    where = _scope(subject, role)
    if state is not None:
        where &= Install.state == state
    if after is not None:
        created, last_id = after
        where &= WhereRaw('("installs"."created_at", "installs"."id") < ({}, {})', created, last_id)
    return (
        Install.select(*Install.all_columns())
        .where(where)
        .order_by(Install.created_at, Install.id, ascending=False)
        .limit(limit)
        .output(load_json=True)
    )


async def insert_install(row: dict[str, Any]) -> bool:
    """Insert unless the id exists (a concurrent retry); True if this call inserted it."""
    inserted = (
        await Install.insert(Install(**row)).on_conflict(target=Install.id, action="DO NOTHING").returning(Install.id)
    )
    return bool(inserted)


async def update_install(install_id: uuid.UUID, expected_version: int, values: dict[str, Any]) -> bool:
    """Compare-and-set on `version`; False if someone else changed the install meanwhile."""
    columns = {getattr(Install, k): v for k, v in values.items()}
    columns[Install.version] = expected_version + 1
    rows = (
        await Install.update(columns)
        .where((Install.id == install_id) & (Install.version == expected_version))
        .returning(Install.id)
    )
    return bool(rows)


# --- evidence ----------------------------------------------------------------------------------


async def photos_of(install_id: uuid.UUID, current_only: bool = True) -> list[PhotoRec]:
    where = Photo.install == install_id
    if current_only:
        where &= Photo.is_current.eq(True)
    rows = await Photo.select().where(where).order_by(Photo.id).output(load_json=True)
    return _many(rows, PhotoRec)


async def photo_by_id(install_id: uuid.UUID, photo_id: int) -> PhotoRec | None:
    rows = await Photo.select().where((Photo.install == install_id) & (Photo.id == photo_id)).output(load_json=True)
    return _one(rows, PhotoRec)


_REUSE_COLUMNS = (
    Photo.id,
    Photo.install,
    Photo.slot,
    Photo.sha256,
    Photo.phash,
    Photo.fingerprint,
    Photo.core_hash,
    Photo.core_fingerprint,
)
_HALF_COLUMNS = (Photo.phash_h0, Photo.phash_h1, Photo.core_h0, Photo.core_h1)
# Half hits are read in full; this many at most (a bound on memory, far above what a lookup meets:
# a few chance hits at a million photos, besides the real near-duplicates). Which rows a cut would drop
# is not chosen: an ORDER BY here let PostgreSQL walk the primary key backwards (issue 11).
MAX_HALF_HITS = 50_000
# The half indexes hold informative photos only (`WHERE hash_informative`): the many uniform pictures,
# whose hashes are all alike, never enter them. Each arm of the query repeats the predicate.


async def sha256_stored(sha256: str) -> bool:
    """Whether any photo row (of any install) refers to these bytes."""
    return bool(await Photo.exists().where(Photo.sha256 == sha256))


async def sha256s_stored(sha256s: list[str]) -> set[str]:
    """Which of these content addresses any photo row refers to (the orphan sweep; indexed)."""
    if not sha256s:
        return set()
    rows = await Photo.select(Photo.sha256).where(Photo.sha256.is_in(sha256s)).distinct()
    return {row["sha256"] for row in rows}


async def same_bytes(install_id: uuid.UUID, sha256: str) -> list[dict[str, Any]]:
    """Photos of OTHER installs with exactly these bytes."""
    return await Photo.select(*_REUSE_COLUMNS).where((Photo.install != install_id) & (Photo.sha256 == sha256))


def _int64s(values: Collection[int]) -> np.ndarray:
    """The values as int64 (so nothing but integers can get into the SQL)."""
    array = values if isinstance(values, np.ndarray) else np.fromiter(values, dtype=np.int64)
    return array.astype(np.int64)


def _integers(values: Collection[int]) -> str:
    """`1,2,3`: the values as SQL integer literals."""
    return msgspec.json.encode(_int64s(values).tolist())[1:-1].decode()


async def half_hits(install_id: uuid.UUID, keys: list[Collection[int]]) -> list[dict[str, Any]]:
    """The reuse columns of the informative photos of OTHER installs with a hash half among `keys`:
    `keys[0..1]` are values of the whole frame's high and low half, `keys[2..3]` of the core's.
    Indexed equalities only; the caller keeps the rows whose hashes are really close."""
    query = half_hits_query(install_id, keys)
    return [] if query is None else await query


def half_hits_query(install_id: uuid.UUID, keys: list[Collection[int]]) -> Raw | None:
    """half_hits' query, None when there is no key to look up (the plan tests EXPLAIN it): one arm a
    half column, UNION ALL (a row close in both halves comes twice; the caller keys rows by id).

    There are ~30,000 keys for an upload's crop probes. PostgreSQL gets each column's keys as one
    bigint[] parameter joined through unnest, probing the index once a key: as an IN list it estimated
    a row a key and chose a sequential scan of every photo, after ~30-100 ms of planning. SQLite gets
    them as integer literals in an IN list (one index probe a key; it allows at most 32,766 bound
    parameters, and Piccolo converted each one on the event loop); msgspec writes the list (~1 ms)."""
    pg = Photo._meta.db.engine_type == "postgres"
    columns = ", ".join(f'p."{column._meta.db_column_name}"' for column in _REUSE_COLUMNS)
    arms, args = [], []
    for column, values in zip(_HALF_COLUMNS, keys, strict=True):
        if not len(values):
            continue
        name = f'p."{column._meta.db_column_name}"'
        if pg:
            source = f"unnest({{}}::bigint[]) AS k(v) JOIN photos p ON {name} = k.v"
            args.append(_int64s(values).tolist())
        else:
            source = f"photos p WHERE {name} IN ({_integers(values)}) AND"
        where = "" if not pg else " WHERE"
        arms.append(f"SELECT {columns} FROM {source}{where} p.hash_informative AND p.install <> {{}}")
        args.append(install_id)
    if not arms:
        return None
    return Photo.raw(" UNION ALL ".join(arms) + f" LIMIT {MAX_HALF_HITS}", *args)


@dataclass(frozen=True, slots=True)
class HalfRows:
    """Photo rows as StoredHalves keeps them: ids ascending, each row's four halves (half_neighbours' order)."""

    ids: np.ndarray  # int64
    informative: np.ndarray  # bool: in the half indexes
    halves: np.ndarray  # (rows, 4) uint64: phash_h0, phash_h1, core_h0, core_h1
    created: np.ndarray  # float64, epoch seconds


HALF_ROWS_CHUNK = 50_000  # rows a query: a worker's first lookup reads every photo, a chunk at a time


async def photo_halves_unseen(after: int, gaps: list[tuple[int, int]]) -> AsyncIterator[HalfRows]:
    """Photo rows with an id above `after` or within one of the `gaps` (inclusive id ranges), ascending
    by id, in chunks."""
    cursor = 0
    while True:
        rows = await photo_halves_query(after, gaps, cursor)
        if not rows:
            return
        yield HalfRows(
            ids=np.array([r["id"] for r in rows], dtype=np.int64),
            informative=np.array([bool(r["informative"]) for r in rows], dtype=bool),
            halves=np.array([[r["h0"], r["h1"], r["h2"], r["h3"]] for r in rows], dtype=np.int64).astype(np.uint64),
            created=np.array([_epoch(r["created_at"]) for r in rows], dtype=np.float64),
        )
        if len(rows) < HALF_ROWS_CHUNK:
            return
        cursor = int(rows[-1]["id"])


def photo_halves_query(after: int, gaps: list[tuple[int, int]], cursor: int) -> Raw:
    """One chunk of photo_halves_unseen, after the id `cursor`: every arm a range of the primary key.
    The bounds are written into the statement (integers of the worker's own, never a client's): with
    them as parameters PostgreSQL's generic plan assumed a third of the table and scanned all of it."""
    columns = ", ".join(f'coalesce(p."{c._meta.db_column_name}", 0) AS h{i}' for i, c in enumerate(_HALF_COLUMNS))
    arms = " OR ".join([f"p.id > {int(after)}", *(f"p.id BETWEEN {int(lo)} AND {int(hi)}" for lo, hi in gaps)])
    return Photo.raw(
        f"SELECT p.id, p.hash_informative AS informative, {columns}, p.created_at FROM photos p"
        f" WHERE ({arms}) AND p.id > {int(cursor)} ORDER BY p.id LIMIT {HALF_ROWS_CHUNK}"
    )


def _epoch(value: datetime | str) -> float:
    """A created_at as the engine returns it in a raw query (SQLite: ISO text) in epoch seconds."""
    return (value if isinstance(value, datetime) else datetime.fromisoformat(value)).timestamp()


async def replace_slot_photo(row: dict[str, Any], retire: bool) -> int:
    """Retire the slot's current photo (`retire`: the caller read the install, at the version it writes
    under, with a photo in the slot; a slot's first photo skips the statement) and insert the new one;
    returns the new photo's id."""
    if retire:
        await Photo.update({Photo.is_current: False}).where(
            (Photo.install == row["install"]) & (Photo.slot == row["slot"]) & Photo.is_current.eq(True)
        )
    inserted = await _insert_rows(Photo, [row], returning="id")
    return int(inserted[0]["id"])


async def fixes_of(install_id: uuid.UUID) -> list[FixRec]:
    """Every fix of the install, oldest first (the last one counts)."""
    rows = await LocationFix.select().where(LocationFix.install == install_id).order_by(LocationFix.id)
    return _many(rows, FixRec)


async def fix_exists(
    install_id: uuid.UUID, lat: float, lon: float, accuracy_m: float, captured_at: datetime, provider: str, mocked: bool
) -> bool:
    """The very same fix (an offline retry) is already stored."""
    rows = (
        await LocationFix.select(LocationFix.id)
        .where(
            (LocationFix.install == install_id)
            & (LocationFix.lat == lat)
            & (LocationFix.lon == lon)
            & (LocationFix.accuracy_m == accuracy_m)
            & (LocationFix.captured_at == captured_at)
            & (LocationFix.provider == provider)
            & (LocationFix.mocked == mocked)
        )
        .limit(1)
    )
    return bool(rows)


async def insert_fix(row: dict[str, Any]) -> None:
    await LocationFix.insert(LocationFix(**row))


async def checks_of(install_id: uuid.UUID) -> list[CheckRec]:
    rows = (
        await CheckResult.select()
        .where(CheckResult.install == install_id)
        .order_by(CheckResult.id)
        .output(load_json=True)
    )
    return _many(rows, CheckRec)


async def insert_checks(rows: list[dict[str, Any]]) -> None:
    """Check results, one multi-row INSERT (_insert_rows)."""
    if rows:
        await _insert_rows(CheckResult, rows)


async def _insert_rows(table: type[Table], rows: list[dict[str, Any]], returning: str = "") -> list[dict[str, Any]]:
    """Rows that name the same columns, as one INSERT written here, not built by Piccolo: its Insert (a
    Table object a row, each value converted by its column) cost ~1.5 ms CPU for an upload's ten checks
    and ~1 ms for its photo row, more than the statements; JSON is dumped as Piccolo dumps it, and every
    other value goes to the driver as Piccolo's Insert would send it."""
    known, json = _columns(table)
    names = list(rows[0])
    if not set(names) <= known or any(list(r) != names for r in rows):
        raise ValueError(f"rows for {table._meta.tablename} must name the same columns of it")
    quoted = ", ".join(f'"{c}"' for c in names)
    row = "(" + ", ".join(["{}"] * len(names)) + ")"
    args = [_json_value(r[c]) if c in json else r[c] for r in rows for c in names]
    sql = f"INSERT INTO {table._meta.tablename} ({quoted}) VALUES {', '.join([row] * len(rows))}"
    return await table.raw(sql + (f' RETURNING "{returning}"' if returning else ""), *args)


@functools.cache
def _columns(table: type[Table]) -> tuple[frozenset[str], frozenset[str]]:
    """The table's column names, and those of its JSON columns."""
    columns = table._meta.columns
    return (
        frozenset(c._meta.db_column_name for c in columns),
        frozenset(c._meta.db_column_name for c in columns if isinstance(c, JSON)),
    )


def _json_value(value: object) -> object:
    """A JSON column's value as Piccolo writes it: text as it is, anything else dumped."""
    return value if value is None or isinstance(value, str) else dump_json(value)


async def decisions_of(install_id: uuid.UUID) -> list[DecisionRec]:
    rows = await Decision.select().where(Decision.install == install_id).order_by(Decision.id).output(load_json=True)
    return _many(rows, DecisionRec)


async def insert_decision(row: dict[str, Any]) -> None:
    await Decision.insert(Decision(**row))


# --- requests for information ------------------------------------------------------------------


async def insert_info_request(row: dict[str, Any]) -> InfoRequestRec:
    rows = await InfoRequest.insert(InfoRequest(**row)).returning(*InfoRequest.all_columns())
    return msgspec.convert(rows[0], InfoRequestRec, strict=False)


async def update_info_request(request_id: int, values: dict[str, Any]) -> None:
    await InfoRequest.update({getattr(InfoRequest, k): v for k, v in values.items()}).where(
        InfoRequest.id == request_id
    )


async def close_info_requests(install_id: uuid.UUID, at: datetime) -> None:
    """Close the install's open requests (a newer one takes their place, or all was given)."""
    await InfoRequest.update({InfoRequest.closed_at: at}).where(
        (InfoRequest.install == install_id) & InfoRequest.closed_at.is_null()
    )


# --- one install with all its evidence, in one query --------------------------------------------


class VisitFact(msgspec.Struct, frozen=True, kw_only=True):
    """The install's latest visit, as its customer's next steps need it (the jobs domain owns visits)."""

    state: str  # offered | planned | done | cancelled
    window_start: datetime | None
    window_end: datetime | None


class SnapshotRows(msgspec.Struct, frozen=True, kw_only=True):
    """An install and every row about it, as one query returns them (child lists ordered by id)."""

    install: InstallRec
    connection: ConnectionRec
    asset: AssetRec | None
    photos: list[PhotoRec]  # the current ones
    checks: list[CheckRec]
    fixes: list[FixRec]
    decisions: list[DecisionRec]
    events: list[EventRec]
    decision_due: datetime | None = None  # the open escalation case's SLA: when a specialist decides at the latest
    visit: VisitFact | None = None
    info_requests: list[InfoRequestRec] = []


_SNAPSHOT_DECODER = msgspec.json.Decoder(SnapshotRows, strict=False)  # SQLite's booleans are 0 and 1


async def install_snapshot(
    install_id: uuid.UUID, subject: str | None = None, role: str | None = None
) -> SnapshotRows | None:
    """The install (scoped to the caller when `subject` is given, as `install_scoped`) with its
    connection, asset, current photos, checks, fixes, decisions, events and requests for information:
    one statement, the database building one JSON document (a view used to take eight queries)."""
    scope = "" if subject is None else _SNAPSHOT_SCOPES.get(role or "", "")
    engine_type = Install._meta.db.engine_type
    args: list[Any] = [install_id] if not scope else [install_id, subject]
    rows = await Install.raw(_snapshot_sql(engine_type, scope), *args)
    if not rows:
        return None
    snap = _SNAPSHOT_DECODER.decode(rows[0]["snapshot"])
    for rows_of_kind in (snap.photos, snap.checks, snap.fixes, snap.decisions, snap.events, snap.info_requests):
        rows_of_kind.sort(key=_by_id)
    return snap


def _by_id(row: Any) -> int:
    return int(row.id)


# The caller's scope, as `_scope` says it for Piccolo queries.
_SNAPSHOT_SCOPES = {
    "customer": " AND i.customer_subject = {}",
    "installer": " AND i.installer_subject = {}",  # as _scope
}


@functools.cache
def _snapshot_sql(engine_type: str, scope: str) -> str:
    sqlite = engine_type == "sqlite"

    def obj(alias: str, table: type[Table], rec: type[Record]) -> str:
        pairs = []
        for name in rec.__struct_fields__:
            column = table._meta.get_column_by_name(name)
            ref = f'{alias}."{column._meta.db_column_name}"'
            if sqlite and isinstance(column, JSON):  # stored as text: embed it as JSON, not as a string
                ref = f"json({ref})"
            pairs.append(f"'{name}', {ref}")
        return f"{'json_object' if sqlite else 'json_build_object'}({', '.join(pairs)})"

    def children(table: type[Table], rec: type[Record], extra: str = "") -> str:
        rows = f"FROM {table._meta.tablename} t WHERE t.install = i.id{extra}"
        if sqlite:  # a subquery's value loses its JSON type in SQLite: json() gives it back
            return f"json((SELECT json_group_array({obj('t', table, rec)}) {rows}))"
        return f"(SELECT coalesce(json_agg({obj('t', table, rec)}), '[]'::json) {rows})"

    current = " AND t.is_current = 1" if sqlite else " AND t.is_current"
    visit_fields = "'state', v.state, 'window_start', v.window_start, 'window_end', v.window_end"
    visit = (
        f"(SELECT {'json_object' if sqlite else 'json_build_object'}({visit_fields}) FROM visits v"
        " WHERE v.install = i.id ORDER BY v.id DESC LIMIT 1)"
    )
    if sqlite:
        visit = f"json({visit})"
    asset = f"CASE WHEN a.id IS NULL THEN NULL ELSE {obj('a', Asset, AssetRec)} END"
    document = ", ".join(
        [
            f"'install', {obj('i', Install, InstallRec)}",
            f"'connection', {obj('c', Connection, ConnectionRec)}",
            f"'asset', {f'json({asset})' if sqlite else asset}",
            f"'photos', {children(Photo, PhotoRec, current)}",
            f"'checks', {children(CheckResult, CheckRec)}",
            f"'fixes', {children(LocationFix, FixRec)}",
            f"'decisions', {children(Decision, DecisionRec)}",
            f"'events', {children(Event, EventRec)}",
            f"'info_requests', {children(InfoRequest, InfoRequestRec)}",
            # The review domain's open case (UNIQUE (install, kind): one probe); by name, as the review
            # app's tables are not imported here.
            "'decision_due', (SELECT rc.due_at FROM review_cases rc"
            " WHERE rc.install = i.id AND rc.kind = 'escalation' AND rc.state = 'open')",
            # The jobs domain's latest visit (index visits_install), by name like the case.
            f"'visit', {visit}",
        ]
    )
    build = "json_object" if sqlite else "json_build_object"
    cast = "" if sqlite else "::text"
    return (
        f"SELECT {build}({document}){cast} AS snapshot FROM installs i"
        " JOIN connections c ON c.id = i.connection LEFT JOIN assets a ON a.id = i.asset"
        f" WHERE i.id = {{}}{scope}"
    )


# --- audit -------------------------------------------------------------------------------------


async def append_event(row: dict[str, Any]) -> None:
    await Event.insert(Event(**row))


async def events_of(install_id: uuid.UUID) -> list[EventRec]:
    rows = await Event.select().where(Event.install == install_id).order_by(Event.id).output(load_json=True)
    return _many(rows, EventRec)


async def last_event(install_id: uuid.UUID) -> EventRec | None:
    """The install's newest audit event (events_install; an install has a few dozen at most)."""
    query = Event.select().where(Event.install == install_id).order_by(Event.id, ascending=False).limit(1)
    rows = await query.output(load_json=True)
    return _many(rows, EventRec)[0] if rows else None


# --- metrics -----------------------------------------------------------------------------------


async def install_counts_by_state() -> dict[str, int]:
    rows = await Install.select(Install.state, Count(Install.id, alias="n")).group_by(Install.state)
    return {r["state"]: r["n"] for r in rows}


async def automation_outcomes() -> dict[str, int]:
    """Automatic decisions by outcome (every submit is one)."""
    rows = (
        await Decision.select(Decision.outcome, Count(Decision.id, alias="n"))
        .where(Decision.decided_by == "automation")
        .group_by(Decision.outcome)
    )
    return {r["outcome"]: r["n"] for r in rows}
