"""Survey results as they may leave the server: counts of persons per answer, through the privacy gate.

Only counted (confirmed) answers count. Every count passes :func:`twin3d.population.privacy.suppress_choices`: no
answer given by fewer than ``min_count`` persons (3) is shown, and no total gives a withheld one away; a withheld
count is ``null`` with ``withheld: true``. A scale's mean is shown only where none of its counts is withheld (else
it would be an equation for them). Free texts never appear here; a text question shows how many answered it.

The results take no filters (no breakdown by self-description or by another answer): every such table would share
its totals with the unfiltered one, and two tables suppressed apart can give away what each withholds.

Example:
    >>> results(survey, counts)["questions"][0]["answers"][0]  # doctest: +SKIP
    {'value': 'bus', 'label': {'de': 'Bus', 'en': 'Bus'}, 'count': 12, 'withheld': False}
"""

from __future__ import annotations

from typing import Any

import numpy as np

from twin3d.csvsafe import write_csv
from twin3d.participation.surveys.model import Question, SurveyIn
from twin3d.population.privacy import suppress_choices

MIN_COUNT = 3
Counts = tuple[dict[tuple[str, str], int], dict[str, int], int]


def _shown(n: int, hidden: bool) -> int | None:
    return None if hidden else n


def _labels(q: Question) -> list[dict[str, str] | None]:
    if q.kind != "scale":
        return [o.label.model_dump() for o in q.options]
    scale = q.scale
    labels: list[dict[str, str] | None] = [None] * len(q.values())
    if scale is not None and scale.low_label is not None:
        labels[0] = scale.low_label.model_dump()
    if scale is not None and scale.high_label is not None:
        labels[-1] = scale.high_label.model_dump()
    return labels


def question_result(q: Question, counts: Counts, min_count: int = MIN_COUNT) -> dict[str, Any]:
    """The gated counts of one question."""
    per_choice, per_question, _ = counts
    answered = per_question.get(q.id, 0)
    out: dict[str, Any] = {"id": q.id, "kind": q.kind, "text": q.text.model_dump()}
    if q.kind == "text":
        hidden_total = 0 < answered < min_count
        out.update(answered=_shown(answered, hidden_total), answered_withheld=hidden_total, answers=[])
        return out
    values = q.values()
    n = np.array([per_choice.get((q.id, v), 0) for v in values], np.int64)
    hidden, hidden_total = suppress_choices(n, answered, min_count, exclusive=q.kind != "multiple")
    out["answered"] = _shown(answered, hidden_total)
    out["answered_withheld"] = hidden_total
    out["answers"] = [
        {"value": v, "label": label, "count": _shown(int(c), bool(h)), "withheld": bool(h)}
        for v, label, c, h in zip(values, _labels(q), n.tolist(), hidden.tolist(), strict=True)
    ]
    if q.kind == "scale":
        points = np.array([int(v) for v in values], np.float64)
        whole = answered > 0 and not hidden.any() and not hidden_total
        out["mean"] = round(float((points * n).sum() / answered), 2) if whole else None
    return out


def results(survey: SurveyIn, counts: Counts, min_count: int = MIN_COUNT) -> dict[str, Any]:
    """The gated results of a survey: respondents and, per question, the counts per answer."""
    total = counts[2]
    hidden_total = 0 < total < min_count
    return {
        "min_count": min_count,
        "respondents": _shown(total, hidden_total),
        "respondents_withheld": hidden_total,
        "questions": [question_result(q, counts, min_count) for q in survey.questions],
    }


def results_csv(gated: dict[str, Any]) -> str:
    """The gated results as CSV: one row per question and answer (a withheld count is empty, ``withheld`` true)."""
    rows: list[list[Any]] = []
    for q in gated["questions"]:
        rows.append([q["id"], q["kind"], "", q["text"]["de"], q["text"]["en"], q["answered"], q["answered_withheld"]])
        for a in q["answers"]:
            label = a["label"] or {"de": "", "en": ""}
            rows.append([q["id"], q["kind"], a["value"], label["de"], label["en"], a["count"], a["withheld"]])
    header = ["question", "kind", "answer", "label_de", "label_en", "persons", "withheld"]
    return write_csv(header, rows)


def responses_csv(survey: SurveyIn, heads: list[dict[str, Any]], rows: list[dict[str, Any]]) -> str:
    """Every counted answer as one row (the administration's export): its id, way, day, self-description and one
    column per question (several choices joined by ``|``). No address, no code, no hash."""
    answers: dict[int, dict[str, list[str]]] = {}
    for r in rows:
        value = r["text"] if r["choice"] is None else r["choice"]
        answers.setdefault(int(r["response_id"]), {}).setdefault(str(r["question"]), []).append(str(value))
    questions = [q.id for q in survey.questions]
    header = ["response_id", "via", "confirmed_on", "age_band", "household", *questions]
    out = []
    for h in heads:
        given = answers.get(int(h["response_id"]), {})
        out.append(
            [h["response_id"], h["via"], h["confirmed_on"], h["age_band"], h["household"]]
            + ["|".join(given.get(q, [])) for q in questions]
        )
    return write_csv(header, out)
