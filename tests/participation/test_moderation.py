"""The moderation policy: start statuses, allowed transitions, auto-hide, the queue, and who sees what."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from twin3d.errors import InputError, NotFoundError
from twin3d.participation import moderation, review
from twin3d.participation import store as sql
from twin3d.participation.model import CommentIn, ModerationIn, PlaceIn, ReportIn
from twin3d.settings import LiveSettings
from twin3d.store.live import LiveStore, open_live_store

PUBLIC = moderation.place_statuses("public")
ADMIN = moderation.place_statuses("admin")


def test_pre_and_post_moderation_start_differently() -> None:
    assert moderation.initial_status("pre") == "new"
    assert moderation.initial_status("post") == "visible"


def test_roles_see_statuses() -> None:
    assert PUBLIC == moderation.place_statuses("council") == ("visible", "answered")
    assert set(ADMIN) == {"new", "visible", "hidden", "answered"}
    assert moderation.comment_statuses("public") == ("visible",)


@pytest.mark.parametrize(
    ("action", "status", "after"),
    [
        ("show", "new", "visible"),
        ("show", "hidden", "visible"),
        ("hide", "answered", "hidden"),
        ("answer", "new", "answered"),
    ],
)
def test_allowed_transitions(action: str, status: str, after: str) -> None:
    assert moderation.next_status(action, status) == after


def test_refused_transitions() -> None:
    with pytest.raises(InputError, match="show a hidden place before answering"):
        moderation.next_status("answer", "hidden")
    with pytest.raises(InputError):
        moderation.next_status("answer", "visible", comment=True)


def test_auto_hide_only_hides_visible_targets() -> None:
    assert moderation.auto_hides("visible", 3, 3)
    assert not moderation.auto_hides("visible", 2, 3)
    assert not moderation.auto_hides("answered", 10, 3)  # reviewed by the administration: queued, not hidden


@pytest.fixture
def store(tmp_path: Path, live_settings: LiveSettings) -> Iterator[LiveStore]:
    live = open_live_store(tmp_path, "t", live_settings)
    for i in range(4):
        sql.add_participant(live, f"p{i}", "ip")
    yield live
    live.close()  # a PostgreSQL pool left to the garbage collector would be closed in its own worker thread


def _place(store: LiveStore, status: str = "visible") -> int:
    body = PlaceIn.model_validate(
        {"kind": "happy", "category": "green", "title": "Park", "text": "Schön", "location": {"lon": 11, "lat": 49}}
    )
    return int(sql.add_place(store, body, sql.Author("p0", "ip"), status=status, h3_10=1, height=None)["place_id"])


def test_reports_hide_a_place_after_n_and_a_moderator_resolves_them(store: LiveStore) -> None:
    place_id = _place(store)
    spam = ReportIn.model_validate({"reason": "spam", "text": "Werbung"})
    first = sql.add_report(store, place_id, spam, sql.Author("p1", "ip"), statuses=PUBLIC, threshold=2)
    assert first == {"report_id": first["report_id"], "created": True, "hidden": False}
    again = sql.add_report(store, place_id, spam, sql.Author("p1", "ip"), statuses=PUBLIC, threshold=2)
    assert not again["created"]  # one report per participant and target
    second = sql.add_report(store, place_id, spam, sql.Author("p2", "ip"), statuses=PUBLIC, threshold=2)
    assert second["hidden"]
    assert sql.place(store, place_id, PUBLIC) is None
    with pytest.raises(NotFoundError):  # hidden places cannot be reported, voted on or commented by the public
        sql.add_report(store, place_id, spam, sql.Author("p3", "ip"), statuses=PUBLIC, threshold=2)

    queued = review.queue(store)
    assert [(q["place_id"], q["type"], q["status"], q["reports"]) for q in queued] == [(place_id, "place", "hidden", 2)]
    assert queued[0]["reasons"] == {"spam": 2}
    assert queued[0]["report_texts"] == ["Werbung", "Werbung"]

    review.moderate(store, place_id, ModerationIn(action="show", reason="keine Werbung"), moderator="admin1")
    assert review.queue(store) == []
    log = review.moderation_log(store, place_id)
    assert [(e["action"], e["moderator"]) for e in log] == [("auto_hide", "auto"), ("show", "admin1")]
    # Resolved reports no longer count: one new report does not hide it again.
    third = sql.add_report(store, place_id, spam, sql.Author("p3", "ip"), statuses=PUBLIC, threshold=2)
    assert not third["hidden"]


def test_pre_moderated_places_and_comments_wait_in_the_queue(store: LiveStore) -> None:
    place_id = _place(store, status=moderation.initial_status("pre"))
    assert sql.place(store, place_id, PUBLIC) is None
    assert sql.place(store, place_id, ADMIN) is not None
    comment = sql.add_comment(
        store, place_id, CommentIn(text="Gut"), sql.Author("p1", "ip"), status="new", statuses=ADMIN
    )
    kinds = {(q["type"], q["status"]) for q in review.queue(store)}
    assert kinds == {("place", "new"), ("comment", "new")}
    review.moderate(store, place_id, ModerationIn(action="answer", answer="Danke!"), moderator="a")
    review.moderate(store, place_id, ModerationIn(action="show"), moderator="a", comment_id=comment["comment_id"])
    shown = sql.place(store, place_id, PUBLIC)
    assert shown is not None
    assert (shown["status"], shown["answer"], shown["comments"]) == ("answered", "Danke!", 1)
    assert review.queue(store) == []


def test_comments_allow_one_level_of_replies(store: LiveStore) -> None:
    place_id = _place(store)
    author = sql.Author("p1", "ip")
    top = sql.add_comment(store, place_id, CommentIn(text="A"), author, status="visible", statuses=PUBLIC)
    reply = sql.add_comment(
        store, place_id, CommentIn(text="B", parent_id=top["comment_id"]), author, status="visible", statuses=PUBLIC
    )
    with pytest.raises(InputError, match="replies to replies"):
        sql.add_comment(
            store,
            place_id,
            CommentIn(text="C", parent_id=reply["comment_id"]),
            author,
            status="visible",
            statuses=PUBLIC,
        )
    threads = sql.comments(store, place_id, moderation.comment_statuses("public"))
    assert [(c["text"], [r["text"] for r in c["replies"]]) for c in threads] == [("A", ["B"])]
