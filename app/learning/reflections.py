"""Private reflections: the trainee's own words, shown to nobody else unless they share them.

Highest sensitivity: their text is never logged, and pages showing it are never cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.store.base import utcnow
from app.store.learning import Enrolment, Reflection
from app.store.prepared import Connectable, HasId, Prepared, raw_connection_of

MAX_REFLECTION_CHARS = 20_000


class ReflectionTooLong(ValueError):
    pass


@dataclass(frozen=True)
class SavedReflection:
    prompt_id: str
    text: str
    shared_with_trainer: bool
    updated_at: datetime


_FOR_LESSON = Prepared(
    select(
        Reflection.prompt_id, Reflection.text, Reflection.shared_with_trainer, Reflection.updated_at
    ).where(
        Reflection.enrolment_id == bindparam("enrolment"),
        Reflection.module_id == bindparam("module"),
        Reflection.lesson_id == bindparam("lesson"),
    )
)


def reflections_for_lesson(
    session: Connectable, enrolment: HasId, module_id: str, lesson_id: str
) -> dict[str, SavedReflection]:
    """The trainee's saved reflections on one lesson, by prompt."""
    rows = _FOR_LESSON.rows(
        raw_connection_of(session), enrolment=enrolment.id, module=module_id, lesson=lesson_id
    )
    return {row[0]: SavedReflection(*row) for row in rows}


def save_reflection(
    session: Session,
    enrolment: Enrolment,
    module_id: str,
    lesson_id: str,
    prompt_id: str,
    text: str,
    *,
    shared_with_trainer: bool,
) -> Reflection:
    """Save (or replace) the trainee's answer to one prompt."""
    if len(text) > MAX_REFLECTION_CHARS:
        raise ReflectionTooLong(
            f"Reflections can be up to {MAX_REFLECTION_CHARS:,} characters; this one is "
            f"{len(text):,}. Shorten it, or split it over two saves."
        )
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    session.execute(
        insert(Reflection)
        .values(
            enrolment_id=enrolment.id,
            module_id=module_id,
            lesson_id=lesson_id,
            prompt_id=prompt_id,
            text=text,
            shared_with_trainer=shared_with_trainer,
            updated_at=now,
        )
        .on_conflict_do_update(
            index_elements=["enrolment_id", "module_id", "lesson_id", "prompt_id"],
            set_={"text": text, "shared_with_trainer": shared_with_trainer, "updated_at": now},
        )
    )
    return session.scalars(
        select(Reflection)
        .where(
            Reflection.enrolment_id == enrolment.id,
            Reflection.module_id == module_id,
            Reflection.lesson_id == lesson_id,
            Reflection.prompt_id == prompt_id,
        )
        .execution_options(populate_existing=True)
    ).one()
