"""Typed forms of the curriculum files (front matter, manifest) and of a compiled release."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.scoring.definitions import Assessment
from app.scoring.rules import CertificationRules, CompetencyRules

ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
SEMVER_PATTERN = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"

Identifier = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
Language = Annotated[str, Field(pattern=LANGUAGE_PATTERN, max_length=35)]
Text = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- the programme manifest: curriculum/<programme>.yaml ---------------------------------


class Competency(Strict):
    id: Identifier
    name: Text
    description: str = ""
    core: bool = False
    levels: dict[int, str]

    @field_validator("levels")
    @classmethod
    def _every_level_described(cls, levels: dict[int, str]) -> dict[int, str]:
        missing = [level for level in (1, 2, 3, 4) if not str(levels.get(level) or "").strip()]
        if missing:
            raise ValueError(f"every level 1–4 needs a descriptor; missing: {missing}")
        extra = sorted(level for level in levels if level not in (1, 2, 3, 4))
        if extra:
            raise ValueError(f"levels are 1–4; unexpected: {extra}")
        return levels


class GlossaryEntry(Strict):
    id: Identifier
    term: Text
    definition: Text


class ProgrammeManifest(Strict):
    """The validated programme manifest."""

    id: Identifier
    title: Text
    version: Annotated[str, Field(pattern=SEMVER_PATTERN)]
    default_language: Language
    languages: list[Language] = Field(min_length=1)
    summary: str = ""
    certificate_template: Identifier
    competencies: list[Competency] = Field(min_length=1)
    modules: list[Identifier] = Field(min_length=1)
    glossary: list[GlossaryEntry] = Field(default_factory=list)
    competency_rules: CompetencyRules = Field(default_factory=CompetencyRules)
    certification: CertificationRules

    @model_validator(mode="after")
    def _default_language_listed(self) -> ProgrammeManifest:
        if self.default_language not in self.languages:
            raise ValueError(
                f"default_language {self.default_language!r} must be listed in languages"
            )
        return self


# --- front matter ------------------------------------------------------------------------


class ModuleFrontMatter(Strict):
    id: Identifier
    title: Text
    minutes: int = Field(ge=1, le=100_000)
    objectives: list[Text] = Field(default_factory=list)
    competencies: list[Identifier] = Field(default_factory=list)
    prerequisites: list[Identifier] = Field(default_factory=list)
    content_warning: str | None = None
    lang: Language | None = None
    sources: list[Text] = Field(default_factory=list)


class LessonFrontMatter(Strict):
    id: Identifier
    title: Text
    minutes: int | None = Field(default=None, ge=1, le=100_000)
    content_warning: str | None = None
    lang: Language | None = None


class ModuleTranslationFrontMatter(Strict):
    id: Identifier
    title: Text | None = None
    objectives: list[Text] | None = None
    lang: Language | None = None


class LessonTranslationFrontMatter(Strict):
    id: Identifier
    title: Text | None = None
    lang: Language | None = None


# --- the compiled release ------------------------------------------------------------------

SegmentKind = Literal["html", "reflection", "assessment", "crisis-resources"]


class Segment(Strict):
    """A piece of a lesson: sanitised HTML, a reflection prompt, an assessment or crisis contacts."""

    kind: SegmentKind
    html: str = ""
    ref: str | None = None


class LessonTranslation(Strict):
    title: str
    segments: list[Segment]


class CompiledLesson(Strict):
    id: str
    title: str
    minutes: int
    content_warning: str | None = None
    segments: list[Segment]
    translations: dict[str, LessonTranslation] = Field(default_factory=dict)

    def title_for(self, lang: str) -> str:
        translation = self.translations.get(lang)
        return translation.title if translation else self.title

    def segments_for(self, lang: str) -> list[Segment]:
        translation = self.translations.get(lang)
        return translation.segments if translation else self.segments

    @property
    def reflection_ids(self) -> list[str]:
        return [s.ref for s in self.segments if s.kind == "reflection" and s.ref]

    @property
    def assessment_ids(self) -> list[str]:
        return [s.ref for s in self.segments if s.kind == "assessment" and s.ref]


class ModuleTranslation(Strict):
    title: str
    objectives: list[str]
    overview_html: str


class CompiledModule(Strict):
    id: str
    title: str
    minutes: int
    objectives: list[str]
    competencies: list[str]
    prerequisites: list[str]
    content_warning: str | None = None
    sources: list[str] = Field(default_factory=list)
    overview_html: str = ""
    lessons: list[CompiledLesson]
    translations: dict[str, ModuleTranslation] = Field(default_factory=dict)

    def title_for(self, lang: str) -> str:
        translation = self.translations.get(lang)
        return translation.title if translation else self.title

    def objectives_for(self, lang: str) -> list[str]:
        translation = self.translations.get(lang)
        return translation.objectives if translation else self.objectives

    def overview_for(self, lang: str) -> str:
        translation = self.translations.get(lang)
        return translation.overview_html if translation else self.overview_html

    def lesson(self, lesson_id: str) -> CompiledLesson:
        for lesson in self.lessons:
            if lesson.id == lesson_id:
                return lesson
        raise KeyError(lesson_id)


class Asset(Strict):
    media_type: str
    data: str  # base64


@dataclass(frozen=True)
class _ReleaseIndex:
    modules_by_id: dict[str, CompiledModule]
    lesson_ids: tuple[tuple[str, str], ...]
    lesson_set: frozenset[tuple[str, str]]
    minutes: dict[tuple[str, str], int]

    @classmethod
    def of(cls, modules: list[CompiledModule]) -> _ReleaseIndex:
        lessons = [(m.id, lesson.id, lesson.minutes) for m in modules for lesson in m.lessons]
        ids = tuple((module_id, lesson_id) for module_id, lesson_id, _ in lessons)
        return cls(
            {m.id: m for m in modules},
            ids,
            frozenset(ids),
            {(module_id, lesson_id): minutes for module_id, lesson_id, minutes in lessons},
        )


class Release(Strict):
    """An immutable, content-hashed compiled curriculum: what the server loads."""

    programme: ProgrammeManifest
    content_hash: str
    modules: list[CompiledModule]
    assessments: dict[str, Assessment] = Field(default_factory=dict)
    assets: dict[str, Asset] = Field(default_factory=dict)
    certificate_files: dict[str, str] = Field(default_factory=dict)

    @cached_property
    def _index(self) -> _ReleaseIndex:
        # Asked on every lesson page and progress write: worked out once (a release never
        # changes). A cached property, not a private attribute: pydantic looks those up
        # through __getattr__, which costs more than the lookups themselves.
        return _ReleaseIndex.of(self.modules)

    @property
    def version(self) -> str:
        return self.programme.version

    def module(self, module_id: str) -> CompiledModule:
        return self._index.modules_by_id[module_id]

    def lesson(self, module_id: str, lesson_id: str) -> CompiledLesson:
        return self.module(module_id).lesson(lesson_id)

    def lesson_ids(self) -> tuple[tuple[str, str], ...]:
        """Every lesson, in reading order."""
        return self._index.lesson_ids

    def has_lesson(self, module_id: str, lesson_id: str) -> bool:
        return (module_id, lesson_id) in self._index.lesson_set

    def lesson_minutes(self, module_id: str, lesson_id: str) -> int:
        return self._index.minutes[module_id, lesson_id]
