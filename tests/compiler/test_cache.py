"""Rebuilding with the compiler's cache: a rebuild gives exactly what a build without a cache
gives from the same files (release bytes and diagnostics), whatever state the cache is in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.compiler import BuildResult, compile_curriculum, release_to_bytes
from tests.compiler.conftest import Curriculum

SNAPSHOT = Path("pages") / "sample-programme.snapshot.json"


def _same_as_without_cache(curriculum: Curriculum, cache: Path) -> BuildResult:
    cached = compile_curriculum(curriculum.root, cache_dir=cache)
    uncached = compile_curriculum(curriculum.root)
    assert [str(d) for d in cached.diagnostics] == [str(d) for d in uncached.diagnostics]
    if uncached.release is None:
        assert cached.release is None
    else:
        assert cached.release is not None
        assert release_to_bytes(cached.release) == release_to_bytes(uncached.release)
    return cached


def test_a_full_build_keeps_a_snapshot_and_a_warm_rebuild_gives_the_same_release(
    large_curriculum: Curriculum, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = _same_as_without_cache(large_curriculum, cache)
    assert first.release is not None and (cache / SNAPSHOT).is_file()
    again = _same_as_without_cache(large_curriculum, cache)
    assert again.release is not None
    assert again.release.content_hash == first.release.content_hash


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        ("modules/welcome-3/01-what-peer-support-is.md", "## A different", "## A new"),
        ("modules/welcome-3/module.md", "minutes: 30", "minutes: 45"),
        ("modules/welcome-3/module.hi.md", "title: ", "title: नया "),
        ("modules/welcome-3/01-what-peer-support-is.hi.md", "\n\n", "\n\nनया पाठ।\n\n"),
        ("curriculum/sample-programme.yaml", "term: reflection", "term: reflecting"),
    ],
)
def test_a_rebuild_after_one_change_equals_a_build_without_cache(
    large_curriculum: Curriculum, tmp_path: Path, path: str, old: str, new: str
) -> None:
    cache = tmp_path / "cache"
    before = _same_as_without_cache(large_curriculum, cache)
    large_curriculum.replace(path, old, new)
    after = _same_as_without_cache(large_curriculum, cache)
    assert before.release is not None and after.release is not None
    assert after.release.content_hash != before.release.content_hash


def test_many_changes_then_more_rebuilds_stay_identical(
    large_curriculum: Curriculum, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _same_as_without_cache(large_curriculum, cache)
    for n in range(10):  # enough changed pages to write a new snapshot, then a few more
        large_curriculum.replace(
            f"modules/welcome-{n}/02-how-this-course-works.md", "\n\n", f"\n\nEdit {n}.\n\n"
        )
        if n in (0, 8, 9):
            _same_as_without_cache(large_curriculum, cache)
    _same_as_without_cache(large_curriculum, cache)


def test_cached_modules_are_checked_again_against_a_changed_manifest(
    large_curriculum: Curriculum, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _same_as_without_cache(large_curriculum, cache)
    manifest = "curriculum/sample-programme.yaml"
    large_curriculum.replace(manifest, "  - id: active-listening\n", "  - id: listening\n")
    large_curriculum.replace(manifest, "  - welcome-9\n", "")
    broken = _same_as_without_cache(large_curriculum, cache)
    messages = [str(d) for d in broken.diagnostics]
    assert broken.release is None
    assert (
        "modules/welcome-4/module.md:7:16: error: unknown competency 'active-listening'" in messages
    )
    assert any("'welcome-9' is not listed" in m for m in messages)


def test_a_change_that_breaks_a_cached_module_link_is_reported(
    large_curriculum: Curriculum, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _same_as_without_cache(large_curriculum, cache)
    large_curriculum.replace(
        "modules/listening-basics/01-open-questions.md", "id: open-questions", "id: open-ended"
    )
    broken = _same_as_without_cache(large_curriculum, cache)
    assert broken.release is None
    assert any(
        "has no lesson 'open-questions'" in str(d) and d.path.startswith("modules/welcome-")
        for d in broken.diagnostics
    )


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"not json at all",
        b'{"pages": {}, "modules": ',
        b'{"pages": [], "modules": {}}',
        b'{"pages": {"x": {"path": 1}}, "modules": {}}',
    ],
)
def test_a_corrupt_snapshot_is_ignored(
    large_curriculum: Curriculum, tmp_path: Path, damage: bytes
) -> None:
    cache = tmp_path / "cache"
    _same_as_without_cache(large_curriculum, cache)
    (cache / SNAPSHOT).write_bytes(damage)
    large_curriculum.replace("modules/welcome-3/module.md", "minutes: 30", "minutes: 40")
    _same_as_without_cache(large_curriculum, cache)


def test_a_truncated_snapshot_or_page_entry_is_ignored(
    large_curriculum: Curriculum, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _same_as_without_cache(large_curriculum, cache)
    snapshot = cache / SNAPSHOT
    snapshot.write_bytes(snapshot.read_bytes()[: snapshot.stat().st_size // 2])
    for entry in (cache / "pages").glob("*/*.json"):
        entry.write_bytes(entry.read_bytes()[:10])
    _same_as_without_cache(large_curriculum, cache)


def test_a_snapshot_of_another_curriculum_is_not_used(
    large_curriculum: Curriculum, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _same_as_without_cache(large_curriculum, cache)
    stale = (cache / SNAPSHOT).read_bytes()
    large_curriculum.replace("modules/welcome-5/module.md", "title: Welcome", "title: Hello")
    for n in range(10):
        large_curriculum.replace(f"modules/welcome-{n}/module.md", "minutes: 30", "minutes: 31")
    _same_as_without_cache(large_curriculum, cache)
    (cache / SNAPSHOT).write_bytes(stale)  # as if another build had just put back an old one
    _same_as_without_cache(large_curriculum, cache)


@pytest.mark.parametrize("settled", [True, False])
def test_a_same_size_change_is_seen_whether_or_not_the_file_had_settled(
    large_curriculum: Curriculum, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settled: bool
) -> None:
    if settled:  # as if every file had been left alone for long: their stat vouches for them
        monkeypatch.setattr("app.compiler.build._SETTLED_NS", 0)
    cache = tmp_path / "cache"
    first = _same_as_without_cache(large_curriculum, cache)
    stamps = json.loads((cache / SNAPSHOT).read_bytes())["files"]
    assert bool(stamps) == settled
    path = "modules/welcome-7/01-what-peer-support-is.md"
    size = (large_curriculum.root / path).stat().st_size
    large_curriculum.replace(path, "different", "DIFFERENT")
    assert (large_curriculum.root / path).stat().st_size == size
    again = _same_as_without_cache(large_curriculum, cache)
    assert first.release is not None and again.release is not None
    assert again.release.content_hash != first.release.content_hash


def test_a_damaged_file_stamp_is_overruled_by_the_file(
    large_curriculum: Curriculum, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.compiler.build._SETTLED_NS", 0)  # every file counts as settled
    cache = tmp_path / "cache"
    _same_as_without_cache(large_curriculum, cache)
    snapshot = json.loads((cache / SNAPSHOT).read_bytes())
    path = "modules/welcome-2/01-what-peer-support-is.md"
    snapshot["files"][path][5] = "00" * 32  # the digest its stat would vouch for
    (cache / SNAPSHOT).write_text(json.dumps(snapshot))
    for _ in range(2):
        rebuilt = _same_as_without_cache(large_curriculum, cache)
        assert rebuilt.release is not None and not rebuilt.errors
