"""E-mail over SMTP (aiosmtplib: the event loop's own client, no thread per message).

Every message carries `Message-ID: <notification id@sender's domain>`, the same on every attempt: a
message sent again after a crash between the server's acceptance and our marking it sent is the same
message, which mail stores and clients recognise as such. It also carries RFC 2369/8058's
List-Unsubscribe with List-Unsubscribe-Post, so a mail client offers one-click unsubscribe."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, parseaddr

import aiosmtplib

from backend.notifications.channels import Outgoing, PermanentFailure, TemporaryFailure
from backend.notifications.repository import PreferenceRec
from backend.settings import Settings

# Lines up to RFC 5322's 998 characters: folded at 78 (the SMTP policy's default), a long List-Unsubscribe
# URL (no space to fold at) would go out as an RFC 2047 encoded word, which mail clients do not read as a URL.
_POLICY = SMTP.clone(max_line_length=998)


class EmailChannel:
    """The e-mail channel on the SMTP server the settings name."""

    name = "email"

    def __init__(self, settings: Settings) -> None:
        if settings.smtp_host is None:
            raise ValueError("the e-mail channel needs SMTP_HOST")
        self.settings = settings
        self.sender = parseaddr(settings.smtp_from)[1]  # the envelope's MAIL FROM
        self.domain = self.sender.rpartition("@")[2] or "localhost"

    def address(self, preference: PreferenceRec) -> str | None:
        """The customer's own (checked) address, else the one their identity provider gave; None once
        unsubscribed. An address waiting for its check is not used."""
        if not preference.email_enabled:
            return None
        return preference.email or preference.provider_email

    def compose(self, message: Outgoing) -> EmailMessage:
        """The MIME message as sent (plain UTF-8 text)."""
        mail = EmailMessage()
        mail["From"] = self.settings.smtp_from
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = f"<{message.id}@{self.domain}>"
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to it
        if message.unsubscribe_url is not None:  # an address check is no list: it unsubscribes no one
            mail["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        mail.set_content(message.body)
        mail["Content-Language"] = message.language  # after set_content, which drops Content-* headers
        return mail

    async def send(self, message: Outgoing) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                self.compose(message).as_bytes(policy=_POLICY),  # bytes: aiosmtplib would refold at 78
                sender=self.sender,
                recipients=[message.to],
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username,
                password=s.smtp_password,
                use_tls=s.smtp_tls == "tls",
                start_tls=False if s.smtp_tls != "auto" else None,  # None: STARTTLS when the server offers it
                timeout=s.smtp_timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [r.code for r in refused.recipients]
            failure = PermanentFailure if all(c >= 500 for c in codes) else TemporaryFailure
            raise failure(f"recipient refused: {refused}") from None
        except aiosmtplib.SMTPResponseException as answer:
            failure = PermanentFailure if answer.code >= 500 else TemporaryFailure
            raise failure(f"SMTP {answer.code}: {answer.message}") from None
        except (aiosmtplib.SMTPException, OSError) as away:  # refused, unreachable, timed out, disconnected
            raise TemporaryFailure(f"{type(away).__name__}: {away}") from None
