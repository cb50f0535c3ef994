"""Rate limits in memory (token buckets), and the keyed hash that stands in for a client's address.

A client address is personal data. It is hashed at once with HMAC-SHA256 under a key derived from the twin's secret
and the day (UTC), and only that hash is used, for rate limits and in the live store: the raw address is never kept,
and hashes of different days cannot be linked. Without the secret file nobody can test addresses against a hash.

Example:
    >>> limiter = RateLimiter()
    >>> limiter.take(("post", "a1b2"), Rate(per_minute=6, burst=2))
    0.0
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from twin3d.errors import RateLimitError
from twin3d.participation.refusals import Limit, limited
from twin3d.secretfile import read_or_create_secret

SECRET_BYTES = 32


@dataclass(frozen=True)
class Rate:
    """A token bucket: ``burst`` requests at once, refilled at ``per_minute``."""

    per_minute: float
    burst: int

    @property
    def per_second(self) -> float:
        """Refill per second."""
        return self.per_minute / 60.0


class RateLimiter:
    """Token buckets per key, thread-safe; full buckets are forgotten so memory stays bounded by active clients.

    Args:
        clock: monotonic seconds (tests pass a fake one).
        prune_every: how many calls between sweeps for full buckets.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, prune_every: int = 10_000) -> None:
        self._clock = clock
        self._buckets: dict[Hashable, tuple[float, float, Rate]] = {}
        self._lock = threading.Lock()
        self._calls = 0
        self._prune_every = prune_every

    def take(self, key: Hashable, rate: Rate) -> float:
        """Take one token for ``key``.

        Returns:
            0.0 if the request may go ahead (a token was taken), else the seconds until one will be there.
        """
        now = self._clock()
        with self._lock:
            self._calls += 1
            if self._calls % self._prune_every == 0:
                self._prune(now)
            tokens, last, _ = self._buckets.get(key, (float(rate.burst), now, rate))
            tokens = min(float(rate.burst), tokens + (now - last) * rate.per_second)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now, rate)
                return (1.0 - tokens) / rate.per_second
            self._buckets[key] = (tokens - 1.0, now, rate)
            return 0.0

    def wait(self, key: Hashable, rate: Rate) -> float:
        """Seconds until ``key`` has a token (0.0: one is there), without taking it."""
        now = self._clock()
        with self._lock:
            tokens, last, _ = self._buckets.get(key, (float(rate.burst), now, rate))
        tokens = min(float(rate.burst), tokens + (now - last) * rate.per_second)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate.per_second

    def check(self, key: Hashable, rate: Rate, what: str, limit: Limit | None = None) -> None:
        """Take one token for ``key`` or raise.

        Args:
            key: whose bucket.
            rate: its size and refill.
            what: the English name of what is limited.
            limit: the refusal a citizen reads (:mod:`twin3d.participation.refusals`), in German and English.

        Raises:
            RateLimitError: no token left; ``retry_after`` says when there will be one.
        """
        wait = self.take(key, rate)
        if wait > 0:
            hint = f"at most {rate.burst} at once and {rate.per_minute:g} per minute"
            if limit is not None:
                raise limited(limit, wait, what=what, hint=hint)
            raise RateLimitError(f"too many {what}; please wait a moment", retry_after=wait, hint=hint)

    def _prune(self, now: float) -> None:
        full = [
            k
            for k, (tokens, last, rate) in self._buckets.items()
            if tokens + (now - last) * rate.per_second >= rate.burst
        ]
        for key in full:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


def load_or_create_secret(path: Path) -> bytes:
    """The twin's secret for address hashes: read, or created with random bytes readable only by the owner (the
    same for every worker that starts at once: :func:`twin3d.secretfile.read_or_create_secret`)."""
    return read_or_create_secret(path, size=SECRET_BYTES)


class AddressHasher:
    """Keyed, daily-salted hashes of client addresses.

    Args:
        secret: the twin's secret (:func:`load_or_create_secret`).
        today: the current UTC day (tests pass a fake one).
    """

    def __init__(self, secret: bytes, today: Callable[[], date] = lambda: datetime.now(UTC).date()) -> None:
        self._secret = secret
        self._today = today
        self._day: date | None = None
        self._day_key = b""
        self._lock = threading.Lock()

    def __call__(self, address: str) -> str:
        """The hash of ``address`` for today: 32 hex digits."""
        day = self._today()
        with self._lock:
            if day != self._day:
                self._day_key = hmac.new(self._secret, f"day:{day.isoformat()}".encode(), hashlib.sha256).digest()
                self._day = day
            key = self._day_key
        return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


def seconds_to_midnight(now: datetime | None = None) -> float:
    """Seconds until the next UTC day, when daily address hashes change."""
    now = now or datetime.now(UTC)
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return (tomorrow - now).total_seconds()


def token_hash(token: str) -> str:
    """SHA-256 (hex) of a token: what is stored instead of it."""
    return hashlib.sha256(token.encode()).hexdigest()
