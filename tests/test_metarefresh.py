"""The meta-refresh redirect is read from the page's first 16 KB, as Scrapy's reads its first
4,096 characters, without decoding the rest of the page in the crawl process."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from newscrawl import settings as project_settings
from newscrawl.metarefresh import HEAD_BYTES, MetaRefreshMiddleware

URL = "https://example.com/news/old"
PROSE = "<p>" + "The council met on Tuesday and agreed the budget. " * 40 + "</p>"


def middleware() -> MetaRefreshMiddleware:
    settings = {"DOWNLOADER_MIDDLEWARES": project_settings.DOWNLOADER_MIDDLEWARES}
    return MetaRefreshMiddleware.from_crawler(get_crawler(settings_dict=settings))


def page(head: str, encoding: str = "utf-8", paragraphs: int = 40) -> HtmlResponse:
    html = f"<html><head>{head}<title>Old</title></head><body>{PROSE * paragraphs}</body></html>"
    body = html.encode(encoding)
    assert len(body) > HEAD_BYTES
    return HtmlResponse(URL, body=body, headers={"Content-Type": f"text/html; charset={encoding}"})


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32", "utf-32-be"])
def test_a_meta_refresh_at_the_top_of_a_long_page_is_followed(encoding: str) -> None:
    refresh = '<meta http-equiv="refresh" content="0; url=/news/new">'
    result = middleware().process_response(Request(URL), page(refresh, encoding))
    assert isinstance(result, Request)
    assert result.url == "https://example.com/news/new"


def test_a_long_page_without_one_goes_on_as_it_came_and_is_not_decoded() -> None:
    response = page("")
    assert middleware().process_response(Request(URL), response) is response
    assert response._cached_ubody is None  # Scrapy's cache of response.text: never filled


def test_a_refresh_past_the_first_4096_characters_is_not_followed_as_in_scrapy() -> None:
    late = page(
        "<style>" + "x" * 5000 + "</style>" + '<meta http-equiv="refresh" content="0; url=/x">'
    )
    assert middleware().process_response(Request(URL), late) is late


def test_a_refresh_later_than_the_maximum_delay_leaves_the_page_as_it_came() -> None:
    slow = page('<meta http-equiv="refresh" content="600; url=/news/new">')
    assert middleware().process_response(Request(URL), slow) is slow


def test_a_short_page_is_handled_by_scrapys_own_code() -> None:
    refresh = '<meta http-equiv="refresh" content="0; url=/news/new">'
    short = HtmlResponse(URL, body=f"<html><head>{refresh}</head></html>".encode())
    result = middleware().process_response(Request(URL), short)
    assert isinstance(result, Request) and result.url == "https://example.com/news/new"


def test_the_project_replaces_scrapys_middleware() -> None:
    middlewares = project_settings.DOWNLOADER_MIDDLEWARES
    assert middlewares["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    assert middlewares["newscrawl.metarefresh.MetaRefreshMiddleware"] == 580
