"""Named, parameterised SQL over the survey tables of a twin's live store (``twin3d/sql/live/*_003.sql``).

Every write is one unit of work in :meth:`twin3d.store.live.LiveStore.write`, which holds the store's write lock
across worker processes (SQLite's, or a PostgreSQL advisory lock): a unit checks first (is the code unused, has the
person answered) and writes after, so two workers never both take one code or count one person twice. A unit that
must refuse after it has cleaned up returns what happened, and the caller raises once the transaction is committed.

No function here sees an e-mail address or a code in clear: they get the keyed hashes (:mod:`.keys`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import pyarrow as pa

from twin3d.errors import NotFoundError
from twin3d.participation.surveys import refusals
from twin3d.store.live import Cursor, LiveStore, utc_now

LENS_SCHEMA = pa.schema([("age_band", pa.string()), ("household", pa.string()), ("participant", pa.string())])
"""Self-descriptions of survey answers for the lens (:func:`twin3d.participation.lens.representation`)."""
_SURVEY = (
    "SELECT survey_id, spec, state, {opens} AS opens_at, {closes} AS closes_at, created_by, "
    "{created} AS created_at, {updated} AS updated_at FROM surveys"
)


def _survey_sql(store: LiveStore) -> str:
    d = store.dialect
    return _SURVEY.format(
        opens=d.iso("opens_at"), closes=d.iso("closes_at"), created=d.iso("created_at"), updated=d.iso("updated_at")
    )


def add_survey(
    store: LiveStore, spec: dict[str, Any], opens: datetime | None, closes: datetime | None, user: str
) -> int:
    """Store a new survey (a draft); returns its id."""

    def work(cur: Cursor) -> int:
        now = utc_now()
        row = cur.execute(
            "INSERT INTO surveys (spec, state, opens_at, closes_at, created_by, created_at, updated_at) "
            "VALUES (?, 'draft', ?, ?, ?, ?, ?) RETURNING survey_id",
            [json.dumps(spec, ensure_ascii=False), opens, closes, user, now, now],
        ).fetchone()
        assert row is not None
        return int(row[0])

    return store.write(work)


def replace_survey(
    store: LiveStore, survey_id: int, spec: dict[str, Any], opens: datetime | None, closes: datetime | None
) -> bool:
    """Replace a survey's definition while nobody has answered it; False when someone has (nothing is written)."""

    def work(cur: Cursor) -> bool:
        if cur.execute("SELECT 1 FROM survey_responses WHERE survey_id = ? LIMIT 1", [survey_id]).fetchone():
            return False
        cur.execute(
            "UPDATE surveys SET spec = ?, opens_at = ?, closes_at = ?, updated_at = ? WHERE survey_id = ?",
            [json.dumps(spec, ensure_ascii=False), opens, closes, utc_now(), survey_id],
        )
        return True

    return store.write(work)


def set_state(store: LiveStore, survey_id: int, state: str) -> None:
    """Open or close a survey."""
    store.write(
        lambda cur: cur.execute(
            "UPDATE surveys SET state = ?, updated_at = ? WHERE survey_id = ?", [state, utc_now(), survey_id]
        )
    )


def surveys(store: LiveStore) -> list[dict[str, Any]]:
    """Every survey, newest first, with its spec parsed."""
    rows = store.read(_survey_sql(store) + " ORDER BY survey_id DESC")
    return [{**r, "spec": json.loads(r["spec"])} for r in rows]


def survey(store: LiveStore, survey_id: int) -> dict[str, Any]:
    """One survey with its spec parsed.

    Raises:
        NotFoundError: there is no such survey.
    """
    rows = store.read(_survey_sql(store) + " WHERE survey_id = ?", [survey_id])
    if not rows:
        raise NotFoundError(f"no survey {survey_id}", hint="GET .../surveys lists the surveys")
    return {**rows[0], "spec": json.loads(rows[0]["spec"])}


@dataclass(frozen=True)
class Submission:
    """One answer to be stored.

    Attributes:
        survey_id: the survey.
        person: the keyed hash of the address or code (:mod:`.keys`).
        via: ``email`` or ``code``.
        rows: (question, choice, text) rows of :func:`twin3d.participation.surveys.model.answer_rows`.
        age_band: the voluntary self-description, or None.
        household: the voluntary self-description, or None.
        confirm_hash: SHA-256 of the confirmation token (e-mail answers), else None.
        expires_at: when a pending answer lapses (e-mail answers), else None.
    """

    survey_id: int
    person: str
    via: Literal["email", "code"]
    rows: Sequence[tuple[str, str | None, str | None]]
    age_band: str | None = None
    household: str | None = None
    confirm_hash: str | None = None
    expires_at: datetime | None = None


def _purge(cur: Cursor, now: datetime) -> None:
    """Remove the pending answers whose confirmation time is over (with their answers)."""
    lapsed = "SELECT response_id FROM survey_responses WHERE status = 'pending' AND expires_at < ?"
    cur.execute(f"DELETE FROM survey_answers WHERE response_id IN ({lapsed})", [now])
    cur.execute("DELETE FROM survey_responses WHERE status = 'pending' AND expires_at < ?", [now])


def _answered(cur: Cursor, survey_id: int, person: str) -> bool:
    """Whether the person has a counted answer, or one waiting for its confirmation (lapsed ones are purged)."""
    row = cur.execute(
        "SELECT 1 FROM survey_responses WHERE survey_id = ? AND person = ? LIMIT 1", [survey_id, person]
    ).fetchone()
    return row is not None


def submit(store: LiveStore, sub: Submission) -> int:
    """Store an answer: pending (e-mail, until confirmed) or counted at once (a code, which is used up by it).

    Returns:
        The answer's id.

    Raises:
        ConflictError: the person has answered (or waits for confirmation), or the code is used (409).
        InputError: the code is no code of this survey (422).
    """

    def work(cur: Cursor) -> int:
        now = utc_now()
        _purge(cur, now)
        if sub.via == "code":
            found = cur.execute(
                "SELECT used_at FROM survey_codes WHERE code_hash = ? AND survey_id = ?", [sub.person, sub.survey_id]
            ).fetchone()
            if found is None:
                raise refusals.code_unknown()
            if found[0] is not None:
                raise refusals.already_answered("code")
        if _answered(cur, sub.survey_id, sub.person):
            raise refusals.already_answered(sub.via)
        if sub.via == "code":
            cur.execute("UPDATE survey_codes SET used_at = ? WHERE code_hash = ?", [now, sub.person])
        confirmed = sub.via == "code"
        row = cur.execute(
            "INSERT INTO survey_responses (survey_id, person, via, status, age_band, household, confirm_hash, "
            "expires_at, created_at, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING response_id",
            [
                sub.survey_id,
                sub.person,
                sub.via,
                "confirmed" if confirmed else "pending",
                sub.age_band,
                sub.household,
                sub.confirm_hash,
                None if confirmed else sub.expires_at,
                now,
                now if confirmed else None,
            ],
        ).fetchone()
        assert row is not None
        response_id = int(row[0])
        cur.executemany(
            "INSERT INTO survey_answers (response_id, survey_id, question, choice, text) VALUES (?, ?, ?, ?, ?)",
            [(response_id, sub.survey_id, q, choice, text) for q, choice, text in sub.rows],
        )
        return response_id

    return store.write(work)


Outcome = Literal["confirmed", "already", "expired", "unknown", "twice"]


def confirm(store: LiveStore, confirm_hash: str) -> tuple[Outcome, int | None]:
    """Count a pending answer by its confirmation token's hash, unless the person has a counted answer already
    (two answers sent before either was confirmed: the first confirmed counts; the other is removed).

    Returns:
        What happened, and the survey's id (None when the link is unknown).
    """

    def work(cur: Cursor) -> tuple[Outcome, int | None]:
        now = utc_now()
        row = cur.execute(
            "SELECT response_id, survey_id, person, status, expires_at < ? FROM survey_responses "
            "WHERE confirm_hash = ?",
            [now, confirm_hash],
        ).fetchone()
        if row is None:
            return "unknown", None
        response_id, survey_id, person, status, lapsed = row
        if status == "confirmed":
            return "already", int(survey_id)
        twice = cur.execute(
            "SELECT 1 FROM survey_responses WHERE survey_id = ? AND person = ? AND status = 'confirmed'",
            [survey_id, person],
        ).fetchone()
        if lapsed or twice:
            cur.execute("DELETE FROM survey_answers WHERE response_id = ?", [response_id])
            cur.execute("DELETE FROM survey_responses WHERE response_id = ?", [response_id])
            return ("expired" if lapsed else "twice"), int(survey_id)
        cur.execute(
            "UPDATE survey_responses SET status = 'confirmed', confirmed_at = ?, expires_at = NULL "
            "WHERE response_id = ?",
            [now, response_id],
        )
        return "confirmed", int(survey_id)

    return store.write(work)


def withdraw_pending(store: LiveStore, response_id: int) -> None:
    """Remove a pending answer whose confirmation mail could not be sent (so the person may simply try again)."""

    def work(cur: Cursor) -> None:
        cur.execute(
            "DELETE FROM survey_answers WHERE response_id = ? AND response_id IN "
            "(SELECT response_id FROM survey_responses WHERE status = 'pending')",
            [response_id],
        )
        cur.execute("DELETE FROM survey_responses WHERE response_id = ? AND status = 'pending'", [response_id])

    store.write(work)


def counts(store: LiveStore, survey_id: int) -> tuple[dict[tuple[str, str], int], dict[str, int], int]:
    """Counted (confirmed) answers: persons per (question, choice), persons per question, and persons in all."""
    confirmed = "SELECT response_id FROM survey_responses WHERE survey_id = :survey AND status = 'confirmed'"
    per_choice = store.read(
        "SELECT question, choice, count(DISTINCT response_id) AS n FROM survey_answers "
        f"WHERE survey_id = :survey AND choice IS NOT NULL AND response_id IN ({confirmed}) GROUP BY question, choice",
        {"survey": survey_id},
    )
    per_question = store.read(
        "SELECT question, count(DISTINCT response_id) AS n FROM survey_answers "
        f"WHERE survey_id = :survey AND response_id IN ({confirmed}) GROUP BY question",
        {"survey": survey_id},
    )
    total = store.read(
        "SELECT count(*) AS n FROM survey_responses WHERE survey_id = ? AND status = 'confirmed'", [survey_id]
    )
    return (
        {(str(r["question"]), str(r["choice"])): int(r["n"]) for r in per_choice},
        {str(r["question"]): int(r["n"]) for r in per_question},
        int(total[0]["n"]),
    )


def status_counts(store: LiveStore, survey_id: int) -> dict[str, int]:
    """For the administration: answers by status and way, and invitation codes made and used."""
    rows = store.read(
        "SELECT status, via, count(*) AS n FROM survey_responses WHERE survey_id = ? GROUP BY status, via", [survey_id]
    )
    out = {f"{r['status']}_{r['via']}": int(r["n"]) for r in rows}
    codes = store.read(
        "SELECT count(*) AS made, count(used_at) AS used FROM survey_codes WHERE survey_id = ?", [survey_id]
    )[0]
    return {
        "confirmed_email": out.get("confirmed_email", 0),
        "confirmed_code": out.get("confirmed_code", 0),
        "pending_email": out.get("pending_email", 0),
        "codes_made": int(codes["made"]),
        "codes_used": int(codes["used"]),
    }


def texts(store: LiveStore, survey_id: int) -> list[dict[str, Any]]:
    """The free texts of counted answers, oldest first (the administration only)."""
    d = store.dialect
    return store.read(
        f"SELECT a.response_id, a.question, a.text, {d.iso('r.confirmed_at')} AS confirmed_at "
        "FROM survey_answers AS a JOIN survey_responses AS r ON r.response_id = a.response_id "
        "WHERE a.survey_id = ? AND r.status = 'confirmed' AND a.text IS NOT NULL "
        "ORDER BY r.confirmed_at, a.response_id, a.question",
        [survey_id],
    )


def responses(store: LiveStore, survey_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Counted answers (id, way, day, self-description) and their answer rows, for the administration's export."""
    d = store.dialect
    heads = store.read(
        f"SELECT response_id, via, substr({d.iso('confirmed_at')}, 1, 10) AS confirmed_on, age_band, household "
        "FROM survey_responses WHERE survey_id = ? AND status = 'confirmed' ORDER BY response_id",
        [survey_id],
    )
    rows = store.read(
        "SELECT a.response_id, a.question, a.choice, a.text FROM survey_answers AS a "
        "JOIN survey_responses AS r ON r.response_id = a.response_id "
        "WHERE a.survey_id = ? AND r.status = 'confirmed' ORDER BY a.response_id",
        [survey_id],
    )
    return heads, rows


def add_codes(store: LiveStore, survey_id: int, hashes: Sequence[str]) -> int:
    """Store the hashes of new invitation codes as one batch; returns the batch number."""

    def work(cur: Cursor) -> int:
        row = cur.execute(
            "SELECT coalesce(max(batch), 0) + 1 FROM survey_codes WHERE survey_id = ?", [survey_id]
        ).fetchone()
        batch = int(row[0]) if row else 1
        now = utc_now()
        cur.executemany(
            "INSERT INTO survey_codes (code_hash, survey_id, batch, created_at) VALUES (?, ?, ?, ?)",
            [(h, survey_id, batch, now) for h in hashes],
        )
        return batch

    return store.write(work)


def code_batches(store: LiveStore, survey_id: int) -> list[dict[str, Any]]:
    """Per batch of codes: how many were made, when, and how many are used (never a code)."""
    d = store.dialect
    return store.read(
        f"SELECT batch, count(*) AS made, count(used_at) AS used, {d.iso('min(created_at)')} AS created_at "
        "FROM survey_codes WHERE survey_id = ? GROUP BY batch ORDER BY batch",
        [survey_id],
    )


def lens_table(store: LiveStore | None) -> pa.Table:
    """The self-descriptions of counted answers of every survey, oldest first, for the representation lens: each
    answer a participant of its own (``survey:<id>``), with no place (the lens counts them town-wide)."""
    if store is None:
        return LENS_SCHEMA.empty_table()
    rows = store.read(
        "SELECT response_id, age_band, household FROM survey_responses WHERE status = 'confirmed' "
        "AND (age_band IS NOT NULL OR household IS NOT NULL) ORDER BY response_id"
    )
    return pa.table(
        {
            "age_band": pa.array([r["age_band"] for r in rows], pa.string()),
            "household": pa.array([r["household"] for r in rows], pa.string()),
            "participant": pa.array([f"survey:{r['response_id']}" for r in rows], pa.string()),
        },
        schema=LENS_SCHEMA,
    )
