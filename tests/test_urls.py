import pytest

from newscrawl.urls import canonical_url, on_domains


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.ex.com/a?utm_source=rss&utm_medium=x&id=3", "https://www.ex.com/a?id=3"),
        ("https://ex.com/a?fbclid=abc&gclid=def", "https://ex.com/a"),
        ("https://ex.com/a?b=2&a=1#comments", "https://ex.com/a?a=1&b=2"),
        ("HTTPS://EX.COM:443/Path", "https://ex.com/Path"),
        ("http://ex.com:80", "http://ex.com/"),
        ("http://ex.com:8080/x", "http://ex.com:8080/x"),
        ("  https://ex.com/caf\u00e9  ", "https://ex.com/caf%C3%A9"),
        ("https://ex.com/a?UTM_Campaign=x&q=", "https://ex.com/a?q="),
    ],
)
def test_canonical_url_strips_tracking_and_normalizes(url, expected):
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,hi", "file:///etc/passwd", "ftp://ex.com/a",
            "mailto:a@ex.com", "https://", "http://ex.com:notaport/"],
)  # fmt: skip
def test_non_http_or_broken_urls_have_no_canonical_form(url):
    assert canonical_url(url) is None


def test_on_domains_accepts_subdomains_but_not_lookalikes():
    domains = ("bbc.co.uk",)
    assert on_domains("https://www.bbc.co.uk/news/1", domains)
    assert on_domains("https://bbc.co.uk/", domains)
    assert not on_domains("https://evilbbc.co.uk/", domains)
    assert not on_domains("https://bbc.co.uk.evil.com/", domains)
