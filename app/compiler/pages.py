"""One Markdown file (a module, a lesson or a translation of either) → a `PageResult`.

This is the unit of parallel work and of the on-disk cache: it depends only on the file's
bytes and the `RenderContext`, never on other files."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from app.compiler.diagnostics import Diagnostic, Diagnostics
from app.compiler.markdown import RenderContext, RenderedBody, render_body
from app.compiler.models import (
    LessonFrontMatter,
    LessonTranslationFrontMatter,
    ModuleFrontMatter,
    ModuleTranslationFrontMatter,
    Strict,
)
from app.compiler.yamlsource import MAX_YAML_BYTES, load_yaml, validate

PageKind = Literal["module", "lesson"]
MAX_PAGE_BYTES = 1024 * 1024
CROSS_CHECKED = {"id", "lang", "competencies", "prerequisites"}  # positions the build needs
FRONT_MATTER: dict[tuple[PageKind, bool], type[Strict]] = {
    ("module", False): ModuleFrontMatter,
    ("lesson", False): LessonFrontMatter,
    ("module", True): ModuleTranslationFrontMatter,
    ("lesson", True): LessonTranslationFrontMatter,
}


class PageJob(BaseModel):
    path: str  # relative to the curriculum root, with forward slashes
    kind: PageKind
    lang: str | None = None  # the language tag of a translation file, else None
    data: bytes


class PageResult(BaseModel):
    path: str
    kind: PageKind
    lang: str | None
    front: dict[str, Any] | None
    positions: dict[str, tuple[int, int]]
    diagnostics: list[Diagnostic]
    body: RenderedBody


def compile_page(job: PageJob, ctx: RenderContext) -> PageResult:
    """Parse front matter and body of one file; never raises on bad content."""
    report = Diagnostics(job.path)
    front: dict[str, Any] | None = None
    positions: dict[str, tuple[int, int]] = {}
    if len(job.data) > MAX_PAGE_BYTES:
        report.error(
            1, 1, f"file is {len(job.data) // 1024} KB; a Markdown file may be at most 1024 KB"
        )
        empty = RenderedBody(
            segments=[], module_links=[], assessments=[], reflections=[], images=[], empty=False
        )
        return PageResult(
            path=job.path,
            kind=job.kind,
            lang=job.lang,
            front=None,
            positions={},
            diagnostics=report.items,
            body=empty,
        )
    try:
        text = job.data.decode("utf-8")
    except UnicodeDecodeError as error:
        report.error(1, 1, f"file is not valid UTF-8 (byte {error.start})")
        text = job.data.decode("utf-8", "replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n").removeprefix("\ufeff")
    yaml_text, body, body_offset = _split_front_matter(text, report)
    if yaml_text is not None:
        document = load_yaml(yaml_text, report, line_offset=1, what="front matter")
        if document is not None:
            positions = {
                ".".join(str(p) for p in path): where
                for path, where in document.values.items()
                if path and path[0] in CROSS_CHECKED and len(path) <= 2
            }
            model = FRONT_MATTER[(job.kind, job.lang is not None)]
            parsed = validate(model, document, report)
            if parsed is not None:
                front = parsed.model_dump()
                _check_language(job, front, positions, ctx, report)
    rendered = render_body(job.path, body, body_offset, ctx, report)
    return PageResult(
        path=job.path,
        kind=job.kind,
        lang=job.lang,
        front=front,
        positions=positions,
        diagnostics=report.items,
        body=rendered,
    )


def _split_front_matter(text: str, report: Diagnostics) -> tuple[str | None, str, int]:
    """(front matter YAML or None, body, number of lines before the body)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        report.error(
            1, 1, "missing front matter: start the file with a YAML block between --- lines"
        )
        return None, text, 0
    size = 0
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 1
        size += len(lines[index]) + 1
        if size > MAX_YAML_BYTES:
            report.error(1, 1, "front matter is larger than 64 KB (or not closed with ---)")
            return None, "", len(lines)
    report.error(1, 1, "front matter is not closed: end it with a line of ---")
    return None, "", len(lines)


def _check_language(
    job: PageJob,
    front: dict[str, Any],
    positions: dict[str, tuple[int, int]],
    ctx: RenderContext,
    report: Diagnostics,
) -> None:
    lang = front.get("lang")
    if lang is None:
        return
    line, col = positions.get("lang", (1, 1))
    expected = job.lang or ctx.default_language
    if lang != expected:
        where = (
            f"the file name says {job.lang!r}" if job.lang else "this is a default-language file"
        )
        report.error(line, col, f"lang is {lang!r} but {where} ({expected!r})")
