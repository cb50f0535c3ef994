"""The confirmation mail of a survey answer (double opt-in), sent through SMTP (:class:`twin3d.settings.MailSettings`).

The address is handed in, used for the envelope and the ``To`` header of one message, and dropped: it is never
logged, never put in an error (an SMTP refusal names the recipient, so its text is not passed on; only the kind of
failure and the SMTP code are), and never stored. The link points at the viewer (``TWIN3D_PUBLIC_URL``) with the
one-time token in the URL's fragment, which browsers do not send to the server, so it is in no access log either;
the viewer posts it to the confirmation route.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import quote

from twin3d.errors import MailError
from twin3d.settings import MailSettings

log = logging.getLogger(__name__)

_TEXTS = {
    "de": (
        "Bitte bestätigen Sie Ihre Antwort: {title}",
        "Guten Tag,\n\n"
        "Sie haben an der Umfrage „{title}“ teilgenommen. Ihre Antwort zählt, sobald Sie sie mit diesem Link "
        "bestätigen:\n\n{link}\n\n"
        "Der Link gilt {hours} Stunden und nur einmal. Haben Sie nicht teilgenommen, ignorieren Sie diese E-Mail; "
        "ohne Bestätigung wird die Antwort gelöscht.\n\n"
        "Ihre E-Mail-Adresse wird nur für diese Nachricht verwendet und nicht gespeichert; damit jede Person "
        "einmal antwortet, bleibt nur ein verschlüsselter Fingerabdruck von ihr.\n",
    ),
    "en": (
        "Please confirm your answer: {title}",
        "Hello,\n\n"
        "You took part in the survey “{title}”. Your answer counts once you confirm it with this link:\n\n{link}\n\n"
        "The link is valid for {hours} hours and works once. If you did not take part, please ignore this e-mail; "
        "an answer that is not confirmed is deleted.\n\n"
        "Your e-mail address is used for this message only and is not stored; so that each person answers once, "
        "only an encrypted fingerprint of it is kept.\n",
    ),
}


@dataclass(frozen=True)
class Confirmation:
    """What one confirmation mail says.

    Attributes:
        twin: the twin (the viewer opens it).
        title: the survey's title in the mail's language.
        token: the one-time confirmation token.
        lang: ``de`` or ``en``.
        hours: how long the link is valid.
    """

    twin: str
    title: str
    token: str
    lang: str
    hours: float


class Mailer:
    """Sends mails through the configured SMTP server, one connection per mail.

    Args:
        settings: the SMTP settings.
    """

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    @property
    def enabled(self) -> bool:
        """Whether mail is configured (a server and the public URL for links)."""
        return self.settings.enabled

    def link(self, confirmation: Confirmation) -> str:
        """The confirmation link: the viewer, with the twin and the token in the fragment."""
        base = self.settings.public_url or ""
        return f"{base}/#twin={quote(confirmation.twin)}&survey-confirm={quote(confirmation.token)}"

    def message(self, to: str, confirmation: Confirmation) -> EmailMessage:
        """The mail for ``to`` (plain text, UTF-8)."""
        subject, body = _TEXTS.get(confirmation.lang, _TEXTS["de"])
        hours = f"{confirmation.hours:g}"
        msg = EmailMessage()
        msg["Subject"] = subject.format(title=confirmation.title)
        msg["From"] = self.settings.sender
        msg["To"] = to
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = make_msgid(domain=self.settings.sender.rpartition("@")[2] or "localhost")
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(body.format(title=confirmation.title, link=self.link(confirmation), hours=hours))
        return msg

    def _password(self) -> str | None:
        path = self.settings.password_file
        if path is None:
            return None
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            log.error("the SMTP password file cannot be read (%s)", type(exc).__name__)
            raise MailError("the SMTP password file cannot be read", hint="check TWIN3D_SMTP_PASSWORD_FILE") from None

    def send(self, to: str, confirmation: Confirmation) -> None:
        """Send the confirmation mail to ``to``.

        Raises:
            MailError: mail is not configured, or the server could not be reached or refused the mail (503).
        """
        s = self.settings
        if not self.enabled or s.host is None:
            raise MailError("mail is not configured", hint="set TWIN3D_SMTP_HOST and TWIN3D_PUBLIC_URL")
        msg = self.message(to, confirmation)
        password = self._password()
        try:
            smtp: smtplib.SMTP
            if s.ssl:
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
            with smtp:
                if s.starttls and not s.ssl:
                    smtp.starttls(context=ssl.create_default_context())
                if s.user and password is not None:
                    smtp.login(s.user, password)
                smtp.send_message(msg, from_addr=s.sender, to_addrs=[to])
        except (OSError, smtplib.SMTPException) as exc:
            # Only the kind of failure and its SMTP code: the server's text may name the recipient.
            code = getattr(exc, "smtp_code", None)
            log.warning("a confirmation mail was not sent: %s%s", type(exc).__name__, f" ({code})" if code else "")
            raise MailError("the confirmation mail could not be sent", hint="try again in a few minutes") from None
