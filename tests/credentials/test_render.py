"""Certificate PDFs: what they show, and what WeasyPrint is never allowed to fetch."""

from __future__ import annotations

import io
import shutil
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from app.credentials import (
    CertificateTemplateError,
    RenderedCertificate,
    embedded_files,
    render_certificate,
)
from tests.credentials.factories import PROGRAMME_TEMPLATE, make_record

VERIFY_BASE = "https://peerpath.example/verify/"

_opened: list[str] = []
_watching = threading.Event()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _watching.is_set() and event == "open" and isinstance(args[0], str | Path):
        _opened.append(str(args[0]))


sys.addaudithook(_audit)


@pytest.fixture(scope="module")
def issued() -> tuple[Any, RenderedCertificate]:
    record = make_record(name="Zoë Ní Bhriain-Okafor")
    return record, render_certificate(PROGRAMME_TEMPLATE, record, VERIFY_BASE + record.id)


def test_the_pdf_text_holds_the_holder_name_and_the_id(issued: Any) -> None:
    record, rendered = issued
    text = PdfReader(io.BytesIO(rendered.pdf)).pages[0].extract_text()
    assert "Zoë Ní Bhriain-Okafor" in text
    assert record.id in text
    assert "Active listening" in text and "Proficient" in text
    assert "23 November 2028" in text


def test_the_pdf_is_a4_landscape_with_embedded_fonts_and_the_id_in_its_metadata(
    issued: Any,
) -> None:
    record, rendered = issued
    reader = PdfReader(io.BytesIO(rendered.pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts
    for font in fonts.values():
        descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor
    assert reader.metadata is not None
    assert reader.metadata["/certificateid"] == record.id
    assert record.id in reader.metadata.title
    xmp = reader.xmp_metadata
    assert xmp is not None and b"pdfaid" in xmp.stream.get_data()
    assert embedded_files(rendered.pdf) == []


def test_the_qr_code_decodes_to_the_verification_url(issued: Any) -> None:
    record, rendered = issued
    page = pypdfium2.PdfDocument(rendered.pdf)[0]
    image = page.render(scale=3).to_pil()
    decoded = [barcode.text for barcode in zxingcpp.read_barcodes(image)]
    assert decoded == [VERIFY_BASE + record.id]


def test_holder_text_is_escaped_and_never_fetched() -> None:
    record = make_record(name='<img src="file:///etc/passwd"> Robert\'); <b>x</b>')
    rendered = render_certificate(PROGRAMME_TEMPLATE, record, VERIFY_BASE + record.id)
    text = PdfReader(io.BytesIO(rendered.pdf)).pages[0].extract_text()
    assert '<img src="file:///etc/passwd">' in text


class RecordingServer:
    """A loopback TCP listener that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/css\r\n\r\nbody{}")
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[RecordingServer]:
    server = RecordingServer()
    yield server
    server.close()


def _template_with(tmp_path: Path, snippet: str) -> Path:
    folder = tmp_path / "evil-template"
    shutil.copytree(PROGRAMME_TEMPLATE, folder)
    html = (folder / "certificate.html").read_text()
    (folder / "certificate.html").write_text(html.replace("</main>", snippet + "</main>"))
    return folder


@pytest.mark.parametrize(
    "snippet",
    [
        '<img src="file:///etc/passwd" alt="">',
        '<link rel="attachment" href="file:///etc/passwd">',
        '<img src="{outside}" alt="">',
        '<img src="../secret.txt" alt="">',
        '<img src="http://127.0.0.1:{port}/logo.png" alt="">',
        '<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css">',
        '<div style="background: url(https://127.0.0.1:{port}/b.png)">x</div>',
        '<img src="ftp://127.0.0.1:{port}/x.png" alt="">',
        '<img src="data:image/svg+xml;base64,PHN2Zy8+" alt="">',
    ],
)
def test_a_template_cannot_fetch_outside_its_folder(
    tmp_path: Path, listener: RecordingServer, snippet: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not leak")
    folder = _template_with(tmp_path, snippet.format(port=listener.port, outside=secret.as_uri()))
    record = make_record()
    _opened.clear()
    _watching.set()
    try:
        with pytest.raises(
            CertificateTemplateError, match="only use files inside their own folder"
        ):
            render_certificate(folder, record, VERIFY_BASE + record.id)
    finally:
        _watching.clear()
    assert listener.connections == 0
    assert not [p for p in _opened if p in ("/etc/passwd", str(secret))]


def test_a_symlink_out_of_the_template_folder_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG not really")
    folder = _template_with(tmp_path, '<img src="logo.png" alt="">')
    (folder / "logo.png").symlink_to(secret)
    record = make_record()
    with pytest.raises(CertificateTemplateError, match=r"logo\.png"):
        render_certificate(folder, record, VERIFY_BASE + record.id)


def test_a_template_that_attaches_a_file_is_refused(tmp_path: Path) -> None:
    folder = _template_with(tmp_path, "")
    html = (folder / "certificate.html").read_text()
    html = html.replace("</head>", '<link rel="attachment" href="certificate.css"></head>')
    (folder / "certificate.html").write_text(html)
    record = make_record()
    with pytest.raises(CertificateTemplateError, match="embedded files"):
        render_certificate(folder, record, VERIFY_BASE + record.id)


def test_a_field_the_record_lacks_is_an_error_not_a_blank(tmp_path: Path) -> None:
    folder = _template_with(tmp_path, "<p>{{ certificate.holder.email }}</p>")
    record = make_record()
    with pytest.raises(CertificateTemplateError, match="email"):
        render_certificate(folder, record, VERIFY_BASE + record.id)
