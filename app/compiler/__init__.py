"""The curriculum compiler: curriculum files → validated, rendered, content-hashed release."""

from app.compiler.build import BuildResult, check_curriculum, compile_curriculum, content_hash
from app.compiler.diagnostics import Diagnostic
from app.compiler.models import (
    Asset,
    CompiledLesson,
    CompiledModule,
    LessonTranslation,
    ModuleTranslation,
    ProgrammeManifest,
    Release,
    Segment,
)
from app.compiler.releases import load_release, release_from_bytes, release_to_bytes, write_release

__all__ = [
    "Asset",
    "BuildResult",
    "CompiledLesson",
    "CompiledModule",
    "Diagnostic",
    "LessonTranslation",
    "ModuleTranslation",
    "ProgrammeManifest",
    "Release",
    "Segment",
    "check_curriculum",
    "compile_curriculum",
    "content_hash",
    "load_release",
    "release_from_bytes",
    "release_to_bytes",
    "write_release",
]
