"""`peerpath user create`: the first administrator, from the command line."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from app.accounts import verify_password
from app.cli import cli
from app.config import Settings
from app.store import connect
from app.store.accounts import User


def test_user_create_makes_an_admin_with_a_password_from_stdin(database_url: str) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "user",
            "create",
            "--email",
            "Ada@Example.org",
            "--name",
            "Ada",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input="a long admin passphrase\n",
        env={"DATABASE_URL": database_url},
    )
    assert result.exit_code == 0, result.output
    database = connect(Settings(database_url=database_url))
    with database.unit_of_work(write=False) as session:
        user = session.scalars(select(User)).one()
    database.dispose()
    assert (user.email, user.role) == ("ada@example.org", "admin")
    assert verify_password(user.password_hash, "a long admin passphrase")


def test_user_create_prompts_twice_and_refuses_a_short_password(database_url: str) -> None:
    result = CliRunner().invoke(
        cli,
        ["user", "create", "--email", "b@example.org", "--name", "B"],
        input="short\nshort\n",
        env={"DATABASE_URL": database_url},
    )
    assert result.exit_code == 1
    assert "at least 8 characters" in result.output


def test_user_create_refuses_an_unknown_role_before_asking_for_a_password(
    database_url: str,
) -> None:
    result = CliRunner().invoke(
        cli,
        ["user", "create", "--email", "c@example.org", "--name", "C", "--role", "boss"],
        env={"DATABASE_URL": database_url},
    )
    assert (
        result.exit_code == 2 and "choose one of trainee, trainer, admin, verifier" in result.output
    )
