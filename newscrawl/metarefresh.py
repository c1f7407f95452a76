"""Scrapy's meta-refresh redirect, looked for in the page's first 16 KB only.

Scrapy's ``MetaRefreshMiddleware`` reads ``response.text[:4096]``, which decodes the whole
body in the crawl process and keeps the text with the response: for an article page, often
twice the size of its bytes. The crawl process never needs an article's text (the extraction
workers decode the body, ``newscrawl.extract.extract_response``), so this one hands Scrapy's
middleware a copy of the response cut to its first 16 KB: 4,096 characters in any encoding.
"""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefresh
from scrapy.http import HtmlResponse, Response

HEAD_BYTES = 4 * 4096 + 4  # Scrapy looks at 4,096 characters: UTF-32's 4 bytes each and a BOM


class MetaRefreshMiddleware(ScrapyMetaRefresh):
    """Scrapy's, with the same settings (``METAREFRESH_*``), on the page's first 16 KB."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:  # ``spider``: the base's signature; Scrapy 2.19 passes none
        if not isinstance(response, HtmlResponse) or len(response.body) <= HEAD_BYTES:
            return super().process_response(request, response)
        head = response.replace(body=response.body[:HEAD_BYTES], encoding=response.encoding)
        result = super().process_response(request, head)
        return response if result is head else result
