"""Competency and certification rules, as written in a programme manifest."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CompetencyLevelName = Literal["not-yet", "developing", "competent", "proficient"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CompetencyRules(Strict):
    """Thresholds that turn evidence for one competency into a level."""

    knowledge_pass: float = Field(default=0.8, gt=0, le=1)
    sjt_competent: float = Field(default=0.7, gt=0, le=1)
    sjt_proficient: float = Field(default=0.85, gt=0, le=1)
    roleplay_competent: float = Field(default=3.0, ge=1, le=4)
    roleplay_proficient: float = Field(default=3.5, ge=1, le=4)
    overrides: dict[str, CompetencyRuleOverride] = Field(default_factory=dict)


class CompetencyRuleOverride(Strict):
    knowledge_pass: float | None = Field(default=None, gt=0, le=1)
    sjt_competent: float | None = Field(default=None, gt=0, le=1)
    sjt_proficient: float | None = Field(default=None, gt=0, le=1)
    roleplay_competent: float | None = Field(default=None, ge=1, le=4)
    roleplay_proficient: float | None = Field(default=None, ge=1, le=4)


class RenewalRules(Strict):
    continuing_education_hours: float = Field(default=0, ge=0)
    ethics_hours: float = Field(default=0, ge=0)


class CertificationRules(Strict):
    title: str = Field(min_length=1)
    statement: str = ""
    require_all_modules: bool = True
    min_hours: float = Field(default=0, ge=0)
    knowledge_checks_passed: bool = True
    core_competency_min_level: CompetencyLevelName = "competent"
    no_unresolved_harmful_rating: bool = True
    issue: Literal["manual", "automatic"] = "manual"
    validity_months: int | None = Field(default=24, ge=1, le=240)
    renewal: RenewalRules = Field(default_factory=RenewalRules)


CompetencyRules.model_rebuild()
