"""The audit log keeps who did what, and still reads after the actor's account is gone."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from app.audit import recent, record
from app.store import Database
from app.store.accounts import User


def test_entries_are_listed_newest_first_and_survive_the_actor_being_removed(db: Database) -> None:
    with db.unit_of_work() as session:
        trainer = User(
            email="t@example.org", display_name="Asha", role="trainer", password_hash="x"
        )
        session.add(trainer)
        session.flush()
        record(session, trainer, "rating.recorded", "role-play", 7, {"item": "open-questions"})
        record(session, None, "release.published", "release", 3)
    with db.unit_of_work() as session:
        session.execute(delete(User).where(User.email == "t@example.org"))
    with db.unit_of_work(write=False) as session:
        newest, oldest = recent(session)
        assert (newest.action, newest.actor_label) == ("release.published", "system")
        assert oldest.actor_id is None and oldest.actor_label == "Asha <t@example.org>"
        assert oldest.details == {"item": "open-questions"}


def test_an_unknown_action_is_refused(db: Database) -> None:
    with db.unit_of_work() as session, pytest.raises(ValueError, match="unknown audit action"):
        record(session, None, "something.else", "x", 1)
