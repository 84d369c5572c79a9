"""Lesson Markdown: CommonMark + tables + strikethrough, and the PeerPath extensions as
markdown-it plugins. A body becomes sanitised segments plus the references it makes."""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.myst_role import myst_role_plugin
from pydantic import BaseModel

from app.compiler.diagnostics import Diagnostics
from app.compiler.models import ID_PATTERN, Segment
from app.compiler.sanitise import removals, safe_url, sanitise

CALLOUT_TYPES = ("note", "warning", "try-this", "reflection")
DIRECTIVES = ("assessment", "crisis-resources")
MAX_IMAGE_BYTES = 1024 * 1024
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".webp": "image/webp", ".svg": "image/svg+xml"}  # fmt: skip

_ID = re.compile(ID_PATTERN)
_DIRECTIVE = re.compile(r"@\[([A-Za-z0-9_-]*)\]\(([^()\s]*)\)[ \t]*$")
_TERM = re.compile(r"^(?:(.*?)\s*<([^<>]*)>|([^<>]*))$", re.S)
_SLUG_DROP = re.compile(r"[^\w\- ]+")
_SLUG_SPACE = re.compile(r"[\s\-_]+")


@dataclass(frozen=True)
class ImageFile:
    asset: str  # e.g. "3f9a…16.png": the name it is served under
    size: int


@dataclass(frozen=True)
class RenderContext:
    """What rendering needs to know about the programme (sent once to each worker)."""

    programme: str
    default_language: str
    languages: tuple[str, ...]
    glossary: dict[str, str]  # id -> term
    images: dict[str, ImageFile] = field(default_factory=dict)  # root-relative path -> file


class Ref(BaseModel):
    target: str
    line: int
    col: int


class LinkRef(Ref):
    lesson: str | None = None


class RenderedBody(BaseModel):
    segments: list[Segment]
    module_links: list[LinkRef]
    assessments: list[Ref]
    reflections: list[Ref]
    images: list[str]
    empty: bool


# --- the parser ----------------------------------------------------------------------------


def _directive_rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """`@[name](argument)` alone on a line: an embedded assessment or crisis contacts."""
    if state.sCount[start_line] - state.blkIndent >= 4:
        return False
    pos = state.bMarks[start_line] + state.tShift[start_line]
    line = state.src[pos : state.eMarks[start_line]]
    if not line.startswith("@["):
        return False
    match = _DIRECTIVE.match(line)
    if match is None:
        return False
    if silent:
        return True
    token = state.push("directive", "", 0)
    token.meta = {"name": match[1], "arg": match[2], "col": pos - state.src.rfind("\n", 0, pos)}
    token.map = [start_line, start_line + 1]
    state.line = start_line + 1
    return True


def _render_callout(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    if token.nesting == -1:
        return "</aside>\n"
    kind = token.meta.get("kind", "note")
    title = token.meta.get("title", "")
    heading = f'<p class="callout-title">{html.escape(title)}</p>\n' if title else ""
    return f'<aside class="callout {kind}">\n{heading}'


def _render_role(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    href = token.meta.get("href")
    text = html.escape(token.meta.get("text") or token.content)
    return f'<a class="term" href="{html.escape(href)}">{text}</a>' if href else text


def _render_directive(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return ""


def make_parser() -> MarkdownIt:
    """The one Markdown parser of the curriculum format."""
    md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.use(container_plugin, name="callout", validate=lambda params, *_: bool(params.strip()))
    md.use(myst_role_plugin)
    md.block.ruler.before(
        "paragraph",
        "directive",
        _directive_rule,
        {"alt": ["paragraph", "reference", "blockquote", "list"]},
    )
    md.add_render_rule("container_callout_open", _render_callout)
    md.add_render_rule("container_callout_close", _render_callout)
    md.add_render_rule("myst_role", _render_role)
    md.add_render_rule("directive", _render_directive)
    return md


_md = make_parser()


# --- one body ------------------------------------------------------------------------------


class _Body:
    """Walks the token stream of one file: checks, rewrites, and splits into segments."""

    def __init__(
        self, path: str, text: str, line_offset: int, ctx: RenderContext, report: Diagnostics
    ) -> None:
        self.path = path
        self.folder = posixpath.dirname(path)
        self.lines = text.split("\n")
        self.offset = line_offset
        self.ctx = ctx
        self.report = report
        self.heading_ids: set[str] = set()
        self.result = RenderedBody(
            segments=[], module_links=[], assessments=[], reflections=[], images=[], empty=True
        )

    # positions ------------------------------------------------------------------------

    def at(
        self, token_map: list[int] | None, needle: str = "", cursor: list[int] | None = None
    ) -> tuple[int, int]:
        """1-based file position of `needle` in the token's source lines (or its first line)."""
        if token_map is None:
            return self.offset + 1, 1
        first, last = token_map
        if needle:
            start_line, start_col = cursor if cursor else (first, 0)
            for index in range(max(start_line, first), min(max(last, first + 1), len(self.lines))):
                col = self.lines[index].find(needle, start_col if index == start_line else 0)
                if col >= 0:
                    if cursor is not None:
                        cursor[0], cursor[1] = index, col + len(needle)
                    return self.offset + index + 1, col + 1
        line = self.lines[first] if first < len(self.lines) else ""
        return self.offset + first + 1, len(line) - len(line.lstrip()) + 1

    # the walk -------------------------------------------------------------------------

    def render(self) -> RenderedBody:
        env: dict[str, Any] = {}
        tokens = _md.parse("\n".join(self.lines), env)
        self.result.empty = not tokens
        self.check(tokens, top=True)
        self.split(tokens, env)
        return self.result

    def check(self, tokens: list[Token], top: bool) -> None:
        inline_map: list[int] | None = None
        for index, token in enumerate(tokens):
            if token.map is not None:
                inline_map = token.map
            kind = token.type
            if kind == "container_callout_open":
                self.callout(token, top=top and token.level == 0)
            elif kind == "directive":
                self.directive(token, top=top and token.level == 0)
            elif kind == "heading_open":
                self.heading(token, tokens[index + 1] if index + 1 < len(tokens) else None)
            elif kind == "html_block":
                self.raw_html(token.content, token.map, None)
            elif kind == "inline" and token.children:
                self.inline(token.children, token.map or inline_map)

    def inline(self, children: list[Token], token_map: list[int] | None) -> None:
        cursor = [token_map[0], 0] if token_map else [0, 0]
        for child in children:
            if child.type == "link_open":
                self.link(child, token_map, cursor)
            elif child.type == "image":
                self.image(child, token_map, cursor)
            elif child.type == "myst_role":
                self.role(child, token_map, cursor)
            elif child.type == "html_inline":
                line, col = self.at(token_map, child.content, cursor)
                for _, offset, what in removals(child.content):
                    self.report.warning(line, col + offset, f"the sanitiser removed {what}")

    def raw_html(self, content: str, token_map: list[int] | None, cursor: list[int] | None) -> None:
        line, col = self.at(token_map)
        for row, offset, what in removals(content):
            self.report.warning(
                line + row, (col if row == 0 else 1) + offset, f"the sanitiser removed {what}"
            )

    def heading(self, token: Token, inline: Token | None) -> None:
        text = inline.content if inline is not None else ""
        slug = _SLUG_SPACE.sub("-", _SLUG_DROP.sub("", text.lower())).strip("-") or "section"
        candidate, n = f"h-{slug}", 1
        while candidate in self.heading_ids:
            n += 1
            candidate = f"h-{slug}-{n}"
        self.heading_ids.add(candidate)
        token.attrSet("id", candidate)

    def link(self, token: Token, token_map: list[int] | None, cursor: list[int]) -> None:
        href = str(token.attrGet("href") or "")
        if not href.startswith("module:"):
            if not safe_url(href):
                line, col = self.at(token_map, href, cursor)
                self.report.warning(line, col, f"the sanitiser removed the link to {href!r}")
            return
        line, col = self.at(token_map, href, cursor)
        target = href.removeprefix("module:")
        module, _, lesson = target.partition("/")
        if not _ID.match(module) or (lesson and not _ID.match(lesson)) or target.count("/") > 1:
            self.report.error(
                line,
                col,
                f"malformed module link {href!r}: use module:<module-id> or module:<module-id>/<lesson-id>",
            )
            return
        base = f"/learn/{self.ctx.programme}/{module}"
        token.attrSet("href", f"{base}/{lesson}" if lesson else base)
        self.result.module_links.append(
            LinkRef(target=module, lesson=lesson or None, line=line, col=col)
        )

    def image(self, token: Token, token_map: list[int] | None, cursor: list[int]) -> None:
        line, col = self.at(token_map, "![", cursor)
        src = str(token.attrGet("src") or "")
        alt = "".join(child.content for child in token.children or []).strip()
        if not alt:
            self.report.error(line, col, "image has no alt text: describe it in ![…](…)")
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//", src):
            self.report.error(
                line,
                col,
                f"image {src!r} is not allowed: images must be files in the module's images/ folder",
            )
            token.attrSet("src", "")
            return
        relative = posixpath.normpath(posixpath.join(self.folder, src.split("#")[0].split("?")[0]))
        extension = posixpath.splitext(relative)[1].lower()
        found = self.ctx.images.get(relative)
        if found is None:
            self.report.error(line, col, f"image not found: {src}")
            token.attrSet("src", "")
            return
        if extension not in IMAGE_TYPES:
            self.report.error(line, col, f"image {src!r} must be PNG, JPEG, WebP or SVG")
        if found.size > MAX_IMAGE_BYTES:
            self.report.error(
                line, col, f"image {src!r} is {found.size // 1024} KB; the limit is 1024 KB"
            )
        token.attrSet("src", f"/assets/{found.asset}")
        token.attrSet("loading", "lazy")
        if relative not in self.result.images:
            self.result.images.append(relative)

    def role(self, token: Token, token_map: list[int] | None, cursor: list[int]) -> None:
        name = token.meta.get("name", "")
        line, col = self.at(token_map, f"{{{name}}}`", cursor)
        if name != "term":
            self.report.error(line, col, f"unknown role {{{name}}}: only {{term}} is supported")
            return
        match = _TERM.match(token.content.strip())
        text, term = (
            (match[1], match[2])
            if match and match[2] is not None
            else (None, token.content.strip())
        )
        if term not in self.ctx.glossary:
            self.report.error(line, col, f"unknown glossary term {term!r}")
            return
        token.meta["text"] = text or self.ctx.glossary[term]
        token.meta["href"] = f"/learn/{self.ctx.programme}/glossary#term-{term}"

    def callout(self, token: Token, top: bool) -> None:
        words = token.info.split(None, 1)
        kind = words[0] if words else ""
        rest = words[1].strip() if len(words) > 1 else ""
        line, col = self.at(token.map)
        token.meta = {"kind": kind if kind in CALLOUT_TYPES else "note", "title": rest}
        if kind not in CALLOUT_TYPES:
            self.report.error(
                line,
                col,
                f"unknown callout type {kind!r}: use note, warning, try-this or reflection",
            )
        elif kind == "reflection":
            token.meta["title"] = ""
            ref = rest.split()[0] if rest else ""
            if not ref:
                self.report.error(
                    line, col, "reflection without an id: write '::: reflection <id>'"
                )
            elif not _ID.match(ref) or len(ref) > 64:
                self.report.error(
                    line, col, f"reflection id {ref!r} must be a lowercase kebab-case id"
                )
            elif not top:
                self.report.error(
                    line,
                    col,
                    "a reflection must be at the top level of a lesson, not inside another block",
                )
            else:
                token.meta["ref"] = ref
                self.result.reflections.append(Ref(target=ref, line=line, col=col))

    def directive(self, token: Token, top: bool) -> None:
        name, arg = token.meta["name"], token.meta["arg"]
        line, col = self.offset + (token.map or [0])[0] + 1, token.meta["col"]
        if name not in DIRECTIVES:
            self.report.error(
                line,
                col,
                f"unknown directive @[{name}]: use @[assessment](<id>) or @[crisis-resources]()",
            )
        elif not top:
            self.report.error(
                line, col, f"@[{name}] must be on a line of its own at the top level of a lesson"
            )
        elif name == "assessment":
            if not _ID.match(arg):
                self.report.error(line, col, f"@[assessment] needs an assessment id, not {arg!r}")
            else:
                token.meta["ref"] = arg
                self.result.assessments.append(Ref(target=arg, line=line, col=col))
        elif arg:
            self.report.error(line, col, "@[crisis-resources]() takes no argument")
        else:
            token.meta["ref"] = ""

    # segments -------------------------------------------------------------------------

    def split(self, tokens: list[Token], env: dict[str, Any]) -> None:
        pending: list[Token] = []
        index = 0
        while index < len(tokens):
            token = tokens[index]
            if token.type == "directive" and token.level == 0:
                self.flush(pending, env)
                if "ref" in token.meta:
                    kind = (
                        "assessment" if token.meta["name"] == "assessment" else "crisis-resources"
                    )
                    ref = token.meta["ref"] or None
                    self.result.segments.append(Segment(kind=kind, ref=ref))
            elif (
                token.type == "container_callout_open" and token.level == 0 and "ref" in token.meta
            ):
                self.flush(pending, env)
                end = index + 1
                while not (
                    tokens[end].type == "container_callout_close" and tokens[end].level == 0
                ):
                    end += 1
                body = self.html(tokens[index + 1 : end], env)
                self.result.segments.append(
                    Segment(kind="reflection", html=body, ref=token.meta["ref"])
                )
                index = end
            else:
                pending.append(token)
            index += 1
        self.flush(pending, env)

    def flush(self, pending: list[Token], env: dict[str, Any]) -> None:
        if pending:
            body = self.html(pending, env)
            if body.strip():
                self.result.segments.append(Segment(kind="html", html=body))
            pending.clear()

    def html(self, tokens: list[Token], env: dict[str, Any]) -> str:
        return sanitise(_md.renderer.render(tokens, _md.options, env))


def render_body(
    path: str, text: str, line_offset: int, ctx: RenderContext, report: Diagnostics
) -> RenderedBody:
    """Parse, check and render one Markdown body (lines counted from `line_offset`)."""
    return _Body(path, text, line_offset, ctx, report).render()
