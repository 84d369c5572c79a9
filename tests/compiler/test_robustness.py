"""Arbitrary input never crashes the compiler, and nothing dangerous survives sanitising."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.compiler import compile_curriculum
from app.compiler.diagnostics import Diagnostics
from app.compiler.markdown import RenderContext, render_body
from app.compiler.sanitise import sanitise
from tests.compiler.conftest import SAMPLE

LESSON = "modules/boundaries-basics/01-confidentiality.md"
CTX = RenderContext("p", "en", ("en",), {"recovery": "Recovery"})

yaml_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
keys = st.sampled_from(["id", "title", "minutes", "content_warning", "lang", "objectives", "x"])
markdown_pieces = st.sampled_from(
    [
        "::: note\n", "::: reflection r\n", "::: reflection\n", "::: tip\n", ":::\n",
        "@[assessment](listening-check)\n", "@[assessment]()\n", "@[crisis-resources]()\n",
        "@[video](x)\n", "{term}`recovery`", "{term}`nope`", "{abbr}`x`", "[a](module:welcome)",
        "[b](module:x/y/z)", "[c](javascript:alert(1))", "![](images/none.png)", "![alt](//x.png)",
        "<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "<a href='javascript:x'>j</a>",
        "# heading\n", "- item\n", "| a | b |\n|---|---|\n| 1 | 2 |\n", "> quote\n", "```\ncode\n",
        "---\n", "\n", " ", "text", "\t", "*", "`",
    ]
)  # fmt: skip


def _front_matter(mapping: dict[str, object]) -> str:
    import yaml

    return yaml.safe_dump(mapping, allow_unicode=True)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    front=st.one_of(
        st.dictionaries(keys, yaml_values, max_size=6).map(_front_matter),
        st.text(max_size=200),
    ),
    body=st.one_of(st.lists(markdown_pieces, max_size=30).map("".join), st.text(max_size=300)),
)
def test_arbitrary_front_matter_and_markdown_give_diagnostics_not_crashes(
    front: str, body: str
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary) / "c"
        shutil.copytree(SAMPLE, root)
        (root / LESSON).write_text(f"---\n{front}\n---\n{body}", encoding="utf-8")
        result = compile_curriculum(root)
    assert not any("internal compiler error" in d.message for d in result.diagnostics)
    for diagnostic in result.diagnostics:
        assert diagnostic.line >= 1 and diagnostic.col >= 1
        assert str(diagnostic).startswith(f"{diagnostic.path}:{diagnostic.line}:{diagnostic.col}: ")
    assert (result.release is None) == bool(result.errors)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_as_a_lesson_never_crash(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary) / "c"
        shutil.copytree(SAMPLE, root)
        (root / LESSON).write_bytes(data)
        result = compile_curriculum(root)
    assert not any("internal compiler error" in d.message for d in result.diagnostics)


dangerous = st.sampled_from(
    [
        "<script>alert(1)</script>", "<SCRIPT SRC=//x.js></SCRIPT>", '<img src=x onerror=alert(1)>',
        '<a href="javascript:alert(1)">x</a>', '<a href="JaVaScRiPt&colon;alert(1)">x</a>',
        '<a href=" javascript:alert(1)">x</a>', '<a href="jav&#x09;ascript:alert(1)">x</a>',
        "<svg onload=alert(1)>", "<iframe src=//x></iframe>", "<form action=//x><input></form>",
        "<style>*{}</style>", '<div style="background:url(javascript:x)">', "<body onload=x>",
        '<a href="vbscript:msgbox">v</a>', '<a href="data:text/html,<script>">d</a>',
        "[x](javascript:alert(1))", "![y](javascript:alert(1))", "<math><mi xlink:href=javascript:x>",
        "<details open ontoggle=alert(1)>", "<", ">", '"', "'", "=", " ", "\n", "on", "click",
    ]
)  # fmt: skip


def _no_danger(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<iframe" not in lowered and "<form" not in lowered and "<style" not in lowered
    for tag in re.findall(r"<[a-z][^>]*>", lowered):  # real tags: text is escaped as &lt;
        assert not re.search(r"\son[a-z]+\s*=", tag), html
        assert not re.search(r"(href|src)\s*=\s*[\"']?\s*(javascript|vbscript|data):", tag), html


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(dangerous, st.text(max_size=10)), max_size=20).map("".join))
def test_sanitised_output_has_no_script_handler_or_javascript_url(text: str) -> None:
    _no_danger(sanitise(text))
    rendered = render_body("modules/m/01-l.md", text, 0, CTX, Diagnostics("x"))
    for segment in rendered.segments:
        _no_danger(segment.html)


def test_the_sanitiser_warns_where_it_removed_something() -> None:
    report = Diagnostics("modules/m/01-l.md")
    body = "Hello <b onclick='x()'>there</b>.\n\n<iframe src='//x'></iframe>\n"
    rendered = render_body("modules/m/01-l.md", body, 3, CTX, report)
    assert [str(d) for d in report.items] == [
        "modules/m/01-l.md:4:7: warning: the sanitiser removed onclick attribute on <b>",
        "modules/m/01-l.md:6:1: warning: the sanitiser removed <iframe> element",
    ]
    assert rendered.segments[0].html.strip() == "<p>Hello <b>there</b>.</p>"
