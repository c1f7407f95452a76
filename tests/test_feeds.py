import pytest

from newscrawl.feeds import FeedError, parse_feed

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>One</title><link>https://ex.com/1</link></item>
<item><title>Two</title><link> https://ex.com/2 </link></item></channel></rss>"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>t</title><entry><title>A</title><link rel="alternate" href="https://ex.com/a"/>
<id>tag:ex.com,2024:a</id><updated>2024-01-01T00:00:00Z</updated></entry></feed>"""
RDF = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
xmlns="http://purl.org/rss/1.0/"><channel rdf:about="https://ex.com/"><title>t</title>
<link>https://ex.com/</link></channel><item rdf:about="https://ex.com/b"><title>B</title>
<link>https://ex.com/b</link></item></rdf:RDF>"""
RSS091 = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>t</title>
<item><title>Old</title><link>https://ex.com/old</link></item></channel></rss>"""


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
