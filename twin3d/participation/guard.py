"""Who may write how often: the rate limits of participation and scenario submissions, in one place.

The rules, in full (rates are token buckets, :class:`twin3d.participation.ratelimit.Rate`):

- A client address counts only as its keyed daily hash (:class:`AddressHasher`), made here for both places and
  scenarios; the address itself comes from :func:`twin3d.server.proxies.client_address`.
- New participant tokens: ``participants_per_hour`` per address. With a valid workshop code instead: no limit per
  address, but the workshop's quota (counted in the live store) and its expiry. Wrong codes: a few per address
  (``workshop_code_attempts_*``), so codes cannot be guessed.
- Places, comments, reports: ``posts_per_minute`` per address and ``participant_posts_per_minute`` per token.
  Votes: ``votes_per_minute`` per address and per token.
- A participant of an open workshop shares the room's address with everyone in it: instead of the per-address
  buckets it is limited per token and by one bucket per workshop, the per-address bucket times the quota.
- Scenario submissions: the public per address and per participant token (``TWIN3D_SCENARIO_per_hour``); the
  council and the administration per user, with a much larger allowance.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from twin3d.participation.ratelimit import AddressHasher, Rate, RateLimiter, load_or_create_secret
from twin3d.participation.refusals import Limit, limited, workshop_expired, workshop_unknown
from twin3d.participation.workshops import Workshop, WorkshopRegistry
from twin3d.settings import ParticipationSettings, ScenarioSettings

Action = Literal["post", "vote"]
_LIMITS: dict[str, tuple[Limit, Limit]] = {"post": ("posts", "workshop_posts"), "vote": ("votes", "workshop_votes")}


class Guard:
    """Address hashes and rate limits for every twin of one server.

    Args:
        settings: the participation limits.
        scenarios: the scenario submission limits.
        key_file: the secret file for address hashes of a twin.
        workshops: the workshop codes.
        limiter: the rate limiter (tests pass one with a fake clock).
    """

    def __init__(
        self,
        settings: ParticipationSettings,
        scenarios: ScenarioSettings,
        key_file: Callable[[str], Path],
        workshops: WorkshopRegistry,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings
        self.scenarios = scenarios
        self.key_file = key_file
        self.workshops = workshops
        self.limiter = limiter if limiter is not None else RateLimiter()  # an empty limiter is falsy (len 0)
        self._hashers: dict[str, AddressHasher] = {}
        self._lock = threading.Lock()
        s = settings
        self.rates = {
            "post": Rate(s.posts_per_minute, s.posts_burst),
            "participant_post": Rate(s.participant_posts_per_minute, s.participant_posts_burst),
            "vote": Rate(s.votes_per_minute, s.votes_burst),
            "participant_vote": Rate(s.votes_per_minute, s.votes_burst),
            "participant": Rate(s.participants_per_hour / 60.0, s.participants_burst),
            "workshop_code": Rate(s.workshop_code_attempts_per_hour / 60.0, s.workshop_code_attempts_burst),
            "scenario": Rate(scenarios.per_hour / 60.0, scenarios.burst),
            "scenario_user": Rate(scenarios.council_per_hour / 60.0, scenarios.council_burst),
        }

    def address(self, twin: str, client: str) -> str:
        """The keyed daily hash of a client address for ``twin``."""
        with self._lock:
            if twin not in self._hashers:
                self._hashers[twin] = AddressHasher(load_or_create_secret(self.key_file(twin)))
            hasher = self._hashers[twin]
        return hasher(client)

    def new_participant(self, twin: str, ip_hash: str, code: str | None) -> Workshop | None:
        """Check a request for a new participant token; returns the workshop it joins (its quota is the store's).

        Raises:
            RateLimitError: too many new tokens, or too many wrong codes, from this address (429).
            InputError: the code names no workshop of this twin (422).
            GoneError: the workshop's code has expired (410).
        """
        if code is None:
            rate = self.rates["participant"]
            self.limiter.check((twin, "participant", ip_hash), rate, "new participant tokens", "participants")
            return None
        key, rate = (twin, "workshop_code", ip_hash), self.rates["workshop_code"]
        wait = self.limiter.wait(key, rate)
        if wait > 0:
            raise limited("workshop_codes", wait, what="wrong workshop codes", hint=f"at most {rate.burst} at once")
        workshop = self.workshops.by_code(twin, code)
        if workshop is None:
            self.limiter.take(key, rate)
            raise workshop_unknown()
        if workshop.expired():
            raise workshop_expired(workshop.label, workshop.expires_at)
        return workshop

    def open_workshop(self, workshop_id: str | None) -> Workshop | None:
        """The workshop a participant joined, while it is issued and not expired; else None."""
        if workshop_id is None:
            return None
        workshop = self.workshops.by_id(workshop_id)
        return workshop if workshop is not None and not workshop.expired() else None

    def write(
        self, twin: str, action: Action, ip_hash: str, participant: str | None, workshop: Workshop | None
    ) -> None:
        """Take the tokens of one write (see the module docstring).

        Raises:
            RateLimitError: a bucket is empty (429, with the citizen's message).
        """
        what, shared_limit = _LIMITS[action]
        base = self.rates[action]
        if workshop is None:
            self.limiter.check((twin, action, ip_hash), base, what, what)
        else:
            shared = Rate(base.per_minute * workshop.quota, base.burst * workshop.quota)
            key = (twin, f"workshop_{action}", workshop.workshop_id)
            self.limiter.check(key, shared, f"{what} of one workshop", shared_limit)
        if participant is not None:
            per_token = self.rates[f"participant_{action}"]
            self.limiter.check((twin, f"participant_{action}", participant), per_token, what, what)

    def scenario(self, twin: str, ip_hash: str, participant: str | None, *, role: str, user: str | None) -> None:
        """Take the tokens of a new scenario: per user for the council and administration, else per address and
        per participant token.

        Raises:
            RateLimitError: a bucket is empty (429).
        """
        if role in ("council", "admin") and user is not None:
            self.limiter.check((twin, "scenario_user", user), self.rates["scenario_user"], "scenarios", "scenarios")
            return
        self.limiter.check((twin, "scenario", ip_hash), self.rates["scenario"], "scenarios", "scenarios")
        if participant is not None:
            self.limiter.check(
                (twin, "scenario_participant", participant), self.rates["scenario"], "scenarios", "scenarios"
            )
