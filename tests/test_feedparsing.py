import pytest

from newscrawl.feedparsing import FeedError, parse_feed
from tests.support.feed_samples import ATOM, RDF, RSS, RSS091


@pytest.mark.parametrize(
    ("body", "links"),
    [
        (RSS, ["https://ex.com/1", "https://ex.com/2"]),
        (ATOM, ["https://ex.com/a"]),
        (RDF, ["https://ex.com/b"]),
        (RSS091, ["https://ex.com/old"]),
        # unescaped ampersand: strict XML fails, the lenient fallback recovers the entries
        (RSS.replace(b"<title>One</title>", b"<title>One & Two</title>"),
         ["https://ex.com/1", "https://ex.com/2"]),
    ],
)  # fmt: skip
def test_feed_formats_give_entry_links(body, links):
    assert [e.link for e in parse_feed(body)] == links


def test_external_entities_are_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    body = f"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>
<rss version="2.0"><channel><title>t</title><item><title>&x;</title>
<link>https://ex.com/1</link></item></channel></rss>""".encode()
    entries = parse_feed(body)
    assert all("TOPSECRET" not in e.title for e in entries)


@pytest.mark.parametrize(
    "body", [b"", b"   ", b"not a feed at all", b"<html><body>hi</body></html>",
             b"<rss><channel><item><title>unterminated", b"\x00\xff\xfe binary"],
)  # fmt: skip
def test_non_feeds_raise_feed_error(body):
    with pytest.raises(FeedError):
        parse_feed(body)


def test_valid_feed_without_items_is_empty_not_an_error():
    assert (
        parse_feed(
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
        )
        == []
    )
