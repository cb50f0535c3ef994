"""SQL for the administration: moderation decisions, the queue, the moderation log and internal remarks.

Like :mod:`twin3d.participation.store`, every write is one unit of work of the live store's group commit and checks
before it writes. Remarks are internal: no public payload includes them.
"""

from __future__ import annotations

from typing import Any

from twin3d.errors import NotFoundError
from twin3d.participation import moderation
from twin3d.participation.model import ModerationIn
from twin3d.participation.store import PLACES, Family, iso, log_moderation, place_status
from twin3d.store.live import Cursor, LiveStore, utc_now


def moderate(
    store: LiveStore,
    place_id: int,
    decision: ModerationIn,
    *,
    moderator: str,
    comment_id: int | None = None,
    family: Family = PLACES,
) -> dict[str, Any]:
    """Apply a moderator's decision to a place or comment, resolve its open reports and log it.

    Raises:
        NotFoundError: no such place or comment.
        InputError: the action does not apply to the current status.
    """
    target = comment_id or 0
    now = utc_now()

    def work(cur: Cursor) -> dict[str, Any]:
        place_status(cur, place_id, moderation.ALL_STATUSES, family)
        if target:
            row = cur.execute(
                "SELECT status FROM comments WHERE comment_id = ? AND place_id = ?", [target, place_id]
            ).fetchone()
        else:
            row = cur.execute("SELECT status FROM places WHERE place_id = ?", [place_id]).fetchone()
        if row is None:
            raise NotFoundError(f"no {'comment' if target else 'place'} {target or place_id}")
        before = str(row[0])
        after = moderation.next_status(decision.action, before, comment=bool(target))
        if target:
            cur.execute("UPDATE comments SET status = ? WHERE comment_id = ?", [after, target])
        elif decision.action == "answer":
            cur.execute(
                "UPDATE places SET status = ?, answer = ?, answered_at = ?, updated_at = ? WHERE place_id = ?",
                [after, decision.answer, now, now, place_id],
            )
        else:
            cur.execute("UPDATE places SET status = ?, updated_at = ? WHERE place_id = ?", [after, now, place_id])
        cur.execute(
            "UPDATE reports SET resolved_at = ? WHERE place_id = ? AND comment_id = ? AND resolved_at IS NULL",
            [now, place_id, target],
        )
        log_moderation(
            cur,
            place_id,
            target,
            action=decision.action,
            change=(before, after),
            reason=decision.reason,
            by=moderator,
            at=now,
        )
        return {"place_id": place_id, "comment_id": comment_id, "from": before, "status": after}

    return store.write(work)


def queue(store: LiveStore, limit: int = 200) -> list[dict[str, Any]]:
    """What waits for a moderator, oldest first: new places, proposals and comments, and targets with open reports.

    Each item names its target (``kind`` idea: a proposal or a comment on one), status, a text excerpt, open
    reports with their reasons counted, report texts, and since when it waits.
    """
    rows = store.read(
        f"""
        WITH open AS (
            SELECT place_id, comment_id, count(*) AS reports, min(created_at) AS first_report
            FROM reports WHERE resolved_at IS NULL GROUP BY place_id, comment_id
        ), items AS (
            SELECT p.place_id, 0 AS comment_id, p.kind, p.status, p.title, substr(p.text, 1, 200) AS excerpt,
                   p.created_at
            FROM places AS p
            UNION ALL
            SELECT c.place_id, c.comment_id, p.kind, c.status, NULL, substr(c.text, 1, 200), c.created_at
            FROM comments AS c JOIN places AS p ON p.place_id = c.place_id
        ), waiting AS (
            SELECT i.place_id, i.comment_id, i.kind, i.status, i.title, i.excerpt, coalesce(o.reports, 0) AS reports,
                   CASE WHEN i.status = 'new' AND (o.first_report IS NULL OR i.created_at < o.first_report)
                        THEN i.created_at ELSE o.first_report END AS since
            FROM items AS i LEFT JOIN open AS o ON o.place_id = i.place_id AND o.comment_id = i.comment_id
            WHERE i.status = 'new' OR o.reports > 0
        )
        SELECT place_id, nullif(comment_id, 0) AS comment_id,
               CASE WHEN comment_id = 0 THEN 'place' ELSE 'comment' END AS type, kind,
               status, title, excerpt, reports, {store.dialect.iso("since")} AS waiting_since
        FROM waiting ORDER BY since, place_id, comment_id
        LIMIT ?
        """,
        [limit],
    )
    # Reasons counted and texts of the open reports: few, and only the administration asks.
    reasons: dict[tuple[int, int], dict[str, int]] = {}
    texts: dict[tuple[int, int], list[str]] = {}
    for report in store.read(
        "SELECT place_id, comment_id, reason, text FROM reports WHERE resolved_at IS NULL ORDER BY report_id"
    ):
        key = (int(report["place_id"]), int(report["comment_id"]))
        counted = reasons.setdefault(key, {})
        counted[report["reason"]] = counted.get(report["reason"], 0) + 1
        if report["text"]:
            texts.setdefault(key, []).append(report["text"])
    for row in rows:
        key = (int(row["place_id"]), int(row["comment_id"] or 0))
        row["reasons"] = reasons.get(key, {})
        row["report_texts"] = texts.get(key, [])
    return [{k: row[k] for k in _QUEUE_FIELDS} for row in rows]


_QUEUE_FIELDS = (
    "place_id", "comment_id", "type", "kind", "status", "title", "excerpt", "reports", "reasons", "report_texts",
    "waiting_since",
)  # fmt: skip


def moderation_log(store: LiveStore, place_id: int) -> list[dict[str, Any]]:
    """The moderation history of a place and its comments, oldest first."""
    return store.read(
        f"""
        SELECT nullif(comment_id, 0) AS comment_id, action, from_status, to_status, reason, moderator,
               {store.dialect.iso("created_at")} AS created_at
        FROM moderation_log WHERE place_id = ? ORDER BY entry_id
        """,
        [place_id],
    )


def add_remark(store: LiveStore, place_id: int, text: str, *, author: str) -> dict[str, Any]:
    """Add an internal remark of the administration to a place (any status)."""
    now = utc_now()

    def work(cur: Cursor) -> int:
        place_status(cur, place_id, moderation.ALL_STATUSES)
        row = cur.execute(
            "INSERT INTO remarks (place_id, text, author, created_at) VALUES (?, ?, ?, ?) RETURNING remark_id",
            [place_id, text, author, now],
        ).fetchone()
        assert row is not None
        return int(row[0])

    remark_id = store.write(work)
    return {"remark_id": remark_id, "place_id": place_id, "text": text, "author": author, "created_at": iso(now)}


def remarks(store: LiveStore, place_id: int) -> list[dict[str, Any]]:
    """The internal remarks on a place, oldest first (for the administration only)."""
    return store.read(
        f"SELECT remark_id, text, author, {store.dialect.iso('created_at')} AS created_at FROM remarks "
        "WHERE place_id = ? ORDER BY remark_id",
        [place_id],
    )
