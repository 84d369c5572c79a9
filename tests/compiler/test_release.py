"""Compiling the sample curriculum into a release: content, hashing, writing and loading."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.compiler import (
    BuildResult,
    Release,
    compile_curriculum,
    load_release,
    release_from_bytes,
    release_to_bytes,
    write_release,
)
from tests.compiler.conftest import SAMPLE, Curriculum


@pytest.fixture(scope="module")
def sample() -> BuildResult:
    return compile_curriculum(SAMPLE)


def _release(result: BuildResult) -> Release:
    assert result.release is not None, [str(d) for d in result.diagnostics]
    return result.release


def test_the_sample_compiles_without_diagnostics(sample: BuildResult) -> None:
    release = _release(sample)
    assert sample.diagnostics == [] and sample.ok(strict=True)
    assert release.version == "0.1.0"
    assert [m.id for m in release.modules] == ["welcome", "listening-basics", "boundaries-basics"]
    assert list(release.lesson_ids()) == [
        ("welcome", "what-peer-support-is"),
        ("welcome", "how-this-course-works"),
        ("listening-basics", "open-questions"),
        ("listening-basics", "practice"),
        ("boundaries-basics", "confidentiality"),
    ]
    assert sorted(release.assessments) == ["listening-check", "listening-role-play"]
    assert sorted(release.certificate_files) == ["certificate.css", "certificate.html"]


def test_lessons_are_split_into_segments_at_reflections_and_directives(sample: BuildResult) -> None:
    lesson = _release(sample).lesson("listening-basics", "open-questions")
    assert [(s.kind, s.ref) for s in lesson.segments] == [
        ("html", None),
        ("reflection", "my-questions"),
        ("assessment", "listening-check"),
    ]
    assert lesson.reflection_ids == ["my-questions"]
    assert lesson.assessment_ids == ["listening-check"]
    html = lesson.segments[0].html
    assert '<h2 id="h-why-open-questions">' in html
    assert (
        '<aside class="callout warning">' in html
        and '<p class="callout-title">Take care</p>' in html
    )
    assert 'href="/learn/sample-programme/glossary#term-reflection"' in html
    assert lesson.segments[1].html == (
        "<p>Which closed questions do you find yourself asking most?</p>\n"
    )


def test_links_images_and_crisis_resources_use_server_urls(sample: BuildResult) -> None:
    release = _release(sample)
    welcome = release.lesson("welcome", "what-peer-support-is")
    assert (
        'href="/learn/sample-programme/listening-basics/open-questions"' in welcome.segments[0].html
    )
    assert welcome.segments[-1].kind == "crisis-resources"
    (asset_name,) = release.assets
    assert asset_name.endswith(".svg") and release.assets[asset_name].media_type == "image/svg+xml"
    image_lesson = release.lesson("listening-basics", "open-questions").segments[0].html
    assert f'src="/assets/{asset_name}"' in image_lesson
    assert 'alt="A peer worker and a visitor talking at a table"' in image_lesson


def test_minutes_and_content_warnings_follow_the_module(sample: BuildResult) -> None:
    release = _release(sample)
    welcome = release.module("welcome")
    assert [lesson.minutes for lesson in welcome.lessons] == [20, 10]  # 30 minutes, one says 10
    listening = release.module("listening-basics")
    assert [lesson.content_warning for lesson in listening.lessons] == [
        "Examples mention hospital stays.",
        "The role-play touches on loneliness.",
    ]
    with pytest.raises(KeyError):
        release.module("no-such-module")


def test_translations_fall_back_to_the_default_language(sample: BuildResult) -> None:
    release = _release(sample)
    welcome = release.module("welcome")
    assert welcome.title_for("hi") == "सहकर्मी सहायता में आपका स्वागत है"
    assert welcome.title_for("fr") == welcome.title == "Welcome to peer support"
    assert welcome.objectives_for("hi") != welcome.objectives_for("en")
    assert "सहकर्मी सहायता" in welcome.overview_for("hi")
    lesson = welcome.lessons[0]
    assert lesson.title_for("hi") == "सहकर्मी सहायता क्या है"
    assert [s.kind for s in lesson.segments_for("hi")] == ["html", "reflection", "crisis-resources"]
    other = welcome.lessons[1]
    assert other.title_for("hi") == other.title and other.segments_for("hi") == other.segments


def test_release_bytes_round_trip_and_are_deterministic(sample: BuildResult) -> None:
    release = _release(sample)
    data = release_to_bytes(release)
    again = release_from_bytes(data)
    assert again == release and release_to_bytes(again) == data
    assert json.loads(data)["content_hash"] == release.content_hash


def test_write_release_is_atomic_and_idempotent(sample: BuildResult, tmp_path: Path) -> None:
    release = _release(sample)
    target = write_release(release, tmp_path)
    assert target == tmp_path / "sample-programme" / f"0.1.0-{release.content_hash[:12]}"
    assert load_release(target) == release
    before = (target / "release.json").stat().st_mtime_ns
    assert write_release(release, tmp_path) == target
    assert (target / "release.json").stat().st_mtime_ns == before
    assert [p.name for p in (tmp_path / "sample-programme").iterdir()] == [target.name]


def test_same_inputs_give_the_same_hash_whatever_the_cache_or_workers(
    curriculum: Curriculum, tmp_path: Path
) -> None:
    first = _release(compile_curriculum(curriculum.root))
    copy = tmp_path / "elsewhere"
    shutil.copytree(curriculum.root, copy)
    cold = _release(compile_curriculum(copy, cache_dir=tmp_path / "cache", workers=2))
    warm = _release(compile_curriculum(copy, cache_dir=tmp_path / "cache", workers=2))
    assert first.content_hash == cold.content_hash == warm.content_hash
    assert release_to_bytes(first) == release_to_bytes(cold) == release_to_bytes(warm)


def _input_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_changed_input_byte_changes_the_hash(
    data: st.DataObject, curriculum: Curriculum, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("changed") / "c"
    shutil.copytree(curriculum.root, root)
    files = _input_files(root)
    original = compile_curriculum(root)
    target = data.draw(st.sampled_from(files), label="file")
    content = bytearray(target.read_bytes())
    index = data.draw(st.integers(0, len(content) - 1), label="byte")
    content[index] = data.draw(st.integers(0, 255).filter(lambda b: b != content[index]))
    target.write_bytes(bytes(content))
    changed = compile_curriculum(root)
    if original.release and changed.release:
        assert changed.release.content_hash != original.release.content_hash
    else:
        # a byte that breaks the curriculum gives diagnostics and no release, never a crash
        assert changed.release is None and changed.errors


def test_cache_makes_a_rebuild_reuse_unchanged_pages(
    curriculum: Curriculum, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    calls: list[tuple[int, int]] = []
    compile_curriculum(curriculum.root, cache_dir=cache)
    curriculum.replace("modules/boundaries-basics/01-confidentiality.md", "Explain", "Say")
    result = compile_curriculum(
        curriculum.root, cache_dir=cache, progress=lambda d, t: calls.append((d, t))
    )
    assert (
        _release(result)
        .lesson("boundaries-basics", "confidentiality")
        .segments[0]
        .html.startswith("<p>Say")
    )
    assert calls[0] == (9, 10)  # everything but the changed file came from the cache
    assert calls[-1] == (10, 10)


def test_several_programmes_need_a_choice(curriculum: Curriculum) -> None:
    manifest = curriculum.read("curriculum/sample-programme.yaml")
    curriculum.write("curriculum/other.yaml", manifest.replace("id: sample-programme", "id: other"))
    result = compile_curriculum(curriculum.root)
    assert [str(d) for d in result.diagnostics] == [
        "curriculum:1:1: error: several programmes (other, sample-programme): choose one to build"
    ]
    assert _release(compile_curriculum(curriculum.root, programme="other")).programme.id == "other"
