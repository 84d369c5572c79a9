"""The certificate record: what a certificate states, and the canonical bytes that get signed.

The record is immutable once signed. Its status (revoked, superseded, expired) is not part of
it: status changes after signing, so it lives in the registry and the published status list.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Literal

import rfc8785
from pydantic import BaseModel, ConfigDict, Field

RECORD_FORMAT = 1
LevelName = Literal["not-yet", "developing", "competent", "proficient"]


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Holder(Frozen):
    name: str = Field(min_length=1, max_length=200)


class Programme(Frozen):
    id: str
    title: str
    certificate_title: str
    statement: str = ""


class ReleaseRef(Frozen):
    version: str
    content_hash: str


class CompetencyResult(Frozen):
    id: str
    name: str
    level: LevelName


class Issuer(Frozen):
    name: str
    url: str


class Renewal(Frozen):
    """Evidence recorded when a certificate was renewed."""

    continuing_education_hours: float = Field(ge=0)
    ethics_hours: float = Field(ge=0)
    previous_expiry: date | None = None


class CertificateRecord(Frozen):
    """What one version of a certificate states; signed as canonical JSON."""

    format: int = RECORD_FORMAT
    id: str
    version: int = Field(default=1, ge=1)
    supersedes: str | None = None
    holder: Holder
    programme: Programme
    release: ReleaseRef
    competencies: tuple[CompetencyResult, ...]
    learning_hours: float = Field(ge=0)
    issued_on: date
    expires_on: date | None
    issuer: Issuer
    renewal: Renewal | None = None

    def canonical_json(self) -> bytes:
        """RFC 8785 (JCS) bytes: sorted keys, no whitespace, UTF-8; what the signature covers."""
        return rfc8785.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_canonical_json(cls, data: bytes | str) -> CertificateRecord:
        return cls.model_validate(json.loads(data))
