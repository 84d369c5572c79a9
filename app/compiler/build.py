"""The build pipeline: load the manifest → collect files → compile pages (in parallel, cached)
→ load assessments → check every cross-reference → assemble a content-hashed release."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from pydantic import BaseModel

from app.compiler.cache import PageCache
from app.compiler.diagnostics import Diagnostic, Diagnostics
from app.compiler.markdown import IMAGE_TYPES, ImageFile, RenderContext
from app.compiler.models import (
    Asset,
    CompiledLesson,
    CompiledModule,
    LessonTranslation,
    ModuleTranslation,
    ProgrammeManifest,
    Release,
)
from app.compiler.pages import PageJob, PageKind, PageResult, compile_page
from app.compiler.yamlsource import YamlDocument, load_yaml, validate
from app.scoring.definitions import QuestionAssessment, RolePlayAssessment, assessment_adapter

FORMAT_VERSION = "peerpath-curriculum/1"
MAX_ASSESSMENT_BYTES = 1024 * 1024
_TRANSLATION = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\.md$")
_LESSON_PREFIX = re.compile(r"^\d+-")
_UNSAFE_SVG = re.compile(rb"(?i)<script|<foreignobject|\son[a-z]+\s*=|javascript:|<!entity")
# File times are coarse (a clock tick, or 2 s on some file systems): a file's stat vouches for
# its bytes only once it has been left alone for longer than that.
_SETTLED_NS = 2_000_000_000

Progress = Callable[[int, int], None]
FileStamp = tuple[int, int, int, int, int, str]  # device, inode, size, mtime, ctime; SHA-256


@dataclass
class BuildResult:
    """A release (None when there were errors) and every diagnostic found on the way."""

    release: Release | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def ok(self, strict: bool = False) -> bool:
        return not self.errors and not (strict and self.warnings)


def check_curriculum(root: Path) -> list[Diagnostic]:
    """Validate every programme in a curriculum folder; return every diagnostic, sorted."""
    manifests = _manifest_files(root)
    if not manifests:
        return _no_manifest(root)
    found: dict[Diagnostic, None] = {}
    for manifest in manifests:
        for diagnostic in compile_curriculum(root, programme=manifest.stem).diagnostics:
            found[diagnostic] = None
    return sorted(found)


def compile_curriculum(
    root: Path,
    *,
    programme: str | None = None,
    cache_dir: Path | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Compile one programme of the curriculum at `root` into a release."""
    root = Path(root)
    manifests = _manifest_files(root)
    if not manifests:
        return BuildResult(None, _no_manifest(root))
    if programme is None and len(manifests) > 1:
        names = ", ".join(m.stem for m in manifests)
        message = f"several programmes ({names}): choose one to build"
        return BuildResult(None, [Diagnostic("curriculum", 1, 1, "error", message)])
    chosen = manifests[0] if programme is None else root / "curriculum" / f"{programme}.yaml"
    if not chosen.is_file():
        message = f"no manifest for programme {programme!r} (curriculum/{programme}.yaml)"
        return BuildResult(None, [Diagnostic("curriculum", 1, 1, "error", message)])
    build = _Build(root, chosen, cache_dir, workers, progress)
    try:
        release = build.run()
    finally:
        build.close()
    return BuildResult(release, sorted(set(build.diagnostics)))


def _manifest_files(root: Path) -> list[Path]:
    folder = root / "curriculum"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _no_manifest(root: Path) -> list[Diagnostic]:
    message = f"no programme manifest: expected curriculum/<programme-id>.yaml under {root}"
    return [Diagnostic("curriculum", 1, 1, "error", message)]


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


@dataclass
class _ModuleFiles:
    id: str
    module: str | None = None  # module.md path
    lessons: list[str] = field(default_factory=list)
    translations: dict[str, list[str]] = field(default_factory=dict)  # original -> translations
    has_images: bool = False


class _Build:
    def __init__(
        self,
        root: Path,
        manifest_path: Path,
        cache_dir: Path | None,
        workers: int | None,
        progress: Progress | None,
    ) -> None:
        self.root = root
        self.resolved_root = str(root.resolve())
        self.started_ns = time.time_ns()
        self.manifest_path = manifest_path
        self.manifest_rel = _rel(root, manifest_path)
        self.cache = PageCache(cache_dir)
        self.workers = workers or os.cpu_count() or 1
        self.progress = progress
        self.diagnostics: list[Diagnostic] = []
        self.inputs: dict[str, bytes] = {}  # path -> bytes, of the files read in this build
        self.digests: dict[str, bytes] = {}  # path -> SHA-256, of every input file
        self.stamps: dict[str, FileStamp] = {}  # path -> stat and digest, of settled pages
        self.pages: dict[str, PageResult] = {}
        self.module_pages: dict[str, list[str]] = {}  # module id -> paths of its pages
        self.module_keys: dict[str, str] = {}  # module id -> key over all its pages
        self.outputs: dict[str, CompiledModule] = {}  # module id -> compiled, from the snapshot
        self.not_in_snapshot = 0  # pages, and settled files whose stat it does not have
        self.elsewhere: set[str] = set()

    def close(self) -> None:
        self.inputs.clear()

    def report(self, path: str) -> Diagnostics:
        return Diagnostics(path, self.diagnostics)

    # --- phases ---------------------------------------------------------------------------

    def run(self) -> Release | None:
        loaded = self.load_manifest()
        if loaded is None:
            return None
        manifest, document = loaded
        self.check_manifest(manifest, document)
        modules = self.collect_modules(manifest, document)
        self.elsewhere = self.listed_by_any_manifest() - set(manifest.modules)
        self.warn_unlisted(self.elsewhere | set(manifest.modules))
        images = self.collect_images(modules)
        ctx = RenderContext(
            programme=manifest.id,
            default_language=manifest.default_language,
            languages=tuple(manifest.languages),
            glossary={entry.id: entry.term for entry in manifest.glossary},
            images=images,
        )
        self.compile_pages(modules, ctx)
        assessments = self.load_assessments(manifest)
        certificate_files = self.collect_certificate(manifest, document)
        compiled = self.assemble_modules(manifest, document, modules, assessments)
        self.save_snapshot(manifest.id, compiled)
        self.check_competency_evidence(manifest, document, compiled)
        if any(d.severity == "error" for d in self.diagnostics):
            return None
        return Release(
            programme=manifest,
            content_hash=self.content_hash(),
            modules=compiled,
            assessments=dict(sorted(assessments.items())),
            assets=self.collect_assets(images),
            certificate_files=certificate_files,
        )

    def read(self, path: Path) -> bytes:
        return self.read_relative(_rel(self.root, path))

    def read_relative(self, rel: str) -> bytes:
        with open(f"{self.root}/{rel}", "rb") as stream:
            data = stream.read()
        self.inputs[rel] = data
        self.digests[rel] = hashlib.sha256(data).digest()
        return data

    def page_digest(self, rel: str, known: dict[str, FileStamp]) -> bytes:
        """A Markdown file's SHA-256: the last build's when its stat has not changed since, else
        from its bytes. Only a settled file's stat is kept: a later write must change it."""
        try:
            stat = os.stat(f"{self.root}/{rel}")
        except OSError:
            self.read_relative(rel)  # gone since it was listed: let reading say so
            return self.digests[rel]
        stamp = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        entry = known.get(rel)
        if entry is not None and entry[:5] == stamp:
            self.digests[rel] = bytes.fromhex(entry[5])
        else:
            self.read_relative(rel)
        if stat.st_ctime_ns < self.started_ns - _SETTLED_NS:
            self.stamps[rel] = (*stamp, self.digests[rel].hex())
            if entry != self.stamps[rel]:
                self.not_in_snapshot += 1
        return self.digests[rel]

    def load_manifest(self) -> tuple[ProgrammeManifest, YamlDocument] | None:
        report = self.report(self.manifest_rel)
        text = self.read(self.manifest_path).decode("utf-8", "replace")
        document = load_yaml(text, report, what="the manifest")
        if document is None:
            return None
        manifest = validate(ProgrammeManifest, document, report)
        if manifest is None:
            return None
        if manifest.id != self.manifest_path.stem:
            line, col = document.value_at(("id",))
            report.error(
                line,
                col,
                f"programme id {manifest.id!r} must equal the file name {self.manifest_path.stem!r}",
            )
        return manifest, document

    def check_manifest(self, manifest: ProgrammeManifest, document: YamlDocument) -> None:
        report = self.report(self.manifest_rel)
        for name, ids in (
            (
                "competency",
                [(c.id, ("competencies", i, "id")) for i, c in enumerate(manifest.competencies)],
            ),
            ("module", [(m, ("modules", i)) for i, m in enumerate(manifest.modules)]),
            (
                "glossary term",
                [(g.id, ("glossary", i, "id")) for i, g in enumerate(manifest.glossary)],
            ),
        ):
            seen: set[str] = set()
            for value, path in ids:
                if value in seen:
                    line, col = document.value_at(path)
                    report.error(line, col, f"duplicate {name} id {value!r}")
                seen.add(value)
        known = {c.id for c in manifest.competencies}
        for competency in manifest.competency_rules.overrides:
            if competency not in known:
                line, col = document.key_at(("competency_rules", "overrides", competency))
                report.error(line, col, f"unknown competency {competency!r}")

    def listed_by_any_manifest(self) -> set[str]:
        """Module ids listed by the other manifests (they need not be valid for this build)."""
        listed: set[str] = set()
        for path in _manifest_files(self.root):
            if path == self.manifest_path:
                continue
            try:
                data = yaml.safe_load(path.read_bytes())
            except (yaml.YAMLError, OSError, RecursionError):
                continue
            if isinstance(data, dict) and isinstance(data.get("modules"), list):
                listed.update(m for m in data["modules"] if isinstance(m, str))
        return listed

    def warn_unlisted(self, listed: set[str]) -> None:
        try:
            entries = sorted(
                (e.name, e.path)
                for e in os.scandir(os.path.join(self.root, "modules"))
                if e.is_dir()
            )
        except OSError:
            return
        for name, full in entries:
            if name not in listed:
                has_module = os.path.isfile(os.path.join(full, "module.md"))
                path = f"modules/{name}/module.md" if has_module else f"modules/{name}"
                self.report(path).warning(
                    1,
                    1,
                    f"module folder {name!r} is not listed in any programme manifest; it is not built",
                )

    def collect_modules(
        self, manifest: ProgrammeManifest, document: YamlDocument
    ) -> list[_ModuleFiles]:
        report = self.report(self.manifest_rel)
        modules: list[_ModuleFiles] = []
        seen: set[str] = set()
        for index, module_id in enumerate(manifest.modules):
            if module_id in seen:
                continue
            seen.add(module_id)
            folder = f"modules/{module_id}"
            try:
                scanned = list(os.scandir(f"{self.root}/{folder}"))
            except OSError:
                scanned = []
            entries = sorted(e.name for e in scanned if e.is_file())
            if "module.md" not in entries:
                line, col = document.value_at(("modules", index))
                report.error(
                    line,
                    col,
                    f"module {module_id!r} is listed but {folder}/module.md does not exist",
                )
                continue
            files = _ModuleFiles(module_id)
            files.has_images = any(e.name == "images" and e.is_dir() for e in scanned)
            for name in entries:
                if not name.endswith(".md"):
                    continue
                rel = f"{folder}/{name}"
                translated = _TRANSLATION.match(name)
                if name == "module.md":
                    files.module = rel
                elif translated:
                    original = f"{folder}/{translated['stem']}.md"
                    files.translations.setdefault(original, []).append(rel)
                else:
                    files.lessons.append(rel)
            modules.append(files)
        return modules

    def collect_images(self, modules: list[_ModuleFiles]) -> dict[str, ImageFile]:
        images: dict[str, ImageFile] = {}
        for module in modules:
            if not module.has_images:
                continue
            folder = self.root / "modules" / module.id / "images"
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    data = self.read(path)
                    if path.suffix.lower() == ".svg" and _UNSAFE_SVG.search(data):
                        self.report(_rel(self.root, path)).error(
                            1, 1, "SVG image contains script, event handlers or foreign objects"
                        )
                    digest = hashlib.sha256(data).hexdigest()[:16]
                    images[_rel(self.root, path)] = ImageFile(
                        f"{digest}{path.suffix.lower()}", len(data)
                    )
        return images

    def compile_pages(self, modules: list[_ModuleFiles], ctx: RenderContext) -> None:
        keys = _Keys(_context_key(ctx), _image_keys(ctx))
        snapshot = _decode_snapshot(self.cache.get_snapshot(ctx.programme))
        known = snapshot.files if snapshot.root == self.resolved_root else {}
        total = done = 0
        missing: list[tuple[PageJob, str]] = []
        for module in modules:
            pages = [
                _Page(path, kind, lang, self.page_digest(path, known))
                for path, kind, lang in _pages_of(module)
            ]
            total += len(pages)
            self.module_pages[module.id] = [page.path for page in pages]
            self.module_keys[module.id] = keys.module(module.id, pages)
            entry = snapshot.modules.get(self.module_keys[module.id])
            if entry is not None and entry.fits(module.id, self.module_pages[module.id]):
                self.outputs[module.id] = entry.compiled
                self.pages.update(entry.pages)
                done += len(pages)
                continue
            # Assembled again, from whole pages: from their own cache files, else compiled.
            for index, page in enumerate(pages):
                self.not_in_snapshot += 1
                result = self.cached_page(keys.page(page), page.path)
                if result is None and page.path not in self.inputs:
                    # Known by its stat but not in the cache: its bytes have the last word
                    # (should its stamp be damaged, or the file have changed since).
                    self.read_relative(page.path)
                    page = pages[index] = replace(page, digest=self.digests[page.path])
                    if page.path in self.stamps:
                        self.stamps[page.path] = (*self.stamps[page.path][:5], page.digest.hex())
                    result = self.cached_page(keys.page(page), page.path)
                if result is None:
                    data = self.inputs[page.path]
                    job = PageJob(path=page.path, kind=page.kind, lang=page.lang, data=data)
                    missing.append((job, keys.page(page)))
                else:
                    self.pages[page.path] = result
                    done += 1
            self.module_keys[module.id] = keys.module(module.id, pages)
        if self.progress:
            self.progress(done, total)
        for batch in _compile_all(missing, ctx, self.workers, self.cache):
            for _key, data in batch:
                result = _decode(data)
                assert result is not None
                self.pages[result.path] = result
                done += 1
            if self.progress:
                self.progress(done, total)
        for paths in self.module_pages.values():
            for path in paths:
                self.diagnostics.extend(self.pages[path].diagnostics)

    def cached_page(self, key: str, path: str) -> PageResult | None:
        data = self.cache.get(key)
        result = _decode(data) if data is not None else None
        return result if result is not None and result.path == path else None

    def save_snapshot(self, programme: str, compiled: list[CompiledModule]) -> None:
        """Keep this build's compiled modules, their pages (without segments) and the files'
        stamps for the next one; unless it would differ from the last one only by a few files."""
        if self.not_in_snapshot <= max(16, sum(map(len, self.module_pages.values())) // 50):
            return  # a few changed pages are read from their own cache files
        snapshot = _Snapshot(
            modules={
                self.module_keys[module.id]: _ModuleEntry(
                    compiled=module,
                    pages={
                        path: _without_segments(self.pages[path])
                        for path in self.module_pages[module.id]
                    },
                )
                for module in compiled
            },
            root=self.resolved_root,
            files=self.stamps,
        )
        self.cache.put_snapshot(programme, snapshot.model_dump_json().encode())

    def load_assessments(
        self, manifest: ProgrammeManifest
    ) -> dict[str, QuestionAssessment | RolePlayAssessment]:
        folder = self.root / "assessments"
        loaded: dict[str, QuestionAssessment | RolePlayAssessment] = {}
        if not folder.is_dir():
            return loaded
        competencies = {c.id for c in manifest.competencies}
        modules = set(manifest.modules)
        for path in sorted(folder.iterdir()):
            if path.suffix not in (".yaml", ".yml") or not path.is_file():
                continue
            rel = _rel(self.root, path)
            report = self.report(rel)
            data = self.read(path)
            if len(data) > MAX_ASSESSMENT_BYTES:
                report.error(1, 1, "assessment file is larger than 1 MB")
                continue
            document = load_yaml(data.decode("utf-8", "replace"), report, what="an assessment")
            if document is None:
                continue
            assessment = validate(assessment_adapter, document, report)
            if assessment is None:
                continue
            if assessment.id != path.stem:
                line, col = document.value_at(("id",))
                report.error(
                    line,
                    col,
                    f"assessment id {assessment.id!r} must equal the file name {path.stem!r}",
                )
            if assessment.id in loaded:
                line, col = document.value_at(("id",))
                report.error(line, col, f"duplicate assessment id {assessment.id!r}")
                continue
            for index, competency in enumerate(assessment.competencies):
                if competency not in competencies:
                    line, col = document.value_at(("competencies", index))
                    report.error(line, col, f"unknown competency {competency!r}")
            if isinstance(assessment, QuestionAssessment):
                for index, item in enumerate(assessment.items):
                    if item.competency is not None and item.competency not in competencies:
                        line, col = document.value_at(("items", index, "competency"))
                        report.error(line, col, f"unknown competency {item.competency!r}")
            else:
                for index, rubric in enumerate(assessment.rubric):
                    if rubric.competency not in competencies:
                        line, col = document.value_at(("rubric", index, "competency"))
                        report.error(line, col, f"unknown competency {rubric.competency!r}")
            if assessment.module in self.elsewhere:
                continue  # it belongs to another programme's module
            if assessment.module is not None and assessment.module not in modules:
                line, col = document.value_at(("module",))
                report.error(
                    line,
                    col,
                    f"assessment module {assessment.module!r} is not a module of this programme",
                )
            loaded[assessment.id] = assessment
        return loaded

    def collect_certificate(
        self, manifest: ProgrammeManifest, document: YamlDocument
    ) -> dict[str, str]:
        report = self.report(self.manifest_rel)
        folder = self.root / "certificates" / manifest.certificate_template
        line, col = document.value_at(("certificate_template",))
        if not folder.is_dir():
            report.error(
                line,
                col,
                f"certificate template folder certificates/{manifest.certificate_template}/ does not exist",
            )
            return {}
        if not (folder / "certificate.html").is_file():
            report.error(
                line,
                col,
                f"certificates/{manifest.certificate_template}/certificate.html is missing",
            )
        files: dict[str, str] = {}
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                files[path.relative_to(folder).as_posix()] = base64.b64encode(
                    self.read(path)
                ).decode()
        return files

    # --- cross-references -------------------------------------------------------------------

    def assemble_modules(
        self,
        manifest: ProgrammeManifest,
        document: YamlDocument,
        modules: list[_ModuleFiles],
        assessments: dict[str, Any],
    ) -> list[CompiledModule]:
        competencies = {c.id for c in manifest.competencies}
        listed = set(manifest.modules)
        fronts: dict[str, dict[str, Any]] = {}
        lessons_of: dict[str, set[str]] = {}
        compiled: list[CompiledModule] = []
        for module in modules:
            built = self.assemble_module(module, manifest, competencies, listed, assessments)
            if module.module and (front := self.pages[module.module].front) is not None:
                fronts[module.id] = front
            lessons_of[module.id] = {
                page.front["id"]
                for path in module.lessons
                if (page := self.pages[path]).front is not None
            }
            if built is not None:
                compiled.append(built)
        self.check_prerequisite_cycles(modules, fronts)
        for page in self.pages.values():
            report = self.report(page.path)
            for link in page.body.module_links:
                if link.target not in lessons_of:
                    report.error(
                        link.line, link.col, f"broken link: there is no module {link.target!r}"
                    )
                elif link.lesson is not None and link.lesson not in lessons_of[link.target]:
                    report.error(
                        link.line,
                        link.col,
                        f"broken link: module {link.target!r} has no lesson {link.lesson!r}",
                    )
        return compiled

    def assemble_module(
        self,
        files: _ModuleFiles,
        manifest: ProgrammeManifest,
        competencies: set[str],
        listed: set[str],
        assessments: dict[str, Any],
    ) -> CompiledModule | None:
        assert files.module is not None
        page = self.pages[files.module]
        report = self.report(files.module)
        front = page.front
        if front is not None:
            if front["id"] != files.id:
                line, col = page.positions.get("id", (1, 1))
                report.error(
                    line, col, f"module id {front['id']!r} must equal its folder name {files.id!r}"
                )
            for index, competency in enumerate(front["competencies"]):
                if competency not in competencies:
                    line, col = page.positions.get(f"competencies.{index}", (1, 1))
                    report.error(line, col, f"unknown competency {competency!r}")
            for index, prerequisite in enumerate(front["prerequisites"]):
                if prerequisite not in listed:
                    line, col = page.positions.get(f"prerequisites.{index}", (1, 1))
                    report.error(line, col, f"unknown prerequisite module {prerequisite!r}")
        for kind in ("assessment", "reflection"):
            refs = page.body.assessments if kind == "assessment" else page.body.reflections
            for ref in refs:
                report.error(ref.line, ref.col, f"a {kind} belongs in a lesson, not in module.md")
        if not files.lessons:
            report.error(
                1,
                1,
                f"module {files.id!r} has no lessons: add a lesson file such as 01-introduction.md",
            )
        lesson_ids: dict[str, str] = {}
        reflections: dict[str, str] = {}
        lessons: list[tuple[PageResult, dict[str, Any]]] = []
        for path in files.lessons:
            lesson = self.pages[path]
            lesson_report = self.report(path)
            for ref in lesson.body.assessments:
                if ref.target not in assessments:
                    lesson_report.error(ref.line, ref.col, f"unknown assessment {ref.target!r}")
            for ref in lesson.body.reflections:
                if ref.target in reflections:
                    lesson_report.error(
                        ref.line,
                        ref.col,
                        f"duplicate reflection id {ref.target!r} in this module (first in {reflections[ref.target]})",
                    )
                else:
                    reflections[ref.target] = f"{path}:{ref.line}"
            if lesson.body.empty:
                lesson_report.error(1, 1, "empty lesson: write its content below the front matter")
            if lesson.front is None:
                continue
            lesson_id = lesson.front["id"]
            line, col = lesson.positions.get("id", (1, 1))
            if lesson_id in lesson_ids:
                lesson_report.error(
                    line,
                    col,
                    f"duplicate lesson id {lesson_id!r} (also in {lesson_ids[lesson_id]})",
                )
                continue
            lesson_ids[lesson_id] = path
            slug = _LESSON_PREFIX.sub("", path.rsplit("/", 1)[-1].removesuffix(".md"))
            if slug != lesson_id:
                lesson_report.warning(
                    line, col, f"lesson id {lesson_id!r} differs from its file name {slug!r}"
                )
            lessons.append((lesson, lesson.front))
        translations = self.check_translations(files, manifest)
        if front is None or any(
            d.severity == "error" and d.path.startswith(f"modules/{files.id}/")
            for d in self.diagnostics
        ):
            return None
        if files.id in self.outputs:
            return self.outputs[files.id]
        return _compiled_module(front, page, lessons, translations)

    def check_translations(
        self, files: _ModuleFiles, manifest: ProgrammeManifest
    ) -> dict[str, dict[str, PageResult]]:
        """Translations by original path, then language; every problem reported."""
        found: dict[str, dict[str, PageResult]] = {}
        for original, paths in files.translations.items():
            for path in paths:
                page = self.pages[path]
                report = self.report(path)
                assert page.lang is not None
                if page.lang == manifest.default_language:
                    report.error(
                        1,
                        1,
                        f"{page.lang!r} is the default language: this file needs no language tag",
                    )
                    continue
                if page.lang not in manifest.languages:
                    report.error(
                        1,
                        1,
                        f"translation language {page.lang!r} is not listed in the manifest's languages",
                    )
                    continue
                if original not in self.pages:
                    report.error(1, 1, f"translation of a file that does not exist: {original}")
                    continue
                source = self.pages[original]
                expected = files.id if page.kind == "module" else (source.front or {}).get("id")
                if page.front is not None and expected is not None and page.front["id"] != expected:
                    line, col = page.positions.get("id", (1, 1))
                    report.error(
                        line,
                        col,
                        f"a translation must keep the id of {PurePosixPath(original).name}: {expected!r}, not {page.front['id']!r}",
                    )
                    continue
                if page.kind == "lesson":
                    for ref in page.body.assessments:
                        source_ids = {r.target for r in source.body.assessments}
                        if ref.target not in source_ids:
                            report.error(
                                ref.line,
                                ref.col,
                                f"unknown assessment {ref.target!r} (not embedded in {PurePosixPath(original).name})",
                            )
                found.setdefault(original, {})[page.lang] = page
        return found

    def check_prerequisite_cycles(
        self, modules: list[_ModuleFiles], fronts: dict[str, dict[str, Any]]
    ) -> None:
        graph = {
            m: [p for p in front["prerequisites"] if p in fronts] for m, front in fronts.items()
        }
        state: dict[str, int] = {}
        reported: set[frozenset[str]] = set()

        def report_cycle(cycle: list[str]) -> None:
            key = frozenset(cycle)
            if key in reported:
                return
            reported.add(key)
            start = cycle[0]
            page = self.pages[f"modules/{start}/module.md"]
            index = fronts[start]["prerequisites"].index(cycle[1])
            line, col = page.positions.get(f"prerequisites.{index}", (1, 1))
            self.report(page.path).error(line, col, "prerequisite cycle: " + " → ".join(cycle))

        for module in modules:  # depth-first, with an explicit stack: chains can be long
            if module.id not in graph or module.id in state:
                continue
            trail = [module.id]
            state[module.id] = 1
            stack = [iter(graph[module.id])]
            while stack:
                target = next(stack[-1], None)
                if target is None:
                    state[trail.pop()] = 2
                    stack.pop()
                elif state.get(target) == 1:
                    report_cycle([*trail[trail.index(target) :], target])
                elif target not in state:
                    state[target] = 1
                    trail.append(target)
                    stack.append(iter(graph[target]))

    def check_competency_evidence(
        self, manifest: ProgrammeManifest, document: YamlDocument, modules: list[CompiledModule]
    ) -> None:
        evidenced: set[str] = set()
        for page in self.pages.values():
            if page.kind == "module" and page.lang is None:
                if page.front is None:
                    return  # unknowable until that module's front matter is fixed
                evidenced.update(page.front["competencies"])
        report = self.report(self.manifest_rel)
        for index, competency in enumerate(manifest.competencies):
            if competency.id not in evidenced:
                line, col = document.value_at(("competencies", index, "id"))
                report.warning(line, col, f"no module evidences competency {competency.id!r}")

    # --- outputs -------------------------------------------------------------------------------

    def collect_assets(self, images: dict[str, ImageFile]) -> dict[str, Asset]:
        used = {path for page in self.pages.values() for path in page.body.images}
        assets: dict[str, Asset] = {}
        for path in sorted(used):
            image = images[path]
            media_type = IMAGE_TYPES.get(
                PurePosixPath(path).suffix.lower(), "application/octet-stream"
            )
            assets[image.asset] = Asset(
                media_type=media_type, data=base64.b64encode(self.inputs[path]).decode()
            )
        return dict(sorted(assets.items()))

    def content_hash(self) -> str:
        return _content_hash(self.digests.items())


def content_hash(files: Iterable[tuple[str, bytes]]) -> str:
    """SHA-256 over the format version and every input file's path and bytes (by their
    SHA-256, so that a rebuild need not read the files whose stat has not changed)."""
    return _content_hash((path, hashlib.sha256(data).digest()) for path, data in files)


def _content_hash(digests: Iterable[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256(FORMAT_VERSION.encode() + b"\0")
    for path, file_digest in sorted(digests):
        encoded = path.encode()
        digest.update(len(encoded).to_bytes(8, "big") + encoded + file_digest)
    return digest.hexdigest()


# --- assembling ----------------------------------------------------------------------------


def _compiled_module(
    front: dict[str, Any],
    page: PageResult,
    lessons: list[tuple[PageResult, dict[str, Any]]],
    translations: dict[str, dict[str, PageResult]],
) -> CompiledModule:
    minutes = _split_minutes(front["minutes"], [lf.get("minutes") for _, lf in lessons])
    compiled_lessons = []
    for (lesson, lesson_front), lesson_minutes in zip(lessons, minutes, strict=True):
        lesson_translations = {
            lang: LessonTranslation(
                title=(t.front or {}).get("title") or lesson_front["title"],
                segments=t.body.segments,
            )
            for lang, t in sorted(translations.get(lesson.path, {}).items())
        }
        compiled_lessons.append(
            CompiledLesson(
                id=lesson_front["id"],
                title=lesson_front["title"],
                minutes=lesson_minutes,
                content_warning=lesson_front.get("content_warning") or front.get("content_warning"),
                segments=lesson.body.segments,
                translations=lesson_translations,
            )
        )
    module_translations = {
        lang: ModuleTranslation(
            title=(t.front or {}).get("title") or front["title"],
            objectives=(t.front or {}).get("objectives") or front["objectives"],
            overview_html=_overview(t),
        )
        for lang, t in sorted(translations.get(page.path, {}).items())
    }
    return CompiledModule(
        id=front["id"],
        title=front["title"],
        minutes=front["minutes"],
        objectives=front["objectives"],
        competencies=front["competencies"],
        prerequisites=front["prerequisites"],
        content_warning=front.get("content_warning"),
        sources=front["sources"],
        overview_html=_overview(page),
        lessons=compiled_lessons,
        translations=module_translations,
    )


def _overview(page: PageResult) -> str:
    return "".join(s.html for s in page.body.segments if s.kind == "html")


def _split_minutes(total: int, explicit: list[int | None]) -> list[int]:
    """Lessons without minutes share what the explicit ones leave of the module's minutes."""
    unset = [i for i, m in enumerate(explicit) if m is None]
    remaining = max(total - sum(m for m in explicit if m is not None), 0)
    shares = (
        [
            remaining // len(unset) + (1 if n < remaining % len(unset) else 0)
            for n in range(len(unset))
        ]
        if unset
        else []
    )
    result = [m or 0 for m in explicit]
    for index, share in zip(unset, shares, strict=True):
        result[index] = max(share, 1)
    return result


# --- compiling pages in parallel, with the cache ------------------------------------------------


def _context_key(ctx: RenderContext) -> str:
    digest = hashlib.sha256(FORMAT_VERSION.encode())
    for part in (ctx.programme, ctx.default_language, *ctx.languages):
        digest.update(b"\0" + part.encode())
    for term_id, term in sorted(ctx.glossary.items()):
        digest.update(f"\0{term_id}\1{term}".encode())
    return digest.hexdigest()


def _image_keys(ctx: RenderContext) -> dict[str, str]:
    """Per module folder, a digest of its images (a page's output depends on them)."""
    lines: dict[str, list[str]] = {}
    for path, image in sorted(ctx.images.items()):
        folder = "/".join(path.split("/", 2)[:2])
        lines.setdefault(folder, []).append(f"{path}\1{image.asset}\1{image.size}")
    return {
        folder: hashlib.sha256("\0".join(v).encode()).hexdigest() for folder, v in lines.items()
    }


@dataclass(frozen=True)
class _Page:
    path: str
    kind: PageKind
    lang: str | None
    digest: bytes  # SHA-256 of the file


@dataclass(frozen=True)
class _Keys:
    """Cache keys: over everything a compiled page or module depends on."""

    context: str
    images: dict[str, str]  # module folder -> key of its images

    def page(self, page: _Page) -> str:
        digest = hashlib.sha256(self.context.encode())
        digest.update(f"\0{page.path}\0{page.kind}\0{page.lang}\0".encode())
        digest.update(page.digest)
        digest.update(self.images.get("/".join(page.path.split("/", 2)[:2]), "").encode())
        return digest.hexdigest()

    def module(self, module_id: str, pages: list[_Page]) -> str:
        """A module's compiled form depends only on its pages (it exists only when they are
        free of errors), so what its pages' keys are made of makes its key."""
        digest = hashlib.sha256(self.context.encode())
        digest.update(f"\0{self.images.get(f'modules/{module_id}', '')}".encode())
        for page in pages:
            digest.update(f"\0{page.path}\0{page.kind}\0{page.lang}\0".encode() + page.digest)
        return digest.hexdigest()


def _pages_of(module: _ModuleFiles) -> list[tuple[str, PageKind, str | None]]:
    """(path, kind, language of a translation) of each Markdown file of a module."""
    pages: list[tuple[str, PageKind, str | None]] = []
    if module.module:
        pages.append((module.module, "module", None))
    pages.extend((lesson, "lesson", None) for lesson in module.lessons)
    for original, translations in module.translations.items():
        kind: PageKind = "module" if original.endswith("/module.md") else "lesson"
        for translation in translations:
            match = _TRANSLATION.match(PurePosixPath(translation).name)
            assert match is not None
            pages.append((translation, kind, match["lang"]))
    return pages


class _ModuleEntry(BaseModel):
    compiled: CompiledModule
    pages: dict[str, PageResult]  # path -> page, without its rendered segments

    def fits(self, module_id: str, paths: list[str]) -> bool:
        return (
            self.compiled.id == module_id
            and list(self.pages) == paths
            and all(page.path == path for path, page in self.pages.items())
        )


class _Snapshot(BaseModel):
    """The last build's compiled modules by key, each with its pages without their rendered
    segments (the checks need the rest), and the stat and SHA-256 of its settled Markdown
    files: one file that spares a rebuild reading, decoding and assembling every unchanged
    page. It is only an accelerator: every entry is found by a key over its inputs, and a
    snapshot that does not decode is ignored."""

    modules: dict[str, _ModuleEntry]
    root: str  # the curriculum folder the file stamps are of
    files: dict[str, FileStamp]


def _without_segments(page: PageResult) -> PageResult:
    return page.model_copy(update={"body": page.body.model_copy(update={"segments": []})})


def _decode_snapshot(data: bytes | None) -> _Snapshot:
    if data is not None:
        with contextlib.suppress(ValueError):
            return _Snapshot.model_validate_json(data)
    return _Snapshot(modules={}, root="", files={})


def _decode(data: bytes) -> PageResult | None:
    try:
        return PageResult.model_validate_json(data)
    except ValueError:
        return None


_worker_context: RenderContext | None = None
_worker_cache: PageCache | None = None


def _init_worker(ctx: RenderContext, cache: PageCache) -> None:
    global _worker_context, _worker_cache
    _worker_context, _worker_cache = ctx, cache


def _compile_batch(batch: list[tuple[PageJob, str]]) -> list[tuple[str, bytes]]:
    assert _worker_context is not None and _worker_cache is not None
    return [(key, _compile_one(job, key, _worker_context, _worker_cache)) for job, key in batch]


def _compile_one(job: PageJob, key: str, ctx: RenderContext, cache: PageCache) -> bytes:
    try:
        result = compile_page(job, ctx)
    except Exception as error:  # a compiler bug must not hide the other diagnostics
        from app.compiler.markdown import RenderedBody

        message = f"internal compiler error: {type(error).__name__}: {error}"
        result = PageResult(
            path=job.path,
            kind=job.kind,
            lang=job.lang,
            front=None,
            positions={},
            diagnostics=[Diagnostic(job.path, 1, 1, "error", message)],
            body=RenderedBody(
                segments=[], module_links=[], assessments=[], reflections=[], images=[], empty=False
            ),
        )
        return result.model_dump_json().encode()
    data = result.model_dump_json().encode()
    cache.put(key, data)
    return data


def _compile_all(
    jobs: list[tuple[PageJob, str]], ctx: RenderContext, workers: int, cache: PageCache
) -> Iterable[list[tuple[str, bytes]]]:
    """Compiled pages (key, JSON) in batches: in this process when there is little to do, else in a pool."""
    # Forking is only safe from a single-threaded process (a server starting up may not be).
    if (
        workers <= 1
        or len(jobs) < 16
        or "fork" not in get_all_start_methods()
        or threading.active_count() > 1
    ):
        for index in range(0, len(jobs), 32):
            yield [
                (key, _compile_one(job, key, ctx, cache)) for job, key in jobs[index : index + 32]
            ]
        return
    size = max(1, min(64, len(jobs) // (workers * 8)))
    batches = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("fork"),
        initializer=_init_worker,
        initargs=(ctx, cache),
    ) as pool:
        futures = [pool.submit(_compile_batch, batch) for batch in batches]
        for future in as_completed(futures):
            yield future.result()
