"""Creating, finding and authenticating users; changing their password."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    spend_verification_time,
    verify_password,
)
from app.store.accounts import ROLES, User

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    """A request about an account that cannot be done; `field` names the form field at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_problem(email: str) -> str | None:
    if len(email) > 320 or not _EMAIL.match(email):
        return "Enter an email address like name@example.org."
    return None


def find_user(session: Session, email: str) -> User | None:
    """The active user with this email, if any."""
    return session.scalars(
        select(User).where(User.email == normalise_email(email), User.deleted_at.is_(None))
    ).one_or_none()


def create_user(
    session: Session, *, email: str, display_name: str, password: str, role: str = "trainee"
) -> User:
    """A new user; raises AccountError naming the field when something is not acceptable."""
    email = normalise_email(email)
    display_name = display_name.strip()
    if problem := email_problem(email):
        raise AccountError(problem, field="email")
    if not display_name or len(display_name) > 200:
        raise AccountError(
            "Enter the name you would like to be called (up to 200 characters).",
            field="display_name",
        )
    if role not in ROLES:
        raise AccountError(f"The role must be one of: {', '.join(ROLES)}.", field="role")
    if problem := password_problem(password, email=email):
        raise AccountError(problem, field="password")
    if session.scalars(select(User.id).where(User.email == email)).first() is not None:
        raise AccountError(
            "We could not create an account with this email. If you already have one, "
            "log in or reset your password.",
            field="email",
        )
    user = User(
        email=email, display_name=display_name, role=role, password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user these credentials belong to, or None (taking the same time either way)."""
    user = find_user(session, email)
    if user is None:
        spend_verification_time(password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def set_password(user: User, new_password: str) -> None:
    """Replace the password (the caller ends the user's sessions)."""
    if problem := password_problem(new_password, email=user.email):
        raise AccountError(problem, field="new_password")
    user.password_hash = hash_password(new_password)


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise AccountError(
            "Your current password is not right. Try again.", field="current_password"
        )
    set_password(user, new_password)
