"""Rate limits, per replica: requests per principal, and failed authentications per address.

- Each principal (a token, a session, an OpenID Connect subject) has a token bucket: `rate`
  requests a second on average, bursts of up to `burst`. Adapters get their own, much larger
  bucket, since a CAD feed catching up after an outage posts thousands of batches at once.
- Each client address has a bucket of failed authentications (a bad token, an ended session):
  `auth_failure_limit` of them per `auth_failure_window_seconds`. Once it is empty, that
  address's credentialed requests are answered 429 without a look-up until it refills, so a
  token-guessing storm costs neither database reads nor reject-store rows.
- Buckets live in memory, bounded: an idle bucket that has refilled is the same as none and is
  dropped, and past `max_keys` the least recently used go first.

A request without any credential is not a failed attempt (it is answered 401 at no cost).
Loopback addresses are exempt from the failure limit: they are processes on the service's own
host (an adapter, the CLI, a health check), and behind a proxy on the same host uvicorn takes
the client's address from X-Forwarded-For (its --forwarded-allow-ips, 127.0.0.1 by default).
The time source is injectable (`Limits.clock`), so tests step time instead of sleeping.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from fastapi import HTTPException
from starlette.requests import HTTPConnection

from service.settings import Settings
from service.store.tokens import Principal

K = TypeVar("K", bound=Hashable)
MAX_KEYS = 100_000
# Eviction looks at a few of the least recently used buckets per call: amortised O(1).
SWEEP = 8


@dataclass(slots=True)
class Bucket:
    level: float
    at: float
    rate: float
    burst: float

    def refill(self, now: float) -> None:
        self.level = min(self.burst, self.level + (now - self.at) * self.rate)
        self.at = now

    def idle(self, now: float) -> bool:
        return self.level + (now - self.at) * self.rate >= self.burst


class Buckets(Generic[K]):
    """Token buckets by key, least recently used first."""

    def __init__(self, clock: Callable[[], float], max_keys: int = MAX_KEYS) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[K, Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def _bucket(self, key: K, rate: float, burst: float) -> Bucket:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._evict(now)
            bucket = self._buckets[key] = Bucket(burst, now, rate, burst)
        else:
            self._buckets.move_to_end(key)
            bucket.rate, bucket.burst = rate, burst
            bucket.refill(now)
        return bucket

    def take(self, key: K, rate: float, burst: float) -> float:
        """Spend one token: 0.0 if there was one, else the seconds until there will be."""
        bucket = self._bucket(key, rate, burst)
        if bucket.level >= 1.0:
            bucket.level -= 1.0
            return 0.0
        return (1.0 - bucket.level) / rate

    def wait(self, key: K) -> float:
        """Seconds until `key` has a token again (0.0: it has one now), spending nothing."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        bucket.refill(self.clock())
        return 0.0 if bucket.level >= 1.0 else (1.0 - bucket.level) / bucket.rate

    def _evict(self, now: float) -> None:
        for _ in range(SWEEP):
            if not self._buckets:
                return
            key, oldest = next(iter(self._buckets.items()))
            if not oldest.idle(now) and len(self._buckets) < self.max_keys:
                return
            del self._buckets[key]


class Throttled(HTTPException):
    """429 with `Retry-After` (whole seconds, rounded up) and a message saying which limit."""

    def __init__(self, seconds: float, detail: str) -> None:
        retry = max(1, math.ceil(seconds))
        super().__init__(429, f"{detail}; retry after {retry} s", {"Retry-After": str(retry)})


class Limits:
    """The replica's buckets and the settings that size them."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.principals: Buckets[Principal] = Buckets(clock)
        self.addresses: Buckets[str] = Buckets(clock)

    @property
    def clock(self) -> Callable[[], float]:
        return self.principals.clock

    @clock.setter
    def clock(self, clock: Callable[[], float]) -> None:
        self.principals.clock = self.addresses.clock = clock

    def admit(self, principal: Principal) -> None:
        """Count one request of `principal`; Throttled when over its role's limit."""
        s = self.settings
        adapter = principal.role == "adapter"
        rate = s.rate_limit_adapter_per_second if adapter else s.rate_limit_per_second
        burst = s.rate_limit_adapter_burst if adapter else s.rate_limit_burst
        if rate <= 0:
            return
        wait = self.principals.take(principal, rate, max(1.0, burst))
        if wait:
            raise Throttled(wait, f"rate limit of {rate:g} requests/s (bursts of {burst}) reached")

    def check_address(self, address: str | None) -> None:
        """Throttled while `address` has used up its failed authentications."""
        if address is None or not _counted(address) or self.settings.auth_failure_limit <= 0:
            return
        wait = self.addresses.wait(address)
        if wait:
            raise Throttled(wait, "too many failed authentications from this address")

    def failed(self, address: str | None) -> None:
        """Count one failed authentication from `address`."""
        s = self.settings
        if address is None or not _counted(address) or s.auth_failure_limit <= 0:
            return
        rate = s.auth_failure_limit / s.auth_failure_window_seconds
        self.addresses.take(address, rate, s.auth_failure_limit)

    async def guard(
        self,
        address: str | None,
        presented: bool,
        identify: Callable[[], Awaitable[Principal]],
    ) -> Principal:
        """`identify()`'s principal, within both limits. A 401 it raises for a presented
        credential counts against the address."""
        if not presented:
            return await identify()
        self.check_address(address)
        try:
            principal = await identify()
        except HTTPException as exc:
            if exc.status_code == 401:
                self.failed(address)
            raise
        self.admit(principal)
        return principal


@functools.lru_cache(maxsize=4096)
def _counted(address: str) -> bool:
    """Whether failures from `address` count (not loopback); remembered, as it is asked on
    every credentialed request."""
    try:
        return not ipaddress.ip_address(address).is_loopback
    except ValueError:
        return True


def client_address(connection: HTTPConnection) -> str | None:
    """The caller's address (behind a proxy, uvicorn's --forwarded-allow-ips makes it the
    client's, from X-Forwarded-For)."""
    return connection.client.host if connection.client is not None else None
