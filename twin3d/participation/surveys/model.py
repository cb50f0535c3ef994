"""What a survey is and what an answer may be: validated before anything is written.

The administration defines a survey (:class:`SurveyIn`): a title and an introduction in German and English, up to
:data:`MAX_QUESTIONS` questions of four kinds (one choice, several choices, a scale with labelled ends, free text)
and, optionally, the voluntary self-description (age band, household) that the representation lens reads. A person
answers with :class:`ResponseIn`; :func:`answer_rows` checks the answers against the survey and turns them into the
rows the store keeps (one per chosen option or scale value, one per free text).

Texts are plain text, cleaned by :mod:`twin3d.plaintext`; every client renders them escaped.

Example:
    >>> survey = SurveyIn.model_validate({"title": {"de": "Mobilität", "en": "Mobility"}, "questions": [
    ...     {"id": "mode", "kind": "single", "text": {"de": "Wie?", "en": "How?"},
    ...      "options": [{"id": "bus", "label": {"de": "Bus", "en": "Bus"}},
    ...                  {"id": "bike", "label": {"de": "Rad", "en": "Bike"}}]}]})
    >>> answer_rows(survey, {"mode": "bike"})
    [('mode', 'bike', None)]
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from twin3d.errors import InputError
from twin3d.participation.model import SelfDescription
from twin3d.plaintext import Line, Text, clean_text

Kind = Literal["single", "multiple", "scale", "text"]
State = Literal["draft", "open", "closed"]
Access = Literal["email", "code", "both"]
MAX_QUESTIONS = 30
MAX_OPTIONS = 20
TEXT_MAX = 1000
ID_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
# A deliverable address people type, and nothing a mail header could be bent with (no blanks, quotes, brackets,
# commas or semicolons); the server mails it once and keeps only its keyed hash.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
EMAIL = re.compile(rf"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Localized(_Strict):
    """A short text in German and English (a title, a question, an option)."""

    de: Line = Field(min_length=1, max_length=300)
    en: Line = Field(min_length=1, max_length=300)


class LocalizedText(_Strict):
    """A longer text in German and English (an introduction); may be empty."""

    de: Text = Field(default="", max_length=3000)
    en: Text = Field(default="", max_length=3000)


class Option(_Strict):
    """One answer of a choice question."""

    id: str = Field(pattern=ID_PATTERN)
    label: Localized


class Scale(_Strict):
    """A scale from ``low`` to ``high`` (say 1 .. 5), with the meaning of its two ends."""

    low: int = Field(default=1, ge=0, le=1)
    high: int = Field(default=5, ge=2, le=10)
    low_label: Localized | None = None
    high_label: Localized | None = None


class Question(_Strict):
    """One question.

    Attributes:
        id: a short name, unique in the survey (it names the column of the exports).
        kind: ``single`` (one option), ``multiple`` (several options), ``scale`` (a point on a scale), ``text``.
        text: the question.
        required: whether it must be answered.
        options: the answers of a choice question (2 .. 20).
        scale: the scale of a scale question.
        max_choices: the most options of a ``multiple`` question one may tick (default: all).
    """

    id: str = Field(pattern=ID_PATTERN)
    kind: Kind
    text: Localized
    required: bool = True
    options: list[Option] = Field(default_factory=list, max_length=MAX_OPTIONS)
    scale: Scale | None = None
    max_choices: int | None = Field(default=None, ge=1, le=MAX_OPTIONS)

    @model_validator(mode="after")
    def _fits_kind(self) -> Question:
        choice = self.kind in ("single", "multiple")
        if choice and len(self.options) < 2:
            raise ValueError(f"question {self.id!r}: a choice needs at least two options")
        if not choice and self.options:
            raise ValueError(f"question {self.id!r}: only choice questions have options")
        if len({o.id for o in self.options}) != len(self.options):
            raise ValueError(f"question {self.id!r}: option ids must be unique")
        if self.kind != "scale" and self.scale is not None:
            raise ValueError(f"question {self.id!r}: only scale questions have a scale")
        if self.kind != "multiple" and self.max_choices is not None:
            raise ValueError(f"question {self.id!r}: max_choices is for multiple-choice questions")
        return self

    def values(self) -> list[str]:
        """The answers that can be counted, in order: option ids, or the scale's points as text."""
        if self.kind == "scale":
            scale = self.scale or Scale()
            return [str(v) for v in range(scale.low, scale.high + 1)]
        return [o.id for o in self.options]


class SurveyIn(_Strict):
    """A survey as the administration defines it.

    Attributes:
        title: the survey's title.
        intro: what it is about and what happens with the answers.
        questions: 1 .. 30 questions.
        self_description: ask for the voluntary age band and household (for the representation lens).
        access: how people take part: a confirmed e-mail address, an invitation code, or either.
        opens_at: answers are taken from then on (ISO time, UTC if no offset); default: when opened.
        closes_at: and until then; default: until closed.
    """

    title: Localized
    intro: LocalizedText = LocalizedText()
    questions: list[Question] = Field(min_length=1, max_length=MAX_QUESTIONS)
    self_description: bool = True
    access: Access = "both"
    opens_at: datetime | None = None
    closes_at: datetime | None = None

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _consistent(self) -> SurveyIn:
        if len({q.id for q in self.questions}) != len(self.questions):
            raise ValueError("question ids must be unique")
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValueError("closes_at must come after opens_at")
        return self

    def question(self, question_id: str) -> Question | None:
        """The question with this id, if any."""
        return next((q for q in self.questions if q.id == question_id), None)


class StateIn(_Strict):
    """Open a survey for answers, or close it."""

    state: State


Answer = str | int | list[str]


class ResponseIn(_Strict):
    """One person's answer to a survey.

    Give either ``email`` (the answer counts once the link in the mail sent to it is followed; the address is used to
    send that mail and kept only as a keyed hash) or ``code`` (an invitation code; counts at once). ``website`` is
    the honeypot: people leave it empty.
    """

    answers: dict[str, Answer] = Field(max_length=MAX_QUESTIONS)
    self_description: SelfDescription | None = None
    email: str | None = Field(default=None, min_length=3, max_length=254)
    code: str | None = Field(default=None, min_length=4, max_length=40, pattern=r"^[A-Za-z0-9\s\-]+$")
    lang: Literal["de", "en"] = "de"
    website: str = Field(default="", max_length=200)

    @field_validator("email")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        """A plausible address, normalised (trimmed, lower case): one person, one hash. The error never repeats it."""
        if value is None:
            return None
        value = value.strip().lower()
        if not EMAIL.fullmatch(value):
            raise ValueError("not an e-mail address")
        return value

    @model_validator(mode="after")
    def _one_way(self) -> ResponseIn:
        if (self.email is None) == (self.code is None):
            raise ValueError("give either email or code")
        return self


class ConfirmIn(_Strict):
    """The one-time token of a confirmation link."""

    token: str = Field(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")


class CodesIn(_Strict):
    """How many invitation codes to make, and as what: a PDF sheet to print, CSV, or JSON."""

    count: int = Field(ge=1, le=5000)
    format: Literal["pdf", "csv", "json"] = "pdf"


def _refuse(question: str, message: str) -> InputError:
    return InputError(message, record=f"answers.{question}", hint="answer as the survey's question says")


def _choices(q: Question, value: Answer) -> list[str]:
    allowed = set(q.values())
    if q.kind == "single":
        if not isinstance(value, str) or value not in allowed:
            raise _refuse(q.id, f"{q.id}: choose one of the options")
        return [value]
    if q.kind == "scale":
        if isinstance(value, bool) or not isinstance(value, int) or str(value) not in allowed:
            raise _refuse(q.id, f"{q.id}: a whole number from {q.values()[0]} to {q.values()[-1]}")
        return [str(value)]
    if not isinstance(value, list) or not all(isinstance(v, str) and v in allowed for v in value):
        raise _refuse(q.id, f"{q.id}: a list of the options")
    chosen = list(dict.fromkeys(value))
    if q.max_choices is not None and len(chosen) > q.max_choices:
        raise _refuse(q.id, f"{q.id}: at most {q.max_choices} options")
    return chosen


def answer_rows(survey: SurveyIn, answers: dict[str, Answer]) -> list[tuple[str, str | None, str | None]]:
    """The rows of one answer: (question, choice, None) per chosen option or scale value, (question, None, text)
    per free text. An empty list (several choices) or text counts as not answered.

    Raises:
        InputError: an answer to no question of the survey, one that does not fit its question, or a required
            question left out (``record`` names it).
    """
    unknown = [k for k in answers if survey.question(k) is None]
    if unknown:
        raise _refuse(unknown[0], f"the survey has no question {unknown[0]!r}")
    rows: list[tuple[str, str | None, str | None]] = []
    for q in survey.questions:
        value = answers.get(q.id)
        if q.kind == "text":
            text = clean_text(value) if isinstance(value, str) else value
            if text is not None and not isinstance(text, str):
                raise _refuse(q.id, f"{q.id}: a text")
            if text and len(text) > TEXT_MAX:
                raise _refuse(q.id, f"{q.id}: at most {TEXT_MAX} characters")
            if text:
                rows.append((q.id, None, text))
            elif q.required:
                raise _refuse(q.id, f"{q.id}: this question needs an answer")
            continue
        chosen = _choices(q, value) if value is not None else []
        if not chosen and q.required:
            raise _refuse(q.id, f"{q.id}: this question needs an answer")
        rows.extend((q.id, c, None) for c in chosen)
    return rows
