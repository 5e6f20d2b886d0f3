"""The only module that reads the environment: one typed, cached Settings object."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DEV_JWT_SECRET = "dev-only-secret-change-me-in-production-0123456789"
DEV_QR_KEYS = "K1:dev-only-qr-signing-key-change-me"


@dataclass(frozen=True, slots=True)
class Settings:
    """Runtime configuration; every field has an embedded default that works on a fresh machine."""

    data_dir: Path
    database_url: str
    jwt_secret: str
    jwt_algorithm: str
    jwt_issuer: str | None
    qr_keys: dict[str, str]
    qr_active_key: str
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    max_photo_bytes: int = 25 * 1024 * 1024
    max_photo_pixels: int = 50_000_000
    claim_failures_allowed: int = 5
    claim_failure_window_s: int = 900
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    rate_limit_per_minute: int = 600  # per client address and worker; 0 switches it off
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str = "dev-only-webhook-secret"
    webhook_interval_s: float = 2.0
    territory_path: Path = Path(__file__).resolve().parent.parent / "fixtures" / "territory.geojson"
    policy_path: Path | None = None

    @property
    def photo_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))


def _parse_keys(raw: str) -> dict[str, str]:
    """`kid:secret,kid2:secret2` -> {kid: secret}; the first key signs, all verify."""
    keys: dict[str, str] = {}
    for part in raw.split(","):
        kid, _, secret = part.strip().partition(":")
        if not kid.isalnum() or not kid.isupper() or len(kid) > 8 or not secret:
            raise ValueError(f"QR_KEYS entry {part!r} must look like 'K1:secret' (key id: upper case, <= 8)")
        keys[kid] = secret
    return keys


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build Settings from an environment mapping (os.environ by default)."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("DATA_DIR", "data")).resolve()
    qr_raw = env.get("QR_KEYS", DEV_QR_KEYS)
    qr_keys = _parse_keys(qr_raw)
    origins = tuple(o for o in env.get("CORS_ORIGINS", "").split(",") if o)
    return Settings(
        data_dir=data_dir,
        database_url=env.get("DATABASE_URL", f"sqlite:///{data_dir / 'selfinstall.sqlite3'}"),
        jwt_secret=env.get("JWT_SECRET", DEV_JWT_SECRET),
        jwt_algorithm=env.get("JWT_ALGORITHM", "HS256"),
        jwt_issuer=env.get("JWT_ISSUER") or None,
        qr_keys=qr_keys,
        qr_active_key=next(iter(qr_keys)),
        host=env.get("HOST", "127.0.0.1"),
        port=int(env.get("PORT", "8000")),
        workers=int(env.get("WORKERS", "1")),
        max_photo_bytes=int(env.get("MAX_PHOTO_BYTES", str(25 * 1024 * 1024))),
        max_photo_pixels=int(env.get("MAX_PHOTO_PIXELS", "50000000")),
        cors_origins=origins,
        rate_limit_per_minute=int(env.get("RATE_LIMIT_PER_MINUTE", "600")),
        webhook_urls=tuple(u.strip() for u in env.get("WEBHOOK_URLS", "").split(",") if u.strip()),
        webhook_secret=env.get("WEBHOOK_SECRET", "dev-only-webhook-secret"),
        webhook_interval_s=float(env.get("WEBHOOK_INTERVAL_S", "2")),
        **({"territory_path": Path(env["TERRITORY_PATH"])} if env.get("TERRITORY_PATH") else {}),
        policy_path=Path(env["POLICY_PATH"]) if env.get("POLICY_PATH") else None,
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
