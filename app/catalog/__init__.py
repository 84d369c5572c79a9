"""The catalogue of published curriculum releases: register, find the current one, load one."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.compiler import Release, release_from_bytes, release_to_bytes
from app.store import ReleaseRecord
from app.store.prepared import Connectable, Prepared, raw_connection_of


class UnknownProgramme(LookupError):
    """No release of this programme has been published."""


def publish_release(session: Session, release: Release, *, changelog: str = "") -> ReleaseRecord:
    """Store a release (once per content hash) and make it the programme's current one."""
    existing = session.scalars(
        select(ReleaseRecord).where(ReleaseRecord.content_hash == release.content_hash)
    ).one_or_none()
    if existing is not None:
        return existing
    record = ReleaseRecord(
        programme_id=release.programme.id,
        version=release.version,
        content_hash=release.content_hash,
        title=release.programme.title,
        payload=release_to_bytes(release),
        changelog=changelog,
    )
    session.add(record)
    session.flush()
    return record


def current_record(session: Session, programme_id: str) -> ReleaseRecord:
    """The programme's newest release: the one new enrolments are pinned to."""
    record = session.scalars(
        select(ReleaseRecord)
        .where(ReleaseRecord.programme_id == programme_id)
        .order_by(ReleaseRecord.id.desc())
        .limit(1)
    ).one_or_none()
    if record is None:
        raise UnknownProgramme(programme_id)
    return record


def programme_records(session: Session) -> list[ReleaseRecord]:
    """The current release of every programme, by title."""
    latest = {}
    for record in session.scalars(select(ReleaseRecord).order_by(ReleaseRecord.id)):
        latest[record.programme_id] = record
    return sorted(latest.values(), key=lambda r: r.title)


_CONTENT_HASH = Prepared(
    select(ReleaseRecord.content_hash).where(ReleaseRecord.id == bindparam("release"))
)
_PAYLOAD = Prepared(select(ReleaseRecord.payload).where(ReleaseRecord.id == bindparam("release")))


def load_release(
    session: Connectable, release_id: int, *, content_hash: str | None = None
) -> Release:
    """The compiled release behind a stored record, decoded once per process (pass its
    `content_hash` if the caller already read it, to save a query)."""
    if content_hash is None:
        found = _CONTENT_HASH.first(raw_connection_of(session), release=release_id)
        content_hash = found[0] if found else None
    if content_hash is None:
        raise LookupError(f"no release with id {release_id}")
    cached = _decoded.get(content_hash)
    if cached is None:
        found = _PAYLOAD.first(raw_connection_of(session), release=release_id)
        assert found is not None
        cached = _remember(content_hash, release_from_bytes(found[0]))
    return cached


def release_of(record: ReleaseRecord) -> Release:
    """The compiled release of a record already loaded."""
    cached = _decoded.get(record.content_hash)
    return (
        cached
        if cached is not None
        else _remember(record.content_hash, release_from_bytes(record.payload))
    )


_decoded: dict[str, Release] = {}
_MAX_DECODED = 32


def _remember(content_hash: str, release: Release) -> Release:
    if len(_decoded) >= _MAX_DECODED:
        _decoded.pop(next(iter(_decoded)))
    _decoded[content_hash] = release
    return release
