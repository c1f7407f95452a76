"""``scrapy warc -o FILE.warc.gz [--source NAME] [--url URL]``: the stored raw pages as WARC.

One ``response`` record per snapshot (``WARC-Date`` = fetch time, ``WARC-Target-URI`` = the
URL it was served from, payload digest by warcio) and the ``request`` record that fetched
it, so pywb, ReplayWeb.page and other archive tools can replay every version. The HTTP
headers are the ones a snapshot keeps (content type, ETag, Last-Modified, Date); the body is
the one received after content decoding, so no Content-Encoding is written.
"""

from __future__ import annotations

import argparse
from http import HTTPStatus
from io import BytesIO
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from newscrawl.cli import OutputCommand
from newscrawl.snapshots import Snapshots
from newscrawl.store import Store, as_utc
from newscrawl.urls import canonical_url


def write_warc(
    store: Store, out: IO[bytes], source: str | None = None, url: str | None = None,
    user_agent: str = "",
) -> int:  # fmt: skip
    """Write the snapshots (all, one source's or one article's); returns how many."""
    snapshots = Snapshots(store)
    writer = WARCWriter(out, gzip=True)
    writer.write_record(
        writer.create_warcinfo_record(
            getattr(out, "name", "newscrawl.warc.gz"),
            {"software": "newscrawl", "format": "WARC File Format 1.1"},
        )
    )
    count = 0
    for doc in snapshots.find(url=canonical_url(url) or url if url else None, source=source):
        response = _response(writer, doc, snapshots.body(doc))
        writer.write_record(response)
        writer.write_record(_request(writer, doc, response, user_agent))
        count += 1
    return count


def _response(writer: WARCWriter, doc: dict[str, Any], body: bytes) -> Any:
    status = int(doc.get("status") or 200)
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    headers = [
        (name, doc[key])
        for name, key in (
            ("Content-Type", "content_type"),
            ("ETag", "etag"),
            ("Last-Modified", "last_modified"),
            ("Date", "date"),
        )  # fmt: skip
        if doc.get(key)
    ]
    headers.append(("Content-Length", str(len(body))))
    http = StatusAndHeaders(f"{status} {reason}".strip(), headers, protocol="HTTP/1.1")
    return writer.create_warc_record(
        doc["response_url"] or doc["url"],
        "response",
        payload=BytesIO(body),
        length=len(body),
        http_headers=http,
        warc_headers_dict={"WARC-Date": _warc_date(doc["fetched_at"])},
    )


def _request(writer: WARCWriter, doc: dict[str, Any], response: Any, user_agent: str) -> Any:
    target = urlsplit(doc["response_url"] or doc["url"])
    path = target.path or "/"
    if target.query:
        path += "?" + target.query
    headers = [("Host", target.netloc)] + ([("User-Agent", user_agent)] if user_agent else [])
    http = StatusAndHeaders(f"GET {path} HTTP/1.1", headers, is_http_request=True)
    return writer.create_warc_record(
        doc["response_url"] or doc["url"],
        "request",
        http_headers=http,
        warc_headers_dict={
            "WARC-Date": _warc_date(doc["fetched_at"]),
            "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
        },
    )


def _warc_date(value: Any) -> str:
    return datetime_to_iso_date(as_utc(value).replace(tzinfo=None), use_micros=True)


class Command(OutputCommand):
    usage = "-o FILE.warc.gz [--source NAME] [--url URL]"
    summary = "Write the stored raw page of every version as a WARC file"
    output_help = "output WARC"
    output_example = "FILE.warc.gz"
    binary = True
    done = "wrote {count} snapshots to {output}"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--url", metavar="URL", help="only this article")

    def write(self, store: Store, out: IO[Any], opts: argparse.Namespace) -> int:
        user_agent = self.settings.get("USER_AGENT") or ""
        return write_warc(store, out, opts.source, opts.url, user_agent)
