"""The extraction workers decode a response's bytes, with the encoding Scrapy found for it,
to the text ``response.text`` gives in the crawl process."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from newscrawl.extract import extract_response
from newscrawl.extract.parse import decode_body

TEXT = "Zürich’s council: “€5m” for São Paulo — naïve façade"
PAGE = (
    "<html><head>{meta}<title>{text}</title></head><body><article><h1>{text}</h1>"
    + "<p>{text}, said the mayor after the council met on Tuesday evening.</p>" * 4
    + "</article></body></html>"
)


def response(encoding: str, header: str | None, meta: str = "", bom: bytes = b"") -> HtmlResponse:
    body = bom + PAGE.format(meta=meta, text=TEXT).encode(encoding)
    headers = {"Content-Type": f"text/html; charset={header}" if header else "text/html"}
    return HtmlResponse("https://example.com/a", body=body, headers=headers)


CASES = {
    "header": response("utf-8", "utf-8"),
    "header cp1252": response("cp1252", "windows-1252"),
    "meta": response("cp1252", None, '<meta charset="windows-1252">'),
    "bom utf-16": response("utf-16-le", None, bom=b"\xff\xfe"),
    "bom over header": response("utf-8", "iso-8859-1", bom=b"\xef\xbb\xbf"),
    "sniffed utf-8": response("utf-8", None),
    "sniffed cp1252": response("cp1252", None),
}


@pytest.mark.parametrize("name", CASES)
def test_the_body_decodes_to_the_text_scrapy_gives(name: str) -> None:
    page = CASES[name]
    assert decode_body(page.body, page.encoding) == page.text
    article = extract_response(page.body, page.encoding, page.url)
    assert article is not None and article.title in page.text  # as Scrapy read it


def test_an_encoding_python_cannot_decode_with_falls_back_to_detection() -> None:
    page = response("utf-8", "base64")  # a label w3lib resolves that is no text encoding
    article = extract_response(page.body, "base64", page.url)
    assert article is not None and article.title == TEXT
