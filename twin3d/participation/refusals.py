"""The refusals a citizen can meet, in German and English, as errors the server answers with ``message: {de, en}``.

Every refusal of a participation route that a person (not a developer) may see is made here, so its wording is
kept in one place and in both languages of the viewer: the rate limits of participant tokens, posts, votes and
scenario submissions, and the answers to a workshop code. The English ``error`` and ``hint`` stay for developers.

Example:
    >>> limited("posts", 90.0).localized["de"]
    'Sie haben gerade viele Beiträge gesendet. Bitte versuchen Sie es in 2 Minuten wieder.'
"""

from __future__ import annotations

import math
from typing import Literal

from twin3d.errors import ConflictError, GoneError, InputError, RateLimitError

Limit = Literal[
    "participants",
    "posts",
    "votes",
    "votes_per_place",
    "workshop_codes",
    "workshop_posts",
    "workshop_votes",
    "scenarios",
    "survey_codes",
]

_LIMITS: dict[str, tuple[str, str]] = {
    "participants": (
        "Von diesem Netz haben gerade viele Personen eine Teilnahme begonnen. Bitte versuchen Sie es in {de} wieder. "
        "Sind Sie bei einer Veranstaltung? Dann geben Sie den Workshop-Code ein, den Sie dort bekommen haben.",
        "Many people have just started taking part from this network. Please try again in {en}. "
        "Are you at an event? Then enter the workshop code you were given there.",
    ),
    "posts": (
        "Sie haben gerade viele Beiträge gesendet. Bitte versuchen Sie es in {de} wieder.",
        "You have just sent many contributions. Please try again in {en}.",
    ),
    "votes": (
        "Sie haben gerade sehr oft abgestimmt. Bitte versuchen Sie es in {de} wieder.",
        "You have just voted very often. Please try again in {en}.",
    ),
    "votes_per_place": (
        "Von diesem Netz wurde heute schon oft über diesen Ort abgestimmt. Morgen ist es wieder möglich.",
        "This network has voted on this place often enough today. It is possible again tomorrow.",
    ),
    "workshop_codes": (
        "Von diesem Netz wurden zu viele falsche Workshop-Codes eingegeben. Bitte versuchen Sie es in {de} wieder.",
        "Too many wrong workshop codes were entered from this network. Please try again in {en}.",
    ),
    "workshop_posts": (
        "In diesem Workshop wurde gerade sehr viel gesendet. Bitte versuchen Sie es in {de} wieder.",
        "This workshop has just sent a great deal. Please try again in {en}.",
    ),
    "workshop_votes": (
        "In diesem Workshop wurde gerade sehr oft abgestimmt. Bitte versuchen Sie es in {de} wieder.",
        "This workshop has just voted very often. Please try again in {en}.",
    ),
    "scenarios": (
        "Es wurden gerade viele Szenarien berechnet. Bitte versuchen Sie es in {de} wieder.",
        "Many scenarios have just been calculated. Please try again in {en}.",
    ),
    "survey_codes": (
        "Von diesem Netz wurden zu viele falsche Codes eingegeben. Bitte versuchen Sie es in {de} wieder.",
        "Too many wrong codes were entered from this network. Please try again in {en}.",
    ),
}


def wait_text(seconds: float, lang: str) -> str:
    """A waiting time as a person reads it: ``30 Sekunden``, ``1 Minute``, ``2 Stunden`` (rounded up)."""
    s = max(1, math.ceil(seconds))
    if s < 60:
        n, de, en = s, ("Sekunde", "Sekunden"), ("second", "seconds")
    elif s < 5400:
        n, de, en = math.ceil(s / 60), ("Minute", "Minuten"), ("minute", "minutes")
    else:
        n, de, en = math.ceil(s / 3600), ("Stunde", "Stunden"), ("hour", "hours")
    words = de if lang == "de" else en
    return f"{n} {words[0] if n == 1 else words[1]}"


def limited(limit: Limit, retry_after: float, *, what: str | None = None, hint: str | None = None) -> RateLimitError:
    """The 429 of a rate limit, with the citizen's message in both languages.

    Args:
        limit: which limit was reached (also the error's ``reason``).
        retry_after: seconds until the next request can succeed.
        what: the English name of what was limited, for ``error``; default: the limit's name.
        hint: the English hint (the limit's size).
    """
    de, en = _LIMITS[limit]
    return RateLimitError(
        f"too many {what or limit.replace('_', ' ')}; please wait a moment",
        retry_after=retry_after,
        hint=hint,
        reason=limit,
        localized={
            "de": de.format(de=wait_text(retry_after, "de")),
            "en": en.format(en=wait_text(retry_after, "en")),
        },
    )


def workshop_unknown() -> InputError:
    """A workshop code that names no open workshop of this twin (422, ``record: workshop_code``)."""
    return InputError(
        "unknown workshop code",
        record="workshop_code",
        hint="check the code you were given; an administrator lists the workshops",
        reason="workshop_unknown",
        localized={
            "de": "Diesen Workshop-Code gibt es nicht. Bitte prüfen Sie die Schreibweise.",
            "en": "There is no workshop with this code. Please check how it is written.",
        },
    )


def workshop_full(label: str, quota: int) -> ConflictError:
    """A workshop whose quota of participants is used up (409)."""
    return ConflictError(
        f"the workshop {label!r} is full: its quota of {quota} participants is used up",
        record="workshop_code",
        hint="an administrator can issue a new code with a larger quota",
        reason="workshop_full",
        localized={
            "de": f"Der Workshop „{label}“ ist voll: Alle {quota} Plätze sind vergeben. Bitte wenden Sie sich an die "
            "Moderation der Veranstaltung.",
            "en": f"The workshop “{label}” is full: all {quota} places are taken. Please ask the event's hosts.",
        },
    )


def workshop_expired(label: str, expired_at: str) -> GoneError:
    """A workshop code whose time is over (410)."""
    return GoneError(
        f"the workshop code of {label!r} expired at {expired_at}",
        record="workshop_code",
        hint="an administrator can issue a new code",
        reason="workshop_expired",
        localized={
            "de": f"Der Workshop-Code für „{label}“ ist abgelaufen. Sie können ohne Code teilnehmen.",
            "en": f"The workshop code for “{label}” has expired. You can take part without a code.",
        },
    )
