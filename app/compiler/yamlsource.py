"""YAML with source positions: load safely, remember where every key and value is, and turn
Pydantic validation errors into diagnostics at the exact line and column."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.compiler.diagnostics import Diagnostics

MAX_YAML_BYTES = 64 * 1024
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10× faster

Path_ = tuple[str | int, ...]
T = TypeVar("T")


@dataclass
class YamlDocument:
    """A loaded YAML mapping plus the 1-based (line, col) of every key and value in it."""

    data: Any
    line_offset: int
    root: yaml.Node | None
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def value_at(self, path: Path_) -> tuple[int, int]:
        """Where the value at `path` starts (or its nearest existing parent)."""
        while path and path not in self.values:
            path = path[:-1]
        return self.values.get(path, (self.line_offset + 1, 1))

    def key_at(self, path: Path_) -> tuple[int, int]:
        return self.keys.get(path) or self.value_at(path)


def load_yaml(
    text: str, diagnostics: Diagnostics, *, line_offset: int = 0, what: str = "YAML"
) -> YamlDocument | None:
    """Parse `text` (already size-checked) into a document; report problems and return None."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_YAML_BYTES:
        diagnostics.error(line_offset + 1, 1, f"{what} is larger than 64 KB")
        return None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        document = YamlDocument(None, line_offset, node)
        if node is not None:
            _index(node, (), document, set())
        data = loader.construct_document(node) if node is not None else None
    except _AliasError as error:
        diagnostics.error(error.line + line_offset, error.col, "YAML aliases are not allowed")
        return None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = error.problem or error.context or "cannot be parsed"
        diagnostics.error(line + line_offset, col, f"invalid YAML: {problem}")
        return None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError, OverflowError) as error:
        diagnostics.error(line_offset + 1, 1, f"invalid YAML: {type(error).__name__}")
        return None
    finally:
        loader.dispose()
    document.data = data
    if not isinstance(data, dict):
        line, col = document.value_at(())
        diagnostics.error(line, col, f"{what} must be a mapping of keys to values")
        return None
    return document


class _AliasError(Exception):
    def __init__(self, line: int, col: int) -> None:
        self.line, self.col = line, col


def _index(node: yaml.Node, path: Path_, document: YamlDocument, seen: set[int]) -> None:
    if id(node) in seen:
        raise _AliasError(node.start_mark.line + 1, node.start_mark.column + 1)
    seen.add(id(node))
    offset = document.line_offset
    document.values[path] = (node.start_mark.line + 1 + offset, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key: str | int = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            if isinstance(key, str) and key_node.tag.endswith(":int"):
                with contextlib.suppress(ValueError):
                    key = int(key.replace("_", ""), 0)
            child = (*path, key)
            document.keys[child] = (
                key_node.start_mark.line + 1 + offset,
                key_node.start_mark.column + 1,
            )
            _index(value_node, child, document, seen)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            _index(item, (*path, position), document, seen)


def validate(
    model: type[T] | TypeAdapter[T],
    document: YamlDocument,
    diagnostics: Diagnostics,
) -> T | None:
    """Validate a document into `model`; every error becomes a diagnostic at its YAML node."""
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_python(document.data)
        assert issubclass(model, BaseModel)
        return model.model_validate(document.data)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            report_error(detail, document, diagnostics)
        return None


def report_error(detail: Any, document: YamlDocument, diagnostics: Diagnostics) -> None:
    path = _yaml_path(tuple(detail["loc"]), document.data)
    kind = detail["type"]
    message = str(detail["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        line, col = document.key_at(path)
        diagnostics.error(line, col, f"unknown key {_name(path[-1])}")
        return
    if kind == "missing":
        name = _name(tuple(detail["loc"])[-1])
        parent = path[:-1] if path and path[-1] == tuple(detail["loc"])[-1] else path
        line, col = document.value_at(parent)
        where = f" in {_dotted(parent)}" if parent else ""
        diagnostics.error(line, col, f"missing required key {name}{where}")
        return
    line, col = document.value_at(path)
    if kind == "string_pattern_mismatch" and path and path[-1] != "version":
        message = "must be a lowercase kebab-case id (a-z, 0-9 and single hyphens)"
        if isinstance(document.data, dict) and "lang" in _dotted(path):
            message = "must be a BCP 47 language tag such as en or pt-BR"
    label = _dotted(path) or "document"
    diagnostics.error(line, col, f"{label}: {_lower_first(message)}")


def _yaml_path(loc: tuple[Any, ...], data: Any) -> Path_:
    """Follow a Pydantic error location through the data, skipping union tags it inserts."""
    path: list[str | int] = []
    current = data
    for part in loc:
        if (isinstance(current, dict) and part in current) or (
            isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        ):
            path.append(part)
            current = current[part]
        elif (
            isinstance(current, dict)
            and isinstance(part, str)
            and part.isdigit()
            and int(part) in current
        ):
            path.append(int(part))
            current = current[int(part)]
        elif not isinstance(current, dict | list):
            break
        elif isinstance(current, dict) and isinstance(part, str) and not _looks_like_tag(part):
            path.append(part)  # a missing or unknown key: keep it so the caller can name it
            break
    return tuple(path)


def _looks_like_tag(part: str) -> bool:
    return "[" in part or part in {
        "knowledge-check",
        "situational-judgement",
        "free-text",
        "role-play",
        "single-choice",
        "multiple-response",
        "true-false",
    }


def _name(part: Any) -> str:
    return f"'{part}'"


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:] if message[1:2].islower() else message
