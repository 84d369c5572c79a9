"""Fixtures for compiler tests: a private copy of the sample curriculum to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample-curriculum"


class Curriculum:
    """A copy of the sample curriculum with small editing helpers."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, path: str) -> str:
        return (self.root / path).read_text(encoding="utf-8")

    def write(self, path: str, text: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def replace(self, path: str, old: str, new: str) -> None:
        text = self.read(path)
        assert old in text, f"{old!r} not in {path}"
        self.write(path, text.replace(old, new, 1))


@pytest.fixture
def curriculum(tmp_path: Path) -> Curriculum:
    root = tmp_path / "curriculum-root"
    shutil.copytree(SAMPLE, root)
    return Curriculum(root)


@pytest.fixture
def large_curriculum(curriculum: Curriculum) -> Curriculum:
    """The sample with ten more copies of its welcome module: enough pages (over 50) for the
    compiler to keep a snapshot of a build in its cache."""
    manifest = curriculum.read("curriculum/sample-programme.yaml")
    copies = [f"welcome-{n}" for n in range(10)]
    for copy in copies:
        shutil.copytree(curriculum.root / "modules" / "welcome", curriculum.root / "modules" / copy)
        for name in ("module.md", "module.hi.md"):
            curriculum.replace(f"modules/{copy}/{name}", "id: welcome\n", f"id: {copy}\n")
    listed = "".join(f"  - {copy}\n" for copy in copies)
    curriculum.write(
        "curriculum/sample-programme.yaml",
        manifest.replace("  - boundaries-basics\n", f"  - boundaries-basics\n{listed}"),
    )
    return curriculum
