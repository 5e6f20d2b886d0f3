"""The only module that reads the environment: one typed, cached Settings object."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from backend.principal import Role

DEV_JWT_SECRET = "dev-only-secret-change-me-in-production-0123456789"
DEV_QR_KEYS = "K1:dev-only-qr-signing-key-change-me"
DEV_WEBHOOK_SECRET = "dev-only-webhook-secret"
DEV_CSRF_SECRET = "dev-only-csrf-secret-change-me-0123456789"
DEV_UNSUBSCRIBE_SECRET = "dev-only-unsubscribe-secret-change-me-0123"
DEV_TOKEN_NAME = "selfinstall"  # the development audience and issuer of tokens
MIN_SECRET_LENGTH = 32  # an HMAC key any shorter can be guessed offline from one signed value
MAKE_A_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
ENVIRONMENTS = ("development", "production")
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("info", "debug", "warning", "error")
SMTP_TLS_MODES = ("auto", "tls", "none")  # auto: STARTTLS when the server offers it; tls: TLS from the start (465)


@dataclass(frozen=True, slots=True)
class OidcSettings:
    """An identity provider: its JWKS verifies tokens; with a client id the console signs in through it."""

    issuer: str | None  # OIDC_ISSUER: its discovery document names the JWKS and the endpoints
    jwks_url: str | None = None  # JWKS_URL: the keys without discovery (enough for API tokens)
    discovery_url: str | None = None  # OIDC_DISCOVERY_URL; default <issuer>/.well-known/openid-configuration
    client_id: str | None = None  # OIDC_CLIENT_ID: the console's client at the provider
    client_secret: str | None = None  # OIDC_CLIENT_SECRET: the console is a confidential client (plus PKCE)
    redirect_url: str | None = None  # OIDC_REDIRECT_URL; default <this server>/console/oidc/callback
    scopes: str = "openid"  # OIDC_SCOPES
    jwks_cache_s: float = 300.0  # JWKS_CACHE_S: the key set is fetched again once it is this old
    jwks_cooldown_s: float = 30.0  # JWKS_COOLDOWN_S: a token naming an unknown key refetches at most this often
    timeout_s: float = 5.0  # OIDC_TIMEOUT_S: one request to the provider
    console_session_s: int = 8 * 3600  # CONSOLE_SESSION_S: a console session opened through the provider

    @property
    def console_sign_in(self) -> bool:
        """Whether the console signs in through the provider (and refuses pasted tokens)."""
        return bool(self.issuer and self.client_id)

    @property
    def discovery(self) -> str | None:
        """Where the provider's metadata is, if it has an issuer."""
        if self.discovery_url or not self.issuer:
            return self.discovery_url
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"


@dataclass(frozen=True, slots=True)
class Settings:
    """Runtime configuration; every field has an embedded default that works on a fresh machine."""

    data_dir: Path
    database_url: str
    jwt_secret: str
    jwt_algorithm: str
    jwt_issuer: str
    qr_keys: dict[str, str]
    qr_active_key: str
    environment: str | None = None  # SELFINSTALL_ENV; None: development only on a loopback address
    jwt_audience: str = DEV_TOKEN_NAME
    jwt_max_lifetime_s: int = 12 * 3600  # a token valid for longer (exp - iat) is refused
    role_claim: str = "role"  # ROLE_CLAIM: a dotted path to the role (realm_access.roles for Keycloak, roles for Entra)
    role_map: dict[str, str] = field(default_factory=dict)  # ROLE_MAP: the provider's role names -> ours
    oidc: OidcSettings | None = None  # an identity provider; None: JWT_SECRET verifies (development, one PEM key)
    csrf_secret: str = DEV_CSRF_SECRET
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    max_photo_bytes: int = 25 * 1024 * 1024
    max_photo_pixels: int = 50_000_000
    # The longest wait for the next piece of a request body (a body shorter than its Content-Length): 408.
    body_read_timeout_s: float = 30.0
    claim_failures_allowed: int = 5
    claim_failure_window_s: int = 900
    claim_failures_per_connection: int = 10  # failed claims on one EAN per window, all accounts together
    # Bad days answer 503 within seconds instead of hanging (backend/db.py):
    db_connect_timeout_s: float = 2.0  # connecting, and waiting for a pooled connection
    db_lock_timeout_s: float = 3.0  # waiting for a lock; on SQLite the whole wait for the write lock
    db_statement_timeout_s: float = 4.0  # one statement on PostgreSQL (lifted for migrations)
    # Photo validation, per worker process: this many jobs run at once and this many more wait; an
    # upload beyond that is answered 503 + Retry-After at once (backend/installs/cpu_pool.py).
    cpu_threads: int = 1  # default: the cores shared out over the workers
    cpu_queue: int = 1  # default: as many as run
    busy_retry_after_s: int = 3  # refusing costs too: at 1 s, 50 phones were refused 3x as often, p99 twice as long
    # Requests one worker serves at once; beyond that 503 + Retry-After at once (backend/admission.py).
    # Default: one per CPU thread (measured with bench/load.py, 50 clients on SQLite: two per thread
    # gave upload p99 6.3x the unloaded p50, one per thread 2.7x at the same throughput); 0: no bound.
    max_requests_in_flight: int = 1
    # Past that bound a request waits this long for a place, first come first served, with at most
    # `admission_queue` waiting (default 4 per place); only then, or with the queue full, 503. A phone
    # sending its three photos at once to an idle worker was refused one of them (exploratory test).
    admission_wait_s: float = 2.0  # 0: refused at once
    admission_queue: int = 4
    # Idempotency-Key (backend/idempotency): an answer is replayed this long; a request in flight holds
    # its key this long at most (a worker that died mid-request lets go of it then).
    idempotency_ttl_s: float = 24 * 3600.0
    idempotency_lease_s: float = 60.0
    # Orphaned upload files are swept this often, once older than the grace (backend/installs/orphans.py).
    file_sweep_interval_s: float = 600.0
    orphan_grace_s: float = 3600.0
    # A resumable upload (backend/uploads) and its partial bytes are kept this long after creation
    # (Upload-Limit max-age, tus Upload-Expires), then swept with the files above.
    upload_expiry_s: float = 24 * 3600.0
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    rate_limit_per_minute: int = 600  # per principal (address without a token); 0 switches it off
    # Where the rate limit counts (backend/ratelimit.py): unset, each worker in its own memory; a
    # redis:// URL, one count across workers, hosts and restarts. Keys start with the prefix.
    redis_url: str | None = field(default=None, repr=False)  # may carry a password
    redis_key_prefix: str = "selfinstall:"
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str = DEV_WEBHOOK_SECRET
    webhook_interval_s: float = 2.0
    # A delivery still failing this long after its event (or an admin's retry) is dead-lettered (backend/events).
    webhook_max_age_s: float = 3 * 24 * 3600.0
    territory_path: Path = Path(__file__).resolve().parent.parent / "fixtures" / "territory.geojson"
    policy_path: Path | None = None
    # Where photo bytes live (backend/storage): file:// the folder under DATA_DIR, file:///abs/path another,
    # s3://bucket/prefix any S3-compatible store (endpoint below; no keys: botocore's chain, e.g. an instance role).
    photo_store: str = "file://"
    s3_endpoint_url: str | None = None  # unset: AWS itself
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = field(default=None, repr=False)
    s3_secret_access_key: str | None = field(default=None, repr=False)
    # Operating it (backend/logs.py, backend/metrics.py, backend/access.py):
    log_format: str = "json"  # LOG_FORMAT=text for a developer's terminal
    log_level: str = "info"
    metrics_token: str | None = None  # Prometheus sends `Authorization: Bearer <it>`; unset: development only
    metrics_refresh_s: float = 30.0  # the database's figures on /metrics are at most this old
    prometheus_multiproc_dir: Path | None = None  # set by `serve --workers N`: every worker's figures summed
    forwarded_allow_ips: tuple[str, ...] = ()  # proxies whose X-Forwarded-For/-Proto are believed
    # Notifications (backend/notifications): always written to their outbox; e-mailed only with SMTP_HOST.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_tls: str = "auto"
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_from: str = "Selfinstall <noreply@localhost>"
    smtp_timeout_s: float = 30.0
    notify_interval_s: float = 10.0  # how often each worker sends what is pending
    notify_max_age_s: float = 2 * 24 * 3600.0  # older than this, a message is no longer worth sending
    unsubscribe_secret: str = DEV_UNSUBSCRIBE_SECRET  # signs the one-click unsubscribe links
    public_url: str = "http://127.0.0.1:8000"  # where the links in our e-mail point (unsubscribe, address check)

    @property
    def photo_dir(self) -> Path:
        """The local photo folder; with S3, where uploads are staged (and checked) before they go up."""
        folder = self.photo_store.removeprefix("file://") if self.photo_store.startswith("file://") else ""
        return Path(folder) if folder else self.data_dir / "photos"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    def is_development(self, host: str | None = None) -> bool:
        """SELFINSTALL_ENV decides; unset, only a server on a loopback address is a development one."""
        if self.environment is not None:
            return self.environment == "development"
        return is_loopback(host or self.host)

    def insecure_secrets(self) -> list[tuple[str, str]]:
        """(variable, why) for every secret that is a public development default or too short to be one."""
        dev_qr_secret = DEV_QR_KEYS.partition(":")[2]
        keys = [
            ("CSRF_SECRET", self.csrf_secret, DEV_CSRF_SECRET),
            ("WEBHOOK_SECRET", self.webhook_secret, DEV_WEBHOOK_SECRET),
            ("UNSUBSCRIBE_SECRET", self.unsubscribe_secret, DEV_UNSUBSCRIBE_SECRET),
            *((f"QR_KEYS ({kid})", secret, dev_qr_secret) for kid, secret in self.qr_keys.items()),
        ]
        if self.jwt_algorithm.startswith("HS"):  # otherwise JWT_SECRET is the identity provider's public key
            keys.insert(0, ("JWT_SECRET", self.jwt_secret, DEV_JWT_SECRET))
        found: list[tuple[str, str]] = []
        for variable, value, development in keys:
            if value == development:
                found.append((variable, "is the development default from backend/settings.py"))
            elif len(value) < MIN_SECRET_LENGTH:
                found.append((variable, f"is shorter than {MIN_SECRET_LENGTH} characters"))
        return found

    def public_url_faults(self) -> list[tuple[str, str]]:
        """(variable, why) if e-mail is sent (SMTP_HOST) and PUBLIC_URL is not an address customers can reach
        safely: the links in our e-mail (unsubscribe, an address check) point there. Without e-mail no
        link leaves the service, so it is not asked for."""
        if self.smtp_host is None:
            return []
        url = urlsplit(self.public_url)
        if url.scheme != "https":
            return [("PUBLIC_URL", f"is {self.public_url!r}: the https:// address customers reach (links in e-mail)")]
        if not url.hostname or is_loopback(url.hostname) or url.hostname in ("0.0.0.0", "::"):
            return [("PUBLIC_URL", f"is {self.public_url!r}: no customer reaches this machine's own address")]
        return []


class InsecureStart(Exception):
    """The service would serve outside development with a secret anyone can read or guess."""


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach a server bound to `host`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_production_ready(settings: Settings, host: str | None = None) -> None:
    """Refuse to serve outside development while any development (or guessable) secret is in use, or the
    links we mail would point at no address a customer reaches."""
    if settings.is_development(host):
        return
    found = settings.insecure_secrets() + settings.public_url_faults()
    if not found:
        return
    address = host or settings.host
    why = "SELFINSTALL_ENV=production" if settings.environment else f"{address} is not a loopback address"
    lines = [f"refusing to start outside development ({why}) with insecure settings:"]
    lines += [f"  {variable} {reason}" for variable, reason in found]
    lines += [
        f"make each secret with: {MAKE_A_SECRET}",
        "(QR_KEYS holds KID:secret pairs, e.g. QR_KEYS=K2:<secret>; an old key after it still verifies old labels)",
    ]
    if not settings.environment:
        lines.append(f"(a development server on {address} on purpose: set SELFINSTALL_ENV=development)")
    raise InsecureStart("\n".join(lines))


def _parse_keys(raw: str) -> dict[str, str]:
    """`kid:secret,kid2:secret2` -> {kid: secret}; the first key signs, all verify."""
    keys: dict[str, str] = {}
    for part in raw.split(","):
        kid, _, secret = part.strip().partition(":")
        if not kid.isalnum() or not kid.isupper() or len(kid) > 8 or not secret:
            raise ValueError(f"QR_KEYS entry {part!r} must look like 'K1:secret' (key id: upper case, <= 8)")
        keys[kid] = secret
    return keys


def _parse_role_map(raw: str) -> dict[str, str]:
    """`provider-name:role,...` -> {provider-name: role}; the name may itself contain colons."""
    known = {r.value for r in Role}
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, _, role = part.rpartition(":")
        if not name or role not in known:
            choices = "|".join(sorted(known))
            raise ValueError(f"ROLE_MAP entry {part!r} must look like 'provider-role:{choices}'")
        mapping[name] = role
    return mapping


def _load_oidc(env: dict[str, str]) -> OidcSettings | None:
    """The identity provider's settings, or None when neither OIDC_ISSUER nor JWKS_URL is set."""
    issuer = env.get("OIDC_ISSUER") or None
    jwks_url = env.get("JWKS_URL") or None
    if not issuer and not jwks_url:
        if env.get("OIDC_CLIENT_ID") or env.get("OIDC_DISCOVERY_URL"):
            raise ValueError("OIDC_CLIENT_ID and OIDC_DISCOVERY_URL need OIDC_ISSUER (the provider's issuer URL)")
        return None
    if not issuer and env.get("OIDC_CLIENT_ID"):
        raise ValueError("the console's sign-in (OIDC_CLIENT_ID) needs OIDC_ISSUER, not only JWKS_URL")
    if env.get("OIDC_CLIENT_ID") and not env.get("OIDC_CLIENT_SECRET"):
        raise ValueError("the console's sign-in (OIDC_CLIENT_ID) needs OIDC_CLIENT_SECRET (a server-side client)")
    jwks_cache_s, jwks_cooldown_s = float(env.get("JWKS_CACHE_S", "300")), float(env.get("JWKS_COOLDOWN_S", "30"))
    if not jwks_cache_s > 0 or not jwks_cooldown_s >= 0:
        raise ValueError("JWKS_CACHE_S must be above 0 seconds and JWKS_COOLDOWN_S at least 0")
    return OidcSettings(
        issuer=issuer,
        jwks_url=jwks_url,
        discovery_url=env.get("OIDC_DISCOVERY_URL") or None,
        client_id=env.get("OIDC_CLIENT_ID") or None,
        client_secret=env.get("OIDC_CLIENT_SECRET") or None,
        redirect_url=env.get("OIDC_REDIRECT_URL") or None,
        scopes=env.get("OIDC_SCOPES") or "openid",
        jwks_cache_s=jwks_cache_s,
        jwks_cooldown_s=jwks_cooldown_s,
        timeout_s=float(env.get("OIDC_TIMEOUT_S", "5")),
        console_session_s=int(env.get("CONSOLE_SESSION_S", str(8 * 3600))),
    )


def _choice(env: dict[str, str], name: str, allowed: tuple[str, ...]) -> str:
    """The variable's value (case-insensitive) if it is one of `allowed`, else the first of them."""
    value = env.get(name, allowed[0]).lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _photo_store(url: str) -> str:
    """PHOTO_STORE must be file:// (the default folder), file:///absolute/folder or s3://bucket[/prefix]."""
    parts = urlsplit(url)
    if (parts.scheme == "file" and not parts.netloc) or (parts.scheme == "s3" and parts.netloc):
        return url
    raise ValueError(f"PHOTO_STORE {url!r} must look like file:// , file:///srv/photos or s3://bucket/prefix")


def _redis_url(url: str | None) -> str | None:
    """REDIS_URL must be redis://, rediss:// (TLS) or unix:// (a socket)."""
    if url is None or urlsplit(url).scheme in ("redis", "rediss", "unix"):
        return url
    raise ValueError(f"REDIS_URL {url!r} must look like redis://host:6379/0, rediss://… or unix:///path")


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build Settings from an environment mapping (os.environ by default)."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("DATA_DIR", "data")).resolve()
    qr_raw = env.get("QR_KEYS", DEV_QR_KEYS)
    qr_keys = _parse_keys(qr_raw)
    environment = env.get("SELFINSTALL_ENV") or None
    oidc = _load_oidc(env)
    jwt_algorithm = env.get("JWT_ALGORITHM") or ("RS256" if oidc else "HS256")
    if oidc and jwt_algorithm.startswith("HS"):  # a provider's keys are public: HMAC with one would be forgeable
        raise ValueError(f"JWT_ALGORITHM={jwt_algorithm} cannot verify with a provider's JWKS; use RS256 or ES256")
    role_claim = env.get("ROLE_CLAIM") or "role"
    if not all(role_claim.split(".")):
        raise ValueError(f"ROLE_CLAIM {role_claim!r} must be a dotted path of claim names, e.g. realm_access.roles")
    if environment not in (None, *ENVIRONMENTS):
        raise ValueError(f"SELFINSTALL_ENV must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}")
    origins = tuple(o for o in env.get("CORS_ORIGINS", "").split(",") if o)
    workers = int(env.get("WORKERS", "1"))
    # Threads beyond the cores only make every decode slower: share the cores out over the workers.
    cpu_threads = int(env.get("CPU_THREADS") or max(1, (os.cpu_count() or 1) // max(workers, 1)))
    in_flight = int(env.get("MAX_REQUESTS_IN_FLIGHT") or cpu_threads)
    return Settings(
        data_dir=data_dir,
        database_url=env.get("DATABASE_URL", f"sqlite:///{data_dir / 'selfinstall.sqlite3'}"),
        jwt_secret=env.get("JWT_SECRET", DEV_JWT_SECRET),
        jwt_algorithm=jwt_algorithm,
        jwt_issuer=env.get("JWT_ISSUER") or (oidc and oidc.issuer) or DEV_TOKEN_NAME,
        role_claim=role_claim,
        role_map=_parse_role_map(env.get("ROLE_MAP", "")),
        oidc=oidc,
        jwt_audience=env.get("JWT_AUDIENCE") or DEV_TOKEN_NAME,
        jwt_max_lifetime_s=int(env.get("JWT_MAX_LIFETIME_S", str(12 * 3600))),
        csrf_secret=env.get("CSRF_SECRET", DEV_CSRF_SECRET),
        environment=environment,
        qr_keys=qr_keys,
        qr_active_key=next(iter(qr_keys)),
        host=env.get("HOST", "127.0.0.1"),
        port=int(env.get("PORT", "8000")),
        workers=workers,
        max_photo_bytes=int(env.get("MAX_PHOTO_BYTES", str(25 * 1024 * 1024))),
        max_photo_pixels=int(env.get("MAX_PHOTO_PIXELS", "50000000")),
        body_read_timeout_s=float(env.get("BODY_READ_TIMEOUT_S", "30")),
        cors_origins=origins,
        rate_limit_per_minute=int(env.get("RATE_LIMIT_PER_MINUTE", "600")),
        redis_url=_redis_url(env.get("REDIS_URL") or None),
        redis_key_prefix=env.get("REDIS_KEY_PREFIX") or "selfinstall:",
        claim_failures_per_connection=int(env.get("CLAIM_FAILURES_PER_CONNECTION", "10")),
        db_connect_timeout_s=float(env.get("DB_CONNECT_TIMEOUT_S", "2")),
        db_lock_timeout_s=float(env.get("DB_LOCK_TIMEOUT_S", "3")),
        db_statement_timeout_s=float(env.get("DB_STATEMENT_TIMEOUT_S", "4")),
        cpu_threads=cpu_threads,
        cpu_queue=int(env.get("CPU_QUEUE") or cpu_threads),
        busy_retry_after_s=int(env.get("BUSY_RETRY_AFTER_S", "3")),
        max_requests_in_flight=in_flight,
        admission_wait_s=float(env.get("ADMISSION_WAIT_S", "2")),
        admission_queue=int(env.get("ADMISSION_QUEUE") or 4 * in_flight),
        idempotency_ttl_s=float(env.get("IDEMPOTENCY_TTL_S", str(24 * 3600))),
        idempotency_lease_s=float(env.get("IDEMPOTENCY_LEASE_S", "60")),
        file_sweep_interval_s=float(env.get("FILE_SWEEP_INTERVAL_S", "600")),
        orphan_grace_s=float(env.get("ORPHAN_GRACE_S", "3600")),
        upload_expiry_s=float(env.get("UPLOAD_EXPIRY_S", str(24 * 3600))),
        webhook_urls=tuple(u.strip() for u in env.get("WEBHOOK_URLS", "").split(",") if u.strip()),
        webhook_secret=env.get("WEBHOOK_SECRET", DEV_WEBHOOK_SECRET),
        webhook_interval_s=float(env.get("WEBHOOK_INTERVAL_S", "2")),
        webhook_max_age_s=float(env.get("WEBHOOK_MAX_AGE_S", str(3 * 24 * 3600))),
        **({"territory_path": Path(env["TERRITORY_PATH"])} if env.get("TERRITORY_PATH") else {}),
        policy_path=Path(env["POLICY_PATH"]) if env.get("POLICY_PATH") else None,
        photo_store=_photo_store(env.get("PHOTO_STORE") or "file://"),
        s3_endpoint_url=env.get("S3_ENDPOINT_URL") or None,
        s3_region=env.get("S3_REGION") or "us-east-1",
        s3_access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
        s3_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
        log_format=_choice(env, "LOG_FORMAT", LOG_FORMATS),
        log_level=_choice(env, "LOG_LEVEL", LOG_LEVELS),
        metrics_token=env.get("METRICS_TOKEN") or None,
        metrics_refresh_s=float(env.get("METRICS_REFRESH_S", "30")),
        prometheus_multiproc_dir=Path(env["PROMETHEUS_MULTIPROC_DIR"]) if env.get("PROMETHEUS_MULTIPROC_DIR") else None,
        forwarded_allow_ips=tuple(h.strip() for h in env.get("FORWARDED_ALLOW_IPS", "").split(",") if h.strip()),
        smtp_host=env.get("SMTP_HOST") or None,
        smtp_port=int(env.get("SMTP_PORT") or "587"),
        smtp_tls=_choice(env, "SMTP_TLS", SMTP_TLS_MODES),
        smtp_username=env.get("SMTP_USERNAME") or None,
        smtp_password=env.get("SMTP_PASSWORD") or None,
        smtp_from=env.get("SMTP_FROM") or "Selfinstall <noreply@localhost>",
        smtp_timeout_s=float(env.get("SMTP_TIMEOUT_S", "30")),
        notify_interval_s=float(env.get("NOTIFY_INTERVAL_S", "10")),
        notify_max_age_s=float(env.get("NOTIFY_MAX_AGE_S", str(2 * 24 * 3600))),
        unsubscribe_secret=env.get("UNSUBSCRIBE_SECRET", DEV_UNSUBSCRIBE_SECRET),
        public_url=(env.get("PUBLIC_URL") or f"http://{env.get('HOST', '127.0.0.1')}:{env.get('PORT', '8000')}").rstrip(
            "/"
        ),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
