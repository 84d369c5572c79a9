"""Publishing the curriculum that ships with the server, at start-up."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from app.catalog import publish_release
from app.compiler import compile_curriculum
from app.config import Settings
from app.store import Database

log = logging.getLogger("peerpath.web")


class CurriculumInvalid(RuntimeError):
    """The bundled curriculum has errors; the server will not publish it."""


def publish_bundled_curriculum(settings: Settings, database: Database) -> None:
    """Compile the curriculum at `settings.curriculum_path` and publish it if it is new.

    A curriculum with errors is never published: start-up fails with every diagnostic.
    """
    if not (settings.curriculum_path / "curriculum").is_dir():
        log.warning(
            "no curriculum folder in %s; serving published releases only", settings.curriculum_path
        )
        return
    result = compile_curriculum(
        settings.curriculum_path, cache_dir=settings.data_dir / "cache" / "compiler"
    )
    if result.release is None or result.errors:
        report = "\n".join(str(d) for d in result.errors)
        raise CurriculumInvalid(f"the bundled curriculum has errors:\n{report}")
    try:
        with database.unit_of_work() as session:
            publish_release(session, result.release, changelog="Bundled curriculum")
    except IntegrityError:
        # Another server process published the same release at the same moment.
        log.info("release %s was published by another process", result.release.content_hash)
