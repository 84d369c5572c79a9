"""The one way to render a page: Jinja2 with autoescaping and translated UI strings (Babel)."""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from babel.support import NullTranslations, Translations
from fastapi import Request
from jinja2 import Environment, FileSystemLoader, pass_context, pass_eval_context
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.responses import HTMLResponse

HERE = Path(__file__).parent
LOCALES = HERE / "locale"
SUPPORTED_UI_LANGUAGES = ("en",)

_ui_language: ContextVar[str] = ContextVar("ui_language", default="en")
_catalogues: dict[str, NullTranslations] = {}


def translations_for(language: str) -> NullTranslations:
    """The UI message catalogue for a language (the English strings where there is none)."""
    if language not in _catalogues:
        _catalogues[language] = Translations.load(str(LOCALES), [language], domain="messages")
    return _catalogues[language]


def _gettext(message: str) -> str:
    return translations_for(_ui_language.get()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translations_for(_ui_language.get()).ngettext(singular, plural, n)


@pass_eval_context
def _translate(eval_ctx: EvalContext, message: str, /, **variables: Any) -> str:
    """`_()` and `gettext()` in templates, as Jinja's newstyle gettext does them (Markup when
    autoescaping, always %-formatted with the variables). Literal strings without variables,
    most of a page's, never get here: they are translated when the template is compiled
    (`_UIStringsWhenCompiled`)."""
    translated = _gettext(message)
    if eval_ctx.autoescape:
        translated = _trusted(translated)
    return translated % variables


def _trusted(translated: str) -> Markup:
    # The templates' own strings and their translations are markup, as Jinja's newstyle
    # gettext treats them; values put into them are escaped by Markup's `%`.
    return Markup(translated)  # noqa: S704  # nosec B704


# Each app's route paths by name and parameters: routes do not change while the app runs, so
# templates need not walk every route for the stylesheet on every page.
_url_paths: WeakKeyDictionary[Any, dict[tuple[str, tuple[tuple[str, Any], ...]], str]] = (
    WeakKeyDictionary()
)


@pass_context
def _url_for(context: Context, name: str, /, **path_params: Any) -> str:
    """A route's path for templates, under the app's root path. Root-relative, not absolute:
    a page never repeats the Host header it was asked with (cache poisoning), and the path
    is worked out once per app."""
    request: Request = context["request"]
    app = request.scope.get("app")
    provider = request.scope.get("router") or app
    if app is None or (provider is not app and provider is not app.router):
        return request.url_for(name, **path_params).path  # the app mounted inside another
    paths = _url_paths.setdefault(app, {})
    key = (name, tuple(sorted(path_params.items())))
    path = paths.get(key)
    if path is None:
        path = paths[key] = str(app.url_path_for(name, **path_params))
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/") + path


class _UIStringsWhenCompiled(Extension):
    """`_("literal")` and `gettext("literal")` translated when a template is compiled, for its
    environment's UI language (there is one environment per language).

    A page shows about twenty such strings, and each call costs Jinja's call machinery on
    every render. The call becomes `"translation"|safe`: the Markup newstyle gettext gives
    (the templates' own strings are markup), which Jinja folds into the compiled template as
    text. Calls with variables, or with anything but one string literal, are left to
    `_translate` at render time, as is anything after a `.` (a method, not the global)."""

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        language: str = self.environment.ui_language  # type: ignore[attr-defined]
        tokens = list(stream)
        kept: list[Token] = []
        i = 0
        while i < len(tokens):
            name, shape = tokens[i], [t.type for t in tokens[i + 1 : i + 4]]
            if (
                name.type == "name"
                and name.value in ("_", "gettext")
                and shape == ["lparen", "string", "rparen"]
                and not (kept and kept[-1].type == "dot")
            ):
                message = tokens[i + 2].value
                shown = str(_trusted(translations_for(language).gettext(message)) % {})
                line = name.lineno
                kept += [Token(line, "string", shown), Token(line, "pipe", "|")]
                kept.append(Token(line, "name", "safe"))
                i += 4
                continue
            kept.append(name)
            i += 1
        return kept


def _new_environment(language: str) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n", _UIStringsWhenCompiled],
        # Templates ship with the package and never change while the server runs: no stat()
        # of every template file on every page, and all of them kept (a plain dict, no LRU).
        auto_reload=False,
        cache_size=-1,
    )
    environment.ui_language = language  # type: ignore[attr-defined]
    environment.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    environment.globals.update({"_": _translate, "gettext": _translate, "url_for": _url_for})
    return environment


_environments = {language: _new_environment(language) for language in SUPPORTED_UI_LANGUAGES}
_environment = _environments["en"]


def ui_language(request: Request) -> str:
    """The UI language: the first supported one the browser asks for, else English."""
    for part in request.headers.get("accept-language", "").split(","):
        base = part.split(";")[0].strip().lower().split("-")[0]
        if base in SUPPORTED_UI_LANGUAGES:
            return base
    return "en"


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page template for this request (never cached: pages can hold personal data)."""
    language = ui_language(request)
    _ui_language.set(language)
    values: dict[str, Any] = {
        "request": request,
        "ui_lang": language,
        "settings": request.app.state.settings,
    }
    for provider in request.app.state.context_providers:
        values.update(provider(request))
    values.update(context or {})
    page = _environments[language].get_template(template).render(values)
    response = HTMLResponse(page, status_code=status_code)
    response.raw_headers.append((b"cache-control", b"no-store"))
    return response
