"""Plain texts people send (places, comments, scenario names): one cleaning for all of them.

A text is normalised to Unicode NFC with line breaks as ``\\n``; control characters, bidirectional formatting and
invisible characters are removed and surrounding blanks trimmed. Nothing else changes: no HTML is parsed, stripped
or produced, so every client must render texts escaped (``textContent``, not ``innerHTML``).

Use the annotated types :data:`Line` (one line) and :data:`Text` (several lines) as pydantic field types; a text of
invisible characters only is empty after cleaning, so a field with ``min_length=1`` refuses it with a 422.

Example:
    >>> clean_line("Stadt\\u200bpark\\u202e \\n")
    'Stadtpark'
    >>> family = "\\U0001f468\\u200d\\U0001f469\\u200d\\U0001f467"
    >>> clean_line(f"Fam\\u200dilie {family}") == f"Familie {family}"
    True
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import BeforeValidator

# C0/C1 controls except tab and newline; the bidirectional marks, overrides and isolates that can make a text read
# differently on screen from what it says (Trojan Source); invisible characters that hide text from moderators and
# filters or make two equal-looking texts differ: zero-width space, joiners, word joiner and invisible operators,
# the byte order mark, soft hyphen, Mongolian vowel separator, and the tag characters (U+E0000-U+E007F) that can
# carry a whole hidden text.
# The zero-width joiner is kept only where it joins two emoji (👨‍👩‍👧 is one picture; without it, three).
_INVISIBLE = (
    r"\u00ad\u061c\u180e\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f"
)
_EMOJI = r"\u2600-\u27bf\ufe0f\U0001f000-\U0001faff"
_LOOSE_JOINER = rf"(?<![{_EMOJI}])\u200d|\u200d(?![{_EMOJI}])"
_UNSAFE = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE}]|{_LOOSE_JOINER}")
_UNSAFE_LINE = re.compile(rf"[\x00-\x1f\x7f-\x9f{_INVISIBLE}]|{_LOOSE_JOINER}")


def clean_text(value: Any) -> Any:
    """Normalise a multi-line text: NFC, ``\\r\\n`` and ``\\r`` to ``\\n``, unsafe characters removed, trimmed."""
    if not isinstance(value, str):
        return value  # pydantic's own type check names the field
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    return _UNSAFE.sub("", value).strip()


def clean_line(value: Any) -> Any:
    """Normalise a one-line text: like :func:`clean_text`, with line breaks and tabs turned into spaces."""
    if not isinstance(value, str):
        return value
    value = unicodedata.normalize("NFC", re.sub(r"[\r\n\t]+", " ", value))
    return _UNSAFE_LINE.sub("", value).strip()


Line = Annotated[str, BeforeValidator(clean_line)]
Text = Annotated[str, BeforeValidator(clean_text)]
