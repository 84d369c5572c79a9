"""Forgotten passwords: a signed, expiring, single-use reset link, mailed or logged."""

from __future__ import annotations

import hashlib
import logging
from email.message import EmailMessage

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from app.config import Settings
from app.mail import MailError, smtp_send
from app.store.accounts import User

log = logging.getLogger("peerpath.accounts")

RESET_LINK_MINUTES = 60


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="peerpath-password-reset")


def _password_fingerprint(user: User) -> str:
    # Part of the token: once the password changes, every earlier link stops working.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_reset_token(secret: str, user: User) -> str:
    return _serializer(secret).dumps([user.id, _password_fingerprint(user)])


def user_for_reset_token(session: Session, secret: str, token: str) -> User | None:
    """The user a reset token was made for, if it is genuine, unused and not expired."""
    try:
        user_id, fingerprint = _serializer(secret).loads(token, max_age=RESET_LINK_MINUTES * 60)
    except (BadSignature, ValueError, TypeError):
        return None
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or fingerprint != _password_fingerprint(user):
        return None
    return user


def send_reset_link(settings: Settings, email: str, link: str) -> None:
    """Mail the link when SMTP is configured; otherwise log it for the administrator to pass on."""
    if not settings.smtp_host:
        log.warning(
            "password reset requested; no PEERPATH_SMTP_HOST is set, so give this link to the "
            "account holder yourself (valid %d minutes): %s",
            RESET_LINK_MINUTES,
            link,
        )
        return
    message = EmailMessage()
    message["Subject"] = f"Reset your {settings.site_name} password"
    message["From"] = settings.smtp_from
    message["To"] = email
    message.set_content(
        f"Someone asked to reset the password of your {settings.site_name} account.\n\n"
        f"To choose a new password, open this link within {RESET_LINK_MINUTES} minutes:\n{link}\n\n"
        "If it was not you, ignore this email: your password stays the same.\n"
    )
    try:
        smtp_send(settings, message)
    except MailError:
        log.exception("could not send a password reset email")
