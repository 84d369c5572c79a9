"""The one way to render a page: Jinja2 with autoescaping and translated UI strings (Babel)."""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
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


_environment = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    extensions=["jinja2.ext.i18n"],
    # Templates ship with the package and never change while the server runs: no stat()
    # of every template file on every page.
    auto_reload=False,
)
_environment.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
templates = Jinja2Templates(env=_environment)


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
    _ui_language.set(ui_language(request))
    values: dict[str, Any] = {"ui_lang": _ui_language.get(), "settings": request.app.state.settings}
    for provider in request.app.state.context_providers:
        values.update(provider(request))
    values.update(context or {})
    response = templates.TemplateResponse(request, template, values, status_code=status_code)
    response.headers.setdefault("Cache-Control", "no-store")
    return response
