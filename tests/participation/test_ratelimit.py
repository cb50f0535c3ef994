"""Token buckets with a fake clock, and client addresses that are never kept: keyed, daily hashes."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from twin3d.errors import RateLimitError
from twin3d.participation.ratelimit import (
    AddressHasher,
    Rate,
    RateLimiter,
    load_or_create_secret,
    seconds_to_midnight,
    token_hash,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    rate = Rate(per_minute=6, burst=3)  # one token every 10 s
    assert [limiter.take("ip", rate) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("ip", rate) == pytest.approx(10.0)
    assert limiter.take("other ip", rate) == 0.0  # buckets are per key
    clock.now += 5
    assert limiter.take("ip", rate) == pytest.approx(5.0)
    clock.now += 5
    assert limiter.take("ip", rate) == 0.0


def test_check_raises_with_retry_after() -> None:
    limiter = RateLimiter(Clock())
    rate = Rate(per_minute=1, burst=1)
    limiter.check("k", rate, "posts")
    with pytest.raises(RateLimitError) as exc:
        limiter.check("k", rate, "posts")
    assert exc.value.retry_after == pytest.approx(60.0)
    assert "posts" in exc.value.message


def test_full_buckets_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(clock, prune_every=10)
    rate = Rate(per_minute=60, burst=2)
    for i in range(9):
        limiter.take(f"ip{i}", rate)
    assert len(limiter) == 9
    clock.now += 60  # everyone refilled
    limiter.take("last", rate)
    assert len(limiter) == 1


def test_addresses_are_hashed_with_a_secret_and_the_day() -> None:
    day = [date(2025, 5, 1)]
    hasher = AddressHasher(b"s" * 32, today=lambda: day[0])
    first = hasher("192.0.2.7")
    assert len(first) == 32
    assert "192" not in first
    assert hasher("192.0.2.7") == first
    assert hasher("192.0.2.8") != first
    assert AddressHasher(b"t" * 32, today=lambda: day[0])("192.0.2.7") != first  # keyed: another twin differs
    day[0] = date(2025, 5, 2)
    assert hasher("192.0.2.7") != first  # a new day cannot be linked to the last


def test_the_secret_is_created_once_and_private(tmp_path: Path) -> None:
    key = tmp_path / "var" / "lauf.participation-key"
    secret = load_or_create_secret(key)
    assert len(secret) == 32
    assert load_or_create_secret(key) == secret
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_tokens_are_stored_as_sha256_and_days_end_at_utc_midnight() -> None:
    assert token_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert seconds_to_midnight(datetime(2025, 5, 1, 23, 59, 0, tzinfo=UTC)) == 60
