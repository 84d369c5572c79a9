"""`peerpath check` and `peerpath build` from a trainer's point of view."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from tests.compiler.conftest import Curriculum


def test_check_passes_the_sample_even_in_strict_mode(curriculum: Curriculum) -> None:
    result = CliRunner().invoke(cli, ["check", str(curriculum.root), "--strict"])
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output


def test_check_prints_every_problem_sorted_and_fails(curriculum: Curriculum) -> None:
    curriculum.replace("modules/welcome/module.md", "minutes: 30", "minutes: thirty")
    curriculum.replace(
        "modules/boundaries-basics/01-confidentiality.md", "::: reflection promises", "::: tip"
    )
    result = CliRunner().invoke(cli, ["check", str(curriculum.root)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [
        "modules/boundaries-basics/01-confidentiality.md:9:1: error: unknown callout type 'tip': use note, warning, try-this or reflection",
        "modules/welcome/module.md:4:10: error: minutes: input should be a valid integer, unable to parse string as an integer",
        "2 error(s), 0 warning(s)",
    ]


@pytest.mark.parametrize(("strict", "code"), [(False, 0), (True, 1)])
def test_warnings_fail_only_in_strict_mode(curriculum: Curriculum, strict: bool, code: int) -> None:
    curriculum.write("modules/extra/module.md", "---\nid: extra\n---\n")
    args = ["check", str(curriculum.root), *(["--strict"] if strict else [])]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == code
    assert "0 error(s), 1 warning(s)" in result.output


def test_build_writes_a_release_and_prints_its_path_and_hash(
    curriculum: Curriculum, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "releases"
    result = CliRunner().invoke(
        cli, ["build", str(curriculum.root), "--out", str(out), "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    path, content_hash = result.stdout.strip().splitlines()[-2:]
    assert Path(path) == out / "sample-programme" / f"0.1.0-{content_hash[:12]}"
    assert (Path(path) / "release.json").is_file()
    assert (tmp_path / "var" / "cache" / "compiler").is_dir()


def test_build_with_errors_writes_nothing(curriculum: Curriculum, tmp_path: Path) -> None:
    curriculum.replace("modules/welcome/module.md", "id: welcome", "id: Welcome")
    out = tmp_path / "releases"
    result = CliRunner().invoke(cli, ["build", str(curriculum.root), "--out", str(out)])
    assert result.exit_code == 1
    assert "build failed: nothing was written" in result.output
    assert not out.exists()
