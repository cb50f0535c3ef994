"""Surveys as the server offers them: definitions, answers once per person, confirmation, results, exports, codes.

One :class:`Surveys` lives per app. The rules, in full:

- The administration defines, opens and closes a survey; a definition can change until the first answer comes.
  A survey takes answers while it is open and between its optional ``opens_at`` and ``closes_at``.
- A person answers once, by one of two ways the survey offers:

  - **e-mail** (double opt-in): the answer is kept *pending* and a mail with a one-time link goes to the address;
    following the link counts the answer. The address is used to send that mail and nowhere else; the store keeps
    only its keyed hash (:mod:`.keys`), which also refuses a second answer by the address (pending or counted: 409,
    at the answer and again at the confirmation, for two answers sent before either was confirmed). A pending
    answer lapses after ``TWIN3D_SMTP_CONFIRM_HOURS`` and is removed.
  - **invitation code**: codes the administration makes for a random sample (printed on slips, :mod:`.sheet`);
    a code counts at once and is used up by it (409 the second time), atomically across worker processes.

- Answers are limited per client address as places are (``posts_per_minute``, :class:`Guard`); wrong codes a few
  per address, so codes cannot be guessed; a filled-in honeypot is refused.
- Results count confirmed answers only, through the privacy gate (:mod:`.results`): the public sees them once the
  survey is closed (so that nobody learns one person's answers by asking before and after it), the council and the
  administration at any time; free texts and the answers one by one only the administration.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from twin3d.errors import ConflictError, ForbiddenError, InputError, NotFoundError
from twin3d.participation.guard import Guard
from twin3d.participation.ratelimit import load_or_create_secret
from twin3d.participation.service import check_honeypot
from twin3d.participation.surveys import keys, refusals, results
from twin3d.participation.surveys import store as sql
from twin3d.participation.surveys.mail import Confirmation, Mailer
from twin3d.participation.surveys.model import ResponseIn, State, SurveyIn, answer_rows
from twin3d.participation.surveys.sheet import codes_csv, codes_pdf
from twin3d.store.live import LiveStore, LiveStores

Phase = Literal["draft", "scheduled", "open", "closed"]


def _time(text: str | None) -> datetime | None:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if text else None


def _naive(value: datetime | None) -> datetime | None:
    """UTC without a zone, as the live store binds timestamps."""
    return value.astimezone(UTC).replace(tzinfo=None) if value is not None else None


def phase(row: dict[str, Any], now: datetime | None = None) -> Phase:
    """Where a survey stands: a draft, open but not yet (``opens_at`` ahead), open, or closed (by the
    administration or because ``closes_at`` has passed)."""
    now = now or datetime.now(UTC)
    if row["state"] == "draft":
        return "draft"
    closes = _time(row["closes_at"])
    if row["state"] == "closed" or (closes is not None and now >= closes):
        return "closed"
    opens = _time(row["opens_at"])
    return "scheduled" if opens is not None and now < opens else "open"


class Surveys:
    """The surveys of every twin of one server.

    Args:
        live: the live stores.
        guard: address hashes, rate limits and the twins' participation secrets.
        mailer: sends the confirmation mails.
        min_count: the fewest persons a shown count may stand for.
    """

    def __init__(self, live: LiveStores, guard: Guard, mailer: Mailer, min_count: int = results.MIN_COUNT) -> None:
        self.live = live
        self.guard = guard
        self.mailer = mailer
        self.min_count = min_count
        self._keys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    # --- helpers -----------------------------------------------------------------------------------------------

    def _key(self, twin: str) -> bytes:
        with self._lock:
            if twin not in self._keys:
                self._keys[twin] = keys.survey_key(load_or_create_secret(self.guard.key_file(twin)))
            return self._keys[twin]

    def _store(self, twin: str, *, create: bool = False) -> LiveStore | None:
        return self.live.get(twin, create=create)

    def _row(self, twin: str, survey_id: int) -> tuple[LiveStore, dict[str, Any]]:
        store = self._store(twin)
        if store is None:
            raise NotFoundError(f"no survey {survey_id}", hint="GET .../surveys lists the surveys")
        return store, sql.survey(store, survey_id)

    def _visible(self, twin: str, survey_id: int, role: str) -> tuple[LiveStore, dict[str, Any]]:
        """The survey, as ``role`` may see it: drafts only for the administration (404 for the others)."""
        store, row = self._row(twin, survey_id)
        if row["state"] == "draft" and role != "admin":
            raise NotFoundError(f"no survey {survey_id}", hint="GET .../surveys lists the surveys")
        return store, row

    def payload(self, row: dict[str, Any], role: str) -> dict[str, Any]:
        """A survey as a client reads it: its definition, where it stands, how to take part, whether results show."""
        spec = SurveyIn.model_validate(row["spec"])
        now_phase = phase(row)
        out = {
            "survey_id": row["survey_id"],
            "state": row["state"],
            "phase": now_phase,
            **spec.model_dump(mode="json", exclude={"opens_at", "closes_at"}),
            "opens_at": row["opens_at"],
            "closes_at": row["closes_at"],
            "email": spec.access in ("email", "both") and self.mailer.enabled,
            "codes": spec.access in ("code", "both"),
            "results": now_phase == "closed" or (role in ("council", "admin") and now_phase != "draft"),
            "created_at": row["created_at"],
        }
        if role == "admin":
            out["created_by"] = row["created_by"]
            out["updated_at"] = row["updated_at"]
        return out

    # --- the administration's definitions -----------------------------------------------------------------------

    def create(self, twin: str, body: SurveyIn, user: str) -> dict[str, Any]:
        """Store a new survey as a draft."""
        store = self._store(twin, create=True)
        assert store is not None
        spec = body.model_dump(mode="json", exclude={"opens_at", "closes_at"})
        survey_id = sql.add_survey(store, spec, _naive(body.opens_at), _naive(body.closes_at), user)
        return self.payload(sql.survey(store, survey_id), "admin")

    def replace(self, twin: str, survey_id: int, body: SurveyIn) -> dict[str, Any]:
        """Change a survey's definition (until its first answer).

        Raises:
            ConflictError: someone has answered it.
        """
        store, _ = self._row(twin, survey_id)
        spec = body.model_dump(mode="json", exclude={"opens_at", "closes_at"})
        if not sql.replace_survey(store, survey_id, spec, _naive(body.opens_at), _naive(body.closes_at)):
            raise ConflictError(
                f"survey {survey_id} has answers: its questions can no longer change",
                hint="close it and make a new survey",
            )
        return self.payload(sql.survey(store, survey_id), "admin")

    def set_state(self, twin: str, survey_id: int, state: State) -> dict[str, Any]:
        """Open or close a survey (a closed one may open again; none goes back to draft once answered)."""
        store, row = self._row(twin, survey_id)
        counted = sql.status_counts(store, survey_id)
        answered = counted["confirmed_email"] + counted["confirmed_code"] + counted["pending_email"]
        if state == "draft" and row["state"] != "draft" and answered:
            raise ConflictError("an answered survey cannot become a draft again", hint="close it instead")
        sql.set_state(store, survey_id, state)
        return self.payload(sql.survey(store, survey_id), "admin")

    def listing(self, twin: str, role: str) -> list[dict[str, Any]]:
        """The twin's surveys, newest first (drafts for the administration only)."""
        store = self._store(twin)
        if store is None:
            return []
        return [self.payload(r, role) for r in sql.surveys(store) if role == "admin" or r["state"] != "draft"]

    def one(self, twin: str, survey_id: int, role: str) -> dict[str, Any]:
        """One survey."""
        _, row = self._visible(twin, survey_id, role)
        return self.payload(row, role)

    # --- answers -----------------------------------------------------------------------------------------------

    def submit(self, twin: str, survey_id: int, body: ResponseIn, client: str) -> dict[str, Any]:
        """Take one person's answer: pending until confirmed (e-mail), or counted at once (code).

        Raises:
            NotFoundError: no such survey (or a draft).
            ConflictError: the survey takes no answers now, or the person has answered (409).
            InputError: answers that do not fit, an unknown code, or a way the survey does not offer (422).
            RateLimitError: too many answers or wrong codes from this address (429).
            MailError: the confirmation mail could not be sent (503; nothing is kept).
        """
        ip_hash = self.guard.address(twin, client)
        self.guard.write(twin, "post", ip_hash, None, None)
        check_honeypot(body.website)
        store, row = self._visible(twin, survey_id, "public")
        if phase(row) != "open":
            raise refusals.not_open(phase(row))
        spec = SurveyIn.model_validate(row["spec"])
        via: Literal["email", "code"] = "email" if body.email is not None else "code"
        offered = self.payload(row, "public")
        if not offered[via if via == "email" else "codes"]:
            raise refusals.way_closed(via)
        rows = answer_rows(spec, body.answers)
        described = body.self_description if spec.self_description else None
        sub = sql.Submission(
            survey_id,
            "",
            via,
            rows,
            described.age_band if described else None,
            described.household if described else None,
        )
        if via == "code":
            return self._with_code(twin, store, body.code or "", ip_hash, sub)
        address = body.email or ""
        token = secrets.token_urlsafe(32)
        hours = self.mailer.settings.confirm_hours
        sub = replace(
            sub,
            person=keys.address_hash(self._key(twin), survey_id, address),
            confirm_hash=keys.token_digest(token),
            expires_at=_naive(datetime.now(UTC) + timedelta(hours=hours)),
        )
        response_id = sql.submit(store, sub)
        title = spec.title.en if body.lang == "en" else spec.title.de
        try:
            self.mailer.send(address, Confirmation(twin, title, token, body.lang, hours))
        except Exception:
            sql.withdraw_pending(store, response_id)
            raise
        return {"survey_id": survey_id, "status": "pending", "confirm_hours": hours}

    def _with_code(self, twin: str, store: LiveStore, code: str, ip_hash: str, sub: sql.Submission) -> dict[str, Any]:
        """Count an answer with an invitation code (``sub`` without its person): wrong codes cost tries."""
        limit_key, rate = (twin, "survey_code", ip_hash), self.guard.rates["workshop_code"]
        wait = self.guard.limiter.wait(limit_key, rate)
        if wait > 0:
            raise refusals.codes_limited(wait)
        normal = keys.normalise_code(code)
        survey_id = sub.survey_id
        sub = replace(sub, person=keys.code_hash(self._key(twin), survey_id, normal))
        try:
            if len(normal) != keys.CODE_LENGTH:
                raise refusals.code_unknown()
            sql.submit(store, sub)
        except InputError:
            self.guard.limiter.take(limit_key, rate)  # a wrong code costs a try
            raise
        return {"survey_id": survey_id, "status": "confirmed"}

    def confirm(self, twin: str, token: str) -> dict[str, Any]:
        """Count the answer a confirmation link names.

        Raises:
            NotFoundError: the link names no answer (404).
            GoneError: its answer lapsed (410).
            ConflictError: the survey closed meanwhile, or the address has a counted answer already (409).
        """
        store = self._store(twin)
        if store is None:
            raise refusals.link_unknown()
        digest = keys.token_digest(token)
        found = store.read("SELECT survey_id FROM survey_responses WHERE confirm_hash = ?", [digest])
        if not found:
            raise refusals.link_unknown()
        row = sql.survey(store, int(found[0]["survey_id"]))
        outcome, survey_id = sql.confirm(store, digest) if phase(row) == "open" else ("closed", None)
        if outcome == "closed":
            raise refusals.not_open("closed")
        if outcome == "unknown":
            raise refusals.link_unknown()
        if outcome == "expired":
            raise refusals.link_expired()
        if outcome == "twice":
            raise refusals.already_answered("email")
        spec = SurveyIn.model_validate(row["spec"])
        return {
            "survey_id": survey_id,
            "status": "confirmed",
            "already": outcome == "already",
            "title": spec.title.model_dump(),
        }

    # --- results, texts, exports -------------------------------------------------------------------------------

    def results(self, twin: str, survey_id: int, role: str) -> dict[str, Any]:
        """The gated results; for the administration with the answers by status and the codes made and used.

        Raises:
            ForbiddenError: the public asks before the survey is closed.
        """
        store, row = self._visible(twin, survey_id, role)
        if not self.payload(row, role)["results"]:
            raise ForbiddenError(
                "the results are published when the survey closes",
                hint="ask again once it is closed",
                reason="survey_results_later",
                localized={
                    "de": "Die Ergebnisse werden veröffentlicht, wenn die Umfrage beendet ist.",
                    "en": "The results are published when the survey has closed.",
                },
            )
        spec = SurveyIn.model_validate(row["spec"])
        out = {"survey_id": survey_id, "phase": phase(row), **results.results(spec, sql.counts(store, survey_id))}
        if role == "admin":
            out["status"] = sql.status_counts(store, survey_id)
        return out

    def results_csv(self, twin: str, survey_id: int, role: str) -> str:
        """The gated results as CSV."""
        return results.results_csv(self.results(twin, survey_id, role))

    def texts(self, twin: str, survey_id: int) -> list[dict[str, Any]]:
        """The free texts of counted answers (the router admits the administration only)."""
        store, _ = self._row(twin, survey_id)
        return sql.texts(store, survey_id)

    def responses_csv(self, twin: str, survey_id: int) -> str:
        """Every counted answer, one row each (the administration only)."""
        store, row = self._row(twin, survey_id)
        heads, rows = sql.responses(store, survey_id)
        return results.responses_csv(SurveyIn.model_validate(row["spec"]), heads, rows)

    # --- invitation codes --------------------------------------------------------------------------------------

    def make_codes(self, twin: str, survey_id: int, count: int) -> tuple[int, list[str], SurveyIn]:
        """Make ``count`` new codes (only their hashes are kept); returns the batch, the codes and the survey.

        Raises:
            InputError: the survey takes no codes.
        """
        store, row = self._row(twin, survey_id)
        spec = SurveyIn.model_validate(row["spec"])
        if spec.access == "email":
            raise InputError(
                "this survey is answered by e-mail only", record="access", hint="set access to code or both"
            )
        codes = sorted({keys.new_code() for _ in range(count)})
        while len(codes) < count:  # 50 random bits: a repeat is all but impossible, but cheap to rule out
            codes = sorted({*codes, keys.new_code()})
        key = self._key(twin)
        batch = sql.add_codes(store, survey_id, [keys.code_hash(key, survey_id, c) for c in codes])
        return batch, codes, spec

    def codes_sheet(self, twin: str, survey_id: int, count: int, fmt: str) -> tuple[bytes, str, str]:
        """New codes as a sheet: (bytes, media type, file name)."""
        batch, codes, spec = self.make_codes(twin, survey_id, count)
        url = self.mailer.settings.public_url
        url = f"{url}/#twin={twin}" if url else None
        name = f"{twin}-survey-{survey_id}-codes-{batch}"
        if fmt == "csv":
            return codes_csv(codes, batch=batch, url=url).encode(), "text/csv; charset=utf-8", f"{name}.csv"
        pdf = codes_pdf(spec.title.de, codes, url=url, title_en=spec.title.en)
        return pdf, "application/pdf", f"{name}.pdf"

    def code_batches(self, twin: str, survey_id: int) -> list[dict[str, Any]]:
        """The batches of codes made, each with how many are used (never a code)."""
        store, _ = self._row(twin, survey_id)
        return sql.code_batches(store, survey_id)
