"""Certificate PDFs: a programme's template, filled strictly, rendered by WeasyPrint in a cage.

The template folder (`certificates/<template>/certificate.html` + its CSS and fonts) is the
only place WeasyPrint may read from. `TemplateFetcher` denies every other URL (other files,
`http(s):`, `ftp:`, redirects, data: URIs we did not make) and the denial stops the render, so
a template or a holder's name can never pull a server file or an internal URL into a PDF.
"""

from __future__ import annotations

import base64
import hashlib
import io
import mimetypes
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from app.credentials.record import CertificateRecord

TEMPLATE_FILE = "certificate.html"
PDF_VARIANT = "pdf/a-3u"


class CertificateTemplateError(RuntimeError):
    """The template cannot produce a certificate; the message says what to fix."""


class FetchDenied(ValueError):
    """WeasyPrint asked for a URL outside the template's folder."""


class TemplateFetcher(URLFetcher):
    """Deny-by-default URL fetcher: files inside `root`, and data: URIs we generated."""

    def __init__(self, root: Path, data_uris: frozenset[str] = frozenset()) -> None:
        super().__init__(
            allowed_protocols={"file", "data"}, allow_redirects=False, fail_on_errors=True
        )
        self.root = root.resolve()
        self.data_uris = data_uris
        self.denied: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url in self.data_uris:
            head, _, payload = url.partition(",")
            return URLFetcherResponse(
                url, base64.b64decode(payload), {"Content-Type": head[5:].split(";")[0]}
            )
        parts = urlsplit(url)
        if parts.scheme == "file" and parts.netloc in ("", "localhost"):
            path = Path(url2pathname(unquote(parts.path))).resolve()
            if path.is_relative_to(self.root) and path.is_file():
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
        self.denied.append(url)
        raise FetchDenied(f"certificate templates may only use files in their own folder: {url}")


@lru_cache(maxsize=16)
def _environment(root: Path) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(root),
        autoescape=True,
        undefined=StrictUndefined,
        auto_reload=False,
    )
    environment.filters["long_date"] = long_date
    return environment


def long_date(value: date | None) -> str:
    """`23 November 2026` (unambiguous in every English-speaking country)."""
    return "—" if value is None else f"{value.day} {value:%B %Y}"


def qr_code_data_uri(url: str) -> str:
    """An SVG QR code (error correction M) for `url`, as a base64 data: URI."""
    svg = segno.make(url, error="m", micro=False).svg_inline(scale=4, border=4)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


@dataclass(frozen=True)
class RenderedCertificate:
    pdf: bytes
    sha256: str


def fill_template(template_dir: Path, context: dict[str, Any]) -> str:
    """The certificate HTML; a field the template names but the record lacks is an error."""
    try:
        return _environment(template_dir.resolve()).get_template(TEMPLATE_FILE).render(context)
    except TemplateError as error:
        raise CertificateTemplateError(
            f"{template_dir.name}/{TEMPLATE_FILE}: {error.message or error}"
        ) from error


def render_certificate(
    template_dir: Path,
    record: CertificateRecord,
    verify_url: str,
    *,
    variant: str | None = PDF_VARIANT,
) -> RenderedCertificate:
    """Render one certificate to PDF bytes (A4 landscape per the template, fonts embedded)."""
    if not (template_dir / TEMPLATE_FILE).is_file():
        raise CertificateTemplateError(f"{template_dir} has no {TEMPLATE_FILE}")
    qr_code = qr_code_data_uri(verify_url)
    html = fill_template(
        template_dir, {"certificate": record, "verify_url": verify_url, "qr_code": qr_code}
    )
    pdf = render_html(template_dir, html, data_uris=frozenset({qr_code}), variant=variant)
    return RenderedCertificate(pdf, hashlib.sha256(pdf).hexdigest())


def render_html(
    template_dir: Path,
    html: str,
    *,
    data_uris: frozenset[str] = frozenset(),
    variant: str | None = PDF_VARIANT,
) -> bytes:
    """WeasyPrint with the caged fetcher; refuses output that carries embedded files."""
    fetcher = TemplateFetcher(template_dir, data_uris)
    try:
        document = HTML(
            string=html, base_url=template_dir.resolve().as_uri() + "/", url_fetcher=fetcher
        )
        pdf = document.write_pdf(
            font_config=FontConfiguration(),
            pdf_variant=variant,
            custom_metadata=True,
            attachments=[],
        )
    except FatalURLFetchingError as error:
        raise CertificateTemplateError(
            f"{template_dir.name}: refused to fetch {', '.join(fetcher.denied)}; certificate "
            "templates may only use files inside their own folder"
        ) from error
    assert pdf is not None
    embedded = embedded_files(pdf)
    if embedded:
        raise CertificateTemplateError(
            f"{template_dir.name}: the PDF would carry embedded files ({', '.join(embedded)}); "
            "certificate templates must not attach files"
        )
    return pdf


def embedded_files(pdf: bytes) -> list[str]:
    """Names of files embedded in a PDF (document attachments and file-attachment annotations)."""
    reader = PdfReader(io.BytesIO(pdf))
    names = list(reader.attachments)
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") == "/FileAttachment":
                names.append(str(annotation.get("/Contents", "file attachment annotation")))
    return names
