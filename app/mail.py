"""Sending email through the SMTP server the settings name (password resets, expiry reminders)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from app.config import Settings


class MailError(Exception):
    """The SMTP server could not be reached or refused the message."""


def smtp_send(settings: Settings, message: EmailMessage) -> None:
    """Send through `PEERPATH_SMTP_HOST` (which must be set), with STARTTLS and login if
    configured; raises `MailError` when the message was not accepted."""
    if not settings.smtp_host:
        raise MailError("no PEERPATH_SMTP_HOST is set")
    try:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20)
        try:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(message)
        finally:
            _hang_up(smtp)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"could not send to {message['To']}: {error}") from error


def _hang_up(smtp: smtplib.SMTP) -> None:
    """End the session. Once the server has accepted the message, a failed QUIT must not report
    it unsent: the caller would send it again (smtplib's context manager raises on it)."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
