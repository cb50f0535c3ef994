"""The refusals a person answering a survey can meet, in German and English (as
:mod:`twin3d.participation.refusals` does for places): the server sends them as ``message: {de, en}`` beside the
English ``error`` and ``hint`` for developers, with a stable ``reason``.

None of them names the e-mail address or the code it was given: a refusal may end up in a log or a screenshot.
"""

from __future__ import annotations

from twin3d.errors import ConflictError, GoneError, InputError, NotFoundError, RateLimitError
from twin3d.participation.refusals import limited


def already_answered(via: str) -> ConflictError:
    """A second answer by the same person: the address has answered (or waits for its confirmation), or the code
    has been used (409)."""
    if via == "code":
        return ConflictError(
            "this invitation code has been used",
            record="code",
            hint="each code counts once",
            reason="survey_code_used",
            localized={
                "de": "Mit diesem Einladungscode wurde schon geantwortet. Jeder Code zählt einmal.",
                "en": "This invitation code has already been used. Each code counts once.",
            },
        )
    return ConflictError(
        "this e-mail address has already answered the survey, or its answer waits for confirmation",
        record="email",
        hint="each person answers once; follow the link in the mail to confirm",
        reason="survey_already_answered",
        localized={
            "de": "Mit dieser E-Mail-Adresse wurde schon geantwortet, oder die Antwort wartet noch auf ihre "
            "Bestätigung: Bitte folgen Sie dem Link in der E-Mail. Jede Person antwortet einmal.",
            "en": "This e-mail address has already answered, or its answer still waits for confirmation: please "
            "follow the link in the e-mail. Each person answers once.",
        },
    )


def code_unknown() -> InputError:
    """A code that is no invitation code of this survey (422)."""
    return InputError(
        "unknown invitation code",
        record="code",
        hint="check the code on the invitation",
        reason="survey_code_unknown",
        localized={
            "de": "Diesen Einladungscode gibt es für diese Umfrage nicht. Bitte prüfen Sie die Schreibweise.",
            "en": "There is no such invitation code for this survey. Please check how it is written.",
        },
    )


def codes_limited(retry_after: float) -> RateLimitError:
    """Too many wrong codes from one address: codes cannot be guessed (429)."""
    return limited("survey_codes", retry_after, what="wrong invitation codes", hint="codes cannot be guessed")


def not_open(state: str) -> ConflictError:
    """A survey that takes no answers now (409)."""
    return ConflictError(
        f"the survey takes no answers now (it is {state})",
        hint="answers are taken while the survey is open",
        reason="survey_not_open",
        localized={
            "de": "Diese Umfrage nimmt gerade keine Antworten an.",
            "en": "This survey is not taking answers at the moment.",
        },
    )


def way_closed(via: str) -> InputError:
    """A way of taking part the survey does not offer (by e-mail, or by code) (422)."""
    record = "email" if via == "email" else "code"
    return InputError(
        f"this survey is not answered by {'e-mail' if via == 'email' else 'invitation code'}",
        record=record,
        hint="GET the survey: its 'email' and 'codes' say how to take part",
        reason="survey_way_closed",
        localized={
            "de": "Bei dieser Umfrage geht das so nicht: "
            + ("Bitte verwenden Sie Ihren Einladungscode." if via == "email" else "Bitte geben Sie Ihre E-Mail an."),
            "en": "This survey is not answered that way: "
            + ("please use your invitation code." if via == "email" else "please give your e-mail address."),
        },
    )


def link_unknown() -> NotFoundError:
    """A confirmation link that names no answer (a typo, or its answer lapsed and was removed) (404)."""
    return NotFoundError(
        "unknown confirmation link",
        record="token",
        hint="copy the whole link from the mail; an unconfirmed answer lapses after a while",
        reason="survey_link_unknown",
        localized={
            "de": "Dieser Bestätigungslink ist unbekannt oder abgelaufen. Bitte antworten Sie noch einmal.",
            "en": "This confirmation link is unknown or has expired. Please answer again.",
        },
    )


def link_expired() -> GoneError:
    """A confirmation link followed after its answer lapsed (410)."""
    return GoneError(
        "the confirmation link has expired",
        record="token",
        hint="answer the survey again; a new mail is sent",
        reason="survey_link_expired",
        localized={
            "de": "Dieser Bestätigungslink ist abgelaufen. Bitte beantworten Sie die Umfrage noch einmal.",
            "en": "This confirmation link has expired. Please answer the survey again.",
        },
    )
