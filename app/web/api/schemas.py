"""The API's request and response bodies. Requests refuse unknown fields (no mass assignment)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.learning import Progress

Id = Annotated[str, Field(min_length=1, max_length=64)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenRequest(Request):
    email: Annotated[str, Field(max_length=320)]
    password: Annotated[str, Field(max_length=1025)]


class TokenOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_at: datetime


class MeOut(BaseModel):
    email: str
    display_name: str
    role: str
    csrf_token: str = Field(
        description="Send as X-CSRF-Token on writes authenticated by the session cookie."
    )


class DeleteAccountRequest(Request):
    password: Annotated[str, Field(max_length=1025)]


class ProgrammeOut(BaseModel):
    id: str
    title: str
    version: str
    summary: str
    enrolled: bool


class EnrolRequest(Request):
    programme_id: Id | None = None
    join_code: Annotated[str, Field(max_length=64)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> EnrolRequest:
        if (self.programme_id is None) == (self.join_code is None):
            raise ValueError("send either programme_id or join_code")
        return self


class LessonRef(BaseModel):
    module_id: str
    lesson_id: str


class ModuleStatusOut(BaseModel):
    id: str
    title: str
    status: Literal["not-started", "in-progress", "completed"]
    status_text: str
    lessons_completed: int
    lessons_total: int
    waiting_for: list[str] = Field(description="Modules to finish before this one opens.")


class ProgressOut(BaseModel):
    lessons_completed: int
    lessons_total: int
    percent: int
    completed_minutes: int = Field(
        description="Estimated reading minutes of the lessons completed."
    )
    seconds_spent: int = Field(
        description="Time spent reading: between lesson events, capped at 20 minutes a visit."
    )
    resume: LessonRef | None
    next_lesson: LessonRef | None
    completed: list[LessonRef]
    modules: list[ModuleStatusOut]

    @classmethod
    def of(cls, progress: Progress, **more: Any) -> Self:
        """The summary of `progress` (plus `more` fields of a subclass)."""

        def ref(key: tuple[str, str] | None) -> LessonRef | None:
            return LessonRef(module_id=key[0], lesson_id=key[1]) if key else None

        return cls(
            **more,
            lessons_completed=progress.lessons_completed,
            lessons_total=progress.lessons_total,
            percent=progress.percent,
            completed_minutes=progress.completed_minutes,
            seconds_spent=progress.seconds_spent,
            resume=ref(progress.resume),
            next_lesson=ref(progress.next_lesson),
            completed=[
                LessonRef(module_id=m, lesson_id=lesson)
                for m, lesson in progress.release.lesson_ids()
                if (m, lesson) in progress.completed
            ],
            modules=[
                ModuleStatusOut(
                    id=mp.module.id,
                    title=mp.module.title,
                    status=mp.status,
                    status_text=mp.status_words,
                    lessons_completed=mp.completed,
                    lessons_total=mp.total,
                    waiting_for=[m.id for m in mp.waiting_for],
                )
                for mp in progress.modules
            ],
        )


class CompetencyOut(BaseModel):
    id: str
    name: str
    core: bool
    level: str


class EnrolmentOut(BaseModel):
    programme_id: str
    title: str
    version: str
    enrolled_at: datetime
    cohort_id: int | None
    newer_version: str | None = Field(description="A newer release the trainee can move to.")
    progress: ProgressOut
    competencies: list[CompetencyOut]
    certificate_status: str


class OutlineLessonOut(BaseModel):
    id: str
    title: str
    minutes: int
    completed: bool


class OutlineModuleOut(ModuleStatusOut):
    minutes: int
    lessons: list[OutlineLessonOut]


class OutlineOut(BaseModel):
    programme_id: str
    title: str
    version: str
    modules: list[OutlineModuleOut]


class ReflectionOut(BaseModel):
    prompt_id: str
    text: str
    shared_with_trainer: bool
    updated_at: datetime


class ReflectionSavedOut(BaseModel):
    """The answer to saving a reflection: it does not repeat the text, so no copy of it is
    kept with the idempotency record."""

    prompt_id: str
    characters: int
    shared_with_trainer: bool
    updated_at: datetime


class SegmentOut(BaseModel):
    kind: str
    html: str
    ref: str | None
    reflection: ReflectionOut | None = None


class LessonOut(BaseModel):
    module_id: str
    lesson_id: str
    title: str
    minutes: int
    completed: bool
    previous: LessonRef | None
    next: LessonRef | None
    segments: list[SegmentOut]


class ReflectionIn(Request):
    text: Annotated[str, Field(max_length=20_000)]
    shared_with_trainer: bool = False


class CompletedIn(Request):
    module_id: Id
    lesson_id: Id
    at: datetime | None = None


class PositionIn(Request):
    module_id: Id
    lesson_id: Id
    at: datetime


class TimeIn(Request):
    module_id: Id
    lesson_id: Id
    seconds: Annotated[int, Field(ge=0, le=3600)]


class ProgressIn(Request):
    """Progress to merge: completions are added, the newest position wins, time is added."""

    completed: Annotated[list[CompletedIn], Field(max_length=500)] = Field(default_factory=list)
    position: PositionIn | None = None
    time: Annotated[list[TimeIn], Field(max_length=500)] = Field(default_factory=list)


class MergedProgressOut(ProgressOut):
    ignored: list[LessonRef] = Field(description="Lessons not in the trainee's release.")
