"""The API rate limit: RATE_LIMIT_PER_MINUTE requests per principal in a fixed one-minute window,
counted in Redis (REDIS_URL) so that it holds across workers, hosts and restarts; without REDIS_URL
each worker counts in its own memory (the embedded default: `make run` needs no Redis).

Who is counted: the verified principal ("customer:cust-anna"). The bearer middleware runs before this
one and sets scope["user"] only for a token it verified; a token that fails gets its 401 there, before
it is counted. Requests without a token (the console's pages, /schema) are counted by the client
address, which backend/access.py has already taken from X-Forwarded-For when the peer is a trusted
proxy (FORWARDED_ALLOW_IPS); an IPv6 address by its /64, the block one subscriber gets. So users
behind one carrier NAT each have their own bucket, and one user over many addresses has one.

Not Litestar's RateLimitMiddleware with its RedisStore: it reads a key's history and writes it back,
under a lock of one process only, so two workers racing each let the limit through (measured: 20 of
40 simultaneous requests on two apps passed a limit of 10). Here one Lua script increments the count
and sets its expiry atomically: one round trip, no lock.

Redis unreachable: the worker counts in its own memory for REDIS_RETRY_S, then tries Redis again; it
logs a warning when Redis goes and when it is back, and counts each failure in
selfinstall_rate_limit_store_errors_total. A limiter protects the service; it must not become its
single point of failure (503 for everyone) nor turn off (the limit is only looser by the number of
workers while Redis is away). Keys hold a hash of the principal or address, not the value: Redis
need not keep personal data.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable

from litestar.types import ASGIApp, Receive, Scope, Send
from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from backend.admission import EXEMPT_PREFIXES  # one list: never counted, never refused
from backend.errors import TooManyRequests
from backend.principal import Principal

log = logging.getLogger(__name__)

WINDOW_S = 60
REDIS_TIMEOUT_S = 0.5  # a round trip is well under a millisecond on a LAN; a stuck Redis must not hold requests
REDIS_RETRY_S = 5.0  # after a failure, count locally this long before trying Redis again

STORE_ERRORS = Counter(
    "selfinstall_rate_limit_store_errors",
    "Rate-limit counts Redis did not answer (the worker then counted in its own memory).",
)

# INCR, and an expiry on a count that has none (a new window): atomic, so every worker sees every hit.
_HIT = """
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""


def identity(scope: Scope) -> str:
    """Whom a request counts against: its verified principal, else its client address."""
    user = scope.get("user")
    if isinstance(user, Principal):
        return f"{user.role.value}:{user.subject}"
    client = scope.get("client")
    host = client[0] if client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"address:{host}"
    if address.version == 6:
        return f"address:{ipaddress.ip_network((address, 64), strict=False)}"
    return f"address:{address}"


def bucket_key(who: str) -> str:
    """The counter's key (a hash: no subject or address stored in Redis)."""
    return "rl:" + hashlib.sha256(who.encode()).hexdigest()[:32]


class MemoryCounter:
    """Fixed windows in this process: the embedded default, and the fallback while Redis is away."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[int, float]] = {}
        self._next_prune = 0.0

    async def hit(self, key: str, window_s: int) -> tuple[int, int]:
        """Count a request; the count in its window and the seconds until the window ends."""
        now = self._clock()
        if now >= self._next_prune:  # forget ended windows once a window, so memory follows the traffic
            self._windows = {k: w for k, w in self._windows.items() if w[1] > now}
            self._next_prune = now + window_s
        count, ends = self._windows.get(key, (0, 0.0))
        if ends <= now:
            count, ends = 0, now + window_s
        self._windows[key] = (count + 1, ends)
        return count + 1, max(1, math.ceil(ends - now))


class RedisCounter:
    """Fixed windows in Redis, shared by every worker that names the same server and prefix."""

    def __init__(self, url: str, prefix: str) -> None:
        self._redis = Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S)
        self._script = self._redis.register_script(_HIT)
        self._prefix = prefix

    async def hit(self, key: str, window_s: int) -> tuple[int, int]:
        """Count a request; the count in its window and the seconds until the window ends."""
        count, ttl = await self._script(keys=[self._prefix + key], args=[window_s])
        return int(count), max(1, int(ttl))

    async def aclose(self) -> None:
        await self._redis.aclose()


class Limiter:
    """Counts each request against its principal (or address) and refuses past the limit."""

    def __init__(
        self, per_minute: int, redis_url: str | None, prefix: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self.local = MemoryCounter(clock)
        self.shared = RedisCounter(redis_url, prefix) if redis_url else None
        self._redis_retry_at = 0.0
        self._redis_down = False

    async def admit(self, scope: Scope) -> None:
        """Count the request; 429 request/rate-limited with Retry-After once over the limit."""
        count, reset_s = await self._hit(bucket_key(identity(scope)))
        if count > self.per_minute:
            raise TooManyRequests("request/rate-limited", retry_after_s=reset_s)

    async def _hit(self, key: str) -> tuple[int, int]:
        if self.shared is not None and self._clock() >= self._redis_retry_at:
            try:
                result = await self.shared.hit(key, WINDOW_S)
            except (RedisError, OSError) as exc:  # refused, reset, timed out (TimeoutError is an OSError)
                STORE_ERRORS.inc()
                self._redis_retry_at = self._clock() + REDIS_RETRY_S
                if not self._redis_down:
                    log.warning("rate limit: Redis unreachable (%s); counting in this worker", type(exc).__name__)
                self._redis_down = True
            else:
                if self._redis_down:
                    log.warning("rate limit: Redis answers again; counting across workers")
                self._redis_down = False
                return result
        return await self.local.hit(key, WINDOW_S)

    async def aclose(self) -> None:
        """Close the connections to Redis (the app's lifespan)."""
        if self.shared is not None:
            await self.shared.aclose()


class RateLimit:
    """ASGI middleware: the limiter, after authentication, for every HTTP request but the exempt paths."""

    def __init__(self, app: ASGIApp, limiter: Limiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(EXEMPT_PREFIXES):
            await self.limiter.admit(scope)
        await self.app(scope, receive, send)
