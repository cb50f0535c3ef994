"""The keyed hashes that stand in for a person: of an e-mail address, of an invitation code; and the codes themselves.

An address is personal data: it is used once, to send the confirmation mail, and kept only as
``HMAC-SHA256(key, survey id + address)``. The key is derived from the twin's participation secret (the file the
guard reads for address hashes, :func:`twin3d.participation.ratelimit.load_or_create_secret`) under a label of its
own, so it differs from the daily keys of client addresses and lives no longer than that secret; the survey id in
the message keeps the hashes of two surveys apart. Without the secret nobody can test an address against a hash.

Invitation codes are ten characters of Crockford's base 32 (50 random bits; no I, L, O, U), printed as
``XXXXX-XXXXX``; typing them in lower case, with blanks, or with O for 0 and I or L for 1 still works. They are
kept as keyed hashes as well, so a copy of the store gives no usable code.

Example:
    >>> normalise_code(" k7qm2-9xh4o ")
    'K7QM29XH40'
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
CODE_LENGTH = 10
_LABEL = b"twin3d survey persons v1"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def survey_key(participation_secret: bytes) -> bytes:
    """The key of the survey hashes of a twin, derived from its participation secret."""
    return hmac.new(participation_secret, _LABEL, hashlib.sha256).digest()


def address_hash(key: bytes, survey_id: int, address: str) -> str:
    """The keyed hash of a (normalised) e-mail address for one survey: 64 hex digits."""
    return hmac.new(key, f"email\x00{survey_id}\x00{address}".encode(), hashlib.sha256).hexdigest()


def code_hash(key: bytes, survey_id: int, code: str) -> str:
    """The keyed hash of a (normalised) invitation code of one survey: 64 hex digits."""
    return hmac.new(key, f"code\x00{survey_id}\x00{code}".encode(), hashlib.sha256).hexdigest()


def normalise_code(text: str) -> str:
    """A code as typed, in the form it was hashed: upper case, blanks and dashes left out, O read as 0, I/L as 1."""
    return "".join(ch for ch in text.upper() if ch.isalnum()).translate(_READ_AS)


def new_code() -> str:
    """A random code (normalised form)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def printed(code: str) -> str:
    """A code as printed: ``XXXXX-XXXXX``."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def token_digest(token: str) -> str:
    """SHA-256 (hex) of a confirmation token: what the store keeps instead of it."""
    return hashlib.sha256(token.encode()).hexdigest()
