"""The moderation policy: who sees which status, how a status may change, and when reports hide a place.

Statuses of a place: ``new`` (waiting for a moderator; only under pre-moderation), ``visible``, ``hidden`` and
``answered`` (visible, with the administration's official answer). Comments know ``new``, ``visible`` and ``hidden``.

- Pre-moderation: new places and comments start as ``new`` and are public only after a moderator shows them.
  Post-moderation: they are public at once, and the moderators review what is reported.
- Auto-hide: when the open (unresolved) reports of a visible place or comment reach the twin's
  ``auto_hide_reports``, it is hidden and waits in the queue. Answered places were reviewed by the administration and
  are queued, not hidden. A moderator's decision resolves the open reports, so a place shown again after review is
  hidden again only by as many new reports.
- Who sees what: the public and the council see ``visible`` and ``answered``; the council also gets the number of
  new and hidden places; the administration sees everything, with open report counts and internal remarks.
"""

from __future__ import annotations

from typing import Literal

from twin3d.errors import InputError

Mode = Literal["pre", "post"]
Action = Literal["show", "hide", "answer"]
PUBLIC_STATUSES = ("visible", "answered")
ALL_STATUSES = ("new", "visible", "hidden", "answered")
COMMENT_PUBLIC = ("visible",)
COMMENT_ALL = ("new", "visible", "hidden")

PLACE_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    # ``show`` on a visible place keeps it and dismisses its reports.
    "show": (frozenset({"new", "hidden", "visible"}), "visible"),
    "hide": (frozenset({"new", "visible", "answered"}), "hidden"),
    # A hidden place is shown before it is answered, so that answering never publishes by accident.
    "answer": (frozenset({"new", "visible", "answered"}), "answered"),
}
COMMENT_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "show": (frozenset({"new", "hidden", "visible"}), "visible"),
    "hide": (frozenset({"new", "visible"}), "hidden"),
}


def initial_status(mode: Mode) -> str:
    """The status a new place or comment starts with."""
    return "new" if mode == "pre" else "visible"


def place_statuses(role: str) -> tuple[str, ...]:
    """The place statuses ``role`` may see."""
    return ALL_STATUSES if role == "admin" else PUBLIC_STATUSES


def comment_statuses(role: str) -> tuple[str, ...]:
    """The comment statuses ``role`` may see."""
    return COMMENT_ALL if role == "admin" else COMMENT_PUBLIC


def next_status(action: str, status: str, *, comment: bool = False) -> str:
    """The status after a moderator's ``action``.

    Raises:
        InputError: the action does not apply to this status (or to comments).
    """
    table = COMMENT_TRANSITIONS if comment else PLACE_TRANSITIONS
    what = "comment" if comment else "place"
    if action not in table:
        raise InputError(f"a {what} cannot be given the action {action!r}", record="action", hint=", ".join(table))
    allowed, target = table[action]
    if status not in allowed:
        raise InputError(
            f"a {status} {what} cannot be given the action {action!r}",
            record="action",
            hint="show a hidden place before answering it" if action == "answer" else None,
        )
    return target


def auto_hides(status: str, open_reports: int, threshold: int) -> bool:
    """Whether ``open_reports`` hide a place or comment of ``status`` now."""
    return status == "visible" and open_reports >= threshold
