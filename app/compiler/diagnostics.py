"""Diagnostics: every problem the compiler finds, pointing at the line an author must edit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem in a curriculum file; `path` is relative to the curriculum root."""

    path: str
    line: int
    col: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message}"


class Diagnostics:
    """A collector of diagnostics for one file: `error(line, col, message)` and friends."""

    def __init__(self, path: str, into: list[Diagnostic] | None = None) -> None:
        self.path = path
        self.items: list[Diagnostic] = into if into is not None else []

    def error(self, line: int, col: int, message: str) -> None:
        self.items.append(Diagnostic(self.path, max(line, 1), max(col, 1), "error", message))

    def warning(self, line: int, col: int, message: str) -> None:
        self.items.append(Diagnostic(self.path, max(line, 1), max(col, 1), "warning", message))


def sort_key(diagnostic: Diagnostic) -> tuple[str, int, int]:
    return (diagnostic.path, diagnostic.line, diagnostic.col)
