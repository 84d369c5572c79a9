"""The HTML allowlist: what survives in a release, and what an author is told was removed."""

from __future__ import annotations

from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "aside", "b", "blockquote", "br", "caption", "cite", "code", "col",
    "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption",
    "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
    "mark", "ol", "p", "pre", "q", "s", "samp", "section", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u",
    "ul", "var", "wbr",
}  # fmt: skip
DROPPED_WITH_CONTENT = {"script", "style", "template", "noscript", "textarea", "title"}
ALLOWED_ATTRIBUTES = {
    "*": {"class", "lang", "dir", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "loading"},
    "h1": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
    "th": {"style", "colspan", "rowspan", "scope"},
    "td": {"style", "colspan", "rowspan"},
    "ol": {"start", "type"},
    "aside": {"role", "aria-label"},
    "time": {"datetime"},
    "abbr": {"title"},
}  # fmt: skip
URL_SCHEMES = {"http", "https", "mailto"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "background"}

_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags=DROPPED_WITH_CONTENT,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    filter_style_properties={"text-align"},
    strip_comments=True,
    link_rel="noopener noreferrer",
)


def sanitise(html: str) -> str:
    """Keep only allowlisted tags, attributes and URL schemes (no script, handlers, js: URLs)."""
    return _cleaner.clean(html)


def removals(fragment: str) -> list[tuple[int, int, str]]:
    """What the sanitiser will remove from raw author HTML: (line, col, what), 0-based."""
    inspector = _Inspector()
    try:
        inspector.feed(fragment)
        inspector.close()
    except Exception:  # html.parser is lenient; never let a warning pass crash a build
        return [(0, 0, "malformed HTML")]
    return inspector.found


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, int, str]] = []

    def _note(self, what: str) -> None:
        line, offset = self.getpos()
        self.found.append((line - 1, offset, what))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self._note(f"<{tag}> element")
            return
        allowed = ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, set())
        for name, value in attrs:
            if name not in allowed:
                self._note(f"{name} attribute on <{tag}>")
            elif name in URL_ATTRIBUTES and value and not safe_url(value):
                self._note(f"unsafe URL in {name} on <{tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def safe_url(url: str) -> bool:
    cleaned = "".join(ch for ch in url if ch > " ").lower()
    scheme, colon, _ = cleaned.partition(":")
    if not colon or "/" in scheme or "?" in scheme or "#" in scheme:
        return True
    return scheme in URL_SCHEMES
