"""Benchmark: compile a synthetic 1000-module curriculum, rebuild after one change, and build
the same Markdown with MkDocs.

    .venv/bin/python bench/compile_bench.py [--modules 1000] [--workers N] [--skip-mkdocs] [--skip-full-mkdocs]
        [--repeat 2]

Each module is a module.md (front matter and a short overview) and one lesson of about 800
words with headings, lists, a table, links, callouts, a reflection and a glossary term.

The first run builds files written a moment before: their stat does not vouch for them yet
(they have not been left alone for 2 s), so its rebuild reads them all and renews the cache's
snapshot; later runs show the usual rebuild, after an edit to a curriculum at rest.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.compiler import compile_curriculum, write_release

WORDS = [
    "peer",
    "support",
    "listening",
    "recovery",
    "hope",
    "person",
    "story",
    "choice",
    "respect",
    "boundary",
    "trust",
    "question",
    "reflect",
    "feeling",
    "summary",
    "worker",
    "community",
    "service",
    "plan",
    "safety",
    "wellbeing",
    "experience",
    "together",
    "notice",
    "practice",
    "supervision",
    "strength",
    "goal",
    "language",
    "culture",
]


def sentence(rng: random.Random, n: int = 12) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random, sentences: int = 4) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def lesson_body(rng: random.Random, index: int, total: int) -> str:
    """About 800 words: headings, lists, a table, links, callouts, a glossary term."""
    target = f"module-{(index + 1) % total:04d}"
    parts = [
        "## Why this matters",
        paragraph(rng, 6),
        f"See [the next module](module:{target}) and [a source](https://example.org/{index}).",
        "### Key points",
        "\n".join(f"- {sentence(rng, 8)}" for _ in range(5)),
        "::: note",
        paragraph(rng, 3),
        ":::",
        "## Practice",
        paragraph(rng, 6),
        "1. " + sentence(rng) + "\n2. " + sentence(rng) + "\n3. " + sentence(rng),
        "| Skill | Example | Level |\n|---|---|---|\n"
        + "\n".join(f"| {rng.choice(WORDS)} | {sentence(rng, 6)} | {n} |" for n in range(1, 5)),
        "::: warning Take care",
        paragraph(rng, 3) + " A {term}`recovery` focus helps.",
        ":::",
        "::: try-this",
        paragraph(rng, 2),
        ":::",
        "## Reflect",
        paragraph(rng, 8),
        f"::: reflection thoughts-{index}",
        sentence(rng, 15),
        ":::",
        "### Summary",
        paragraph(rng, 8),
        "> " + paragraph(rng, 2),
        paragraph(rng, 6),
    ]
    return "\n\n".join(parts) + "\n"


def generate(root: Path, modules: int) -> int:
    """Write a curriculum of `modules` modules under root; return the number of Markdown files."""
    rng = random.Random(2)
    ids = [f"module-{i:04d}" for i in range(modules)]
    (root / "curriculum").mkdir(parents=True)
    (root / "certificates" / "bench").mkdir(parents=True)
    (root / "certificates" / "bench" / "certificate.html").write_text("<p>{{ holder }}</p>\n")
    levels = "\n".join(f"      {n}: Level {n} behaviour." for n in range(1, 5))
    (root / "curriculum" / "bench.yaml").write_text(
        "id: bench\ntitle: Bench\nversion: 1.0.0\ndefault_language: en\nlanguages: [en]\n"
        "certificate_template: bench\n"
        f"competencies:\n  - id: listening\n    name: Listening\n    core: true\n    levels:\n{levels}\n"
        "modules:\n" + "".join(f"  - {m}\n" for m in ids) + "glossary:\n"
        "  - id: recovery\n    term: recovery\n    definition: A personal journey.\n"
        "certification:\n  title: Bench certificate\n"
    )
    for index, module_id in enumerate(ids):
        folder = root / "modules" / module_id
        folder.mkdir(parents=True)
        (folder / "module.md").write_text(
            f"---\nid: {module_id}\ntitle: Module {index}\nminutes: 60\n"
            f"objectives:\n  - {sentence(rng, 8)}\ncompetencies: [listening]\n"
            f"prerequisites: [{ids[index - 1] if index else ''}]\n---\n\n{paragraph(rng, 2)}\n"
        )
        (folder / "01-lesson.md").write_text(
            f"---\nid: lesson\ntitle: Lesson {index}\n---\n\n{lesson_body(rng, index, modules)}"
        )
    return 2 * modules


def timed_build(root: Path, cache: Path, out: Path, workers: int | None) -> tuple[float, str]:
    start = time.perf_counter()
    result = compile_curriculum(root, cache_dir=cache, workers=workers)
    if result.release is None:
        raise SystemExit("\n".join(str(d) for d in result.errors[:20]))
    write_release(result.release, out)
    return time.perf_counter() - start, result.release.content_hash


def mkdocs_build(root: Path, *, lessons_only: bool) -> float:
    """`mkdocs build` (minimal config) of the same Markdown files, or, with `lessons_only`, of
    only the 800-word lesson pages in one folder: the "1000 such pages" MkDocs is usually
    measured on (it renders the whole navigation into every page, so it slows down faster
    than linearly with the number of pages and folders)."""
    docs = root / ("mkdocs-lessons" if lessons_only else "mkdocs-docs")
    for path in sorted((root / "modules").rglob("*.md")):
        if lessons_only and path.name == "module.md":
            continue
        name = f"{path.parent.name}.md" if lessons_only else str(path.relative_to(root / "modules"))
        target = docs / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    config = root / "mkdocs.yml"
    config.write_text(f"site_name: Bench\ndocs_dir: {docs.name}\nsite_dir: site\n")
    shutil.rmtree(root / "site", ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config)],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--modules", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--skip-mkdocs", action="store_true")
    parser.add_argument("--skip-full-mkdocs", action="store_true", help="slow: minutes")
    parser.add_argument("--repeat", type=int, default=2, help="report the best of N runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="peerpath-bench-") as temporary:
        root = Path(temporary) / "curriculum"
        files = generate(root, args.modules)
        words = sum(len(p.read_text().split()) for p in (root / "modules").rglob("*.md"))
        print(f"{args.modules} modules, {files} Markdown files, {words} words")
        fulls, rebuilds = [], []
        for attempt in range(args.repeat):  # best of N: the machine may be shared
            cache = Path(temporary) / f"cache-{attempt}"
            out = Path(temporary) / f"releases-{attempt}"
            full, first_hash = timed_build(root, cache, out, args.workers)
            changed = root / "modules" / f"module-{args.modules // 2:04d}" / "01-lesson.md"
            changed.write_text(changed.read_text() + f"\nOne more sentence ({attempt}).\n")
            rebuild, second_hash = timed_build(root, cache, out, args.workers)
            assert second_hash != first_hash
            fulls.append(full)
            rebuilds.append(rebuild)
            print(f"  run {attempt + 1}: full build {full:.2f} s, rebuild {rebuild:.3f} s")
        full, rebuild = min(fulls), min(rebuilds)
        print(f"peerpath full build (cold cache): {full:.2f} s, {files / full:.0f} files/s")
        print(
            f"peerpath rebuild after changing one module: {rebuild:.3f} s "
            f"({full / rebuild:.1f}× faster than the full build)"
        )
        if not args.skip_mkdocs:
            lessons = mkdocs_build(root, lessons_only=True)
            print(
                f"mkdocs build, the {args.modules} lesson pages only: {lessons:.2f} s, "
                f"{args.modules / lessons:.0f} pages/s; peerpath full build (all {files} files) "
                f"is {lessons / full:.1f}× faster"
            )
            if not args.skip_full_mkdocs:
                everything = mkdocs_build(root, lessons_only=False)
                print(
                    f"mkdocs build, all {files} files: {everything:.2f} s, "
                    f"{files / everything:.0f} files/s; peerpath is {everything / full:.1f}× faster"
                )


if __name__ == "__main__":
    main()
