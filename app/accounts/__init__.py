"""Accounts: users and roles, passwords, sessions, login rate limits, resets, privacy."""

from app.accounts.passwords import hash_password, password_problem, verify_password
from app.accounts.privacy import RETENTION_CHECKS, delete_account, export_user_data
from app.accounts.rate_limits import (
    PER_ACCOUNT,
    PER_ADDRESS,
    account_bucket,
    address_bucket,
    record_failure,
    retry_after,
)
from app.accounts.reset import make_reset_token, send_reset_link, user_for_reset_token
from app.accounts.sessions import (
    SignedInAccount,
    account_for_token,
    end_all_sessions,
    end_session,
    start_session,
)
from app.accounts.users import (
    AccountError,
    authenticate,
    change_password,
    create_user,
    find_user,
    normalise_email,
    set_password,
)
from app.store.accounts import ROLES, User

__all__ = [
    "PER_ACCOUNT",
    "PER_ADDRESS",
    "RETENTION_CHECKS",
    "ROLES",
    "AccountError",
    "SignedInAccount",
    "User",
    "account_bucket",
    "account_for_token",
    "address_bucket",
    "authenticate",
    "change_password",
    "create_user",
    "delete_account",
    "end_all_sessions",
    "end_session",
    "export_user_data",
    "find_user",
    "hash_password",
    "make_reset_token",
    "normalise_email",
    "password_problem",
    "record_failure",
    "retry_after",
    "send_reset_link",
    "set_password",
    "start_session",
    "user_for_reset_token",
    "verify_password",
]
