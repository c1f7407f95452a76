import re

import pytest

from newscrawl.sources import SourcesError, load_sources


def write(tmp_path, text):
    path = tmp_path / "sources.toml"
    path.write_text(text)
    return path


def test_default_file_lists_real_publishers():
    sources = load_sources()
    names = {s.name for s in sources}
    assert {"BBC News", "The Guardian", "Al Jazeera", "The New York Times"} <= names
    assert all((s.feeds or s.sitemaps or s.sitemaps_from_robots) and s.domains for s in sources)


def test_options_are_read_and_applied(tmp_path):
    (source,) = load_sources(
        write(
            tmp_path,
            """
[[source]]
name = "Ex"
feeds = ["https://feeds.ex.com/rss"]
skip = ["/sport/"]
only = ["/news/"]
extraction = { body_css = "article" }
revisit = { initial = 600, factor = 2 }
""",
        )
    )
    assert source.domains == ("ex.com",)  # derived from the feed host
    assert source.follows("https://www.ex.com/news/1")
    assert not source.follows("https://www.ex.com/sport/news/1")
    assert not source.follows("https://www.ex.com/blog/1")
    assert not source.follows("https://other.com/news/1")
    assert source.extraction == {"body_css": "article"}
    assert source.revisit == {"initial": 600.0, "factor": 2.0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[source]]\nfeeds=['https://x.com/rss']", "'name' is required"),
        ("[[source]]\nname='X'", "at least one of 'feeds', 'sitemaps' or 'pages'"),
        ("[[source]]\nname='X'\nsitemaps=['ftp://x.com/s.xml']", "must be http(s) URLs"),
        ("[[source]]\nname='X'\nsitemaps='robots'", "needs 'pages' or 'domains'"),
        ("[[source]]\nname='X'\nfeeds=['file:///etc/passwd']", "must be http(s) URLs"),
        ("[[source]]\nname='X'\nfeeds=['https://x.com']\nskip=['(']", "bad regular expression"),
        ("[[source]]\nname='X'\nfeeds=['https://x.com']\ncolour='red'", "unknown keys"),
        ("[[source]]\nname='X'\nfeeds=['https://x.com']\nrevisit={every=3}",
         "source 'X': 'revisit': unknown keys ['every']"),
        ("[[source]]\nname='X'\nfeeds=['https://x.com']\nrevisit={initial='soon'}",
         "'revisit' values are numbers"),
        ("[[source]]\nname='X'\nfeeds=['https://x.com']\n[[source]]\nname='X'\nfeeds=['https://y.com']",
         "duplicate source names"),
        ("name = 'X'", "no [[source]] tables"),
        ("[[source]\nname=", "not valid TOML"),
    ],
)  # fmt: skip
def test_bad_files_get_a_clear_error(tmp_path, text, message):
    with pytest.raises(SourcesError, match=re.escape(message)):
        load_sources(write(tmp_path, text))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SourcesError, match="cannot read sources file"):
        load_sources(tmp_path / "nope.toml")


def test_a_source_may_have_only_sitemaps_or_only_pages(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text(
        "[[source]]\nname='S'\nsitemaps=['https://www.ex.com/sitemap-news.xml']\n"
        "[[source]]\nname='R'\nsitemaps='robots'\ndomains=['ex.org']\n"
        "[[source]]\nname='P'\npages=['https://news.ex.net/world/']\nsitemaps='robots'\n"
    )
    only_sitemaps, robots, pages = load_sources(path)
    assert only_sitemaps.domains == ("ex.com",) and not only_sitemaps.feeds
    assert robots.robots_urls() == ["https://ex.org/robots.txt"]
    assert pages.domains == ("news.ex.net",)
    assert pages.robots_urls() == ["https://news.ex.net/robots.txt"]
    assert only_sitemaps.robots_urls() == []


X = "[[source]]\nname='X'\nfeeds=['https://x.com/rss']\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (X + "extraction={bodycss='article'}",
         "source 'X': 'extraction': unknown keys ['bodycss']"),
        (X + "[source.extraction]\nbody_css='article'\n[source.extraction.title]\ncss='h1'",
         "source 'X': 'extraction': unknown keys ['title']"),
        (X + "extraction='article'", "source 'X': 'extraction': must be a table"),
        (X + "extraction={body_css='article >'}", "'body_css' = 'article >' is not CSS"),
        (X + "extraction={drop_css='.promo'}", "'drop_css' must be a list of CSS selectors"),
        (X + "extraction={title_css=['h1']}", "'title_css' must be a CSS selector"),
        (X + "[[sourse]]\nname='Y'", "unknown keys ['sourse']"),
    ],
)  # fmt: skip
def test_an_unknown_or_bad_key_in_any_table_is_an_error_naming_it(tmp_path, text, message):
    with pytest.raises(SourcesError, match=re.escape(message)):
        load_sources(write(tmp_path, text))


def test_every_extraction_override_is_accepted(tmp_path):
    text = X + "extraction={body_css='article', title_css='h1', drop_css=['.promo', 'aside']}"
    (source,) = load_sources(write(tmp_path, text))
    assert source.extraction == {"body_css": "article", "title_css": "h1",
                                 "drop_css": [".promo", "aside"]}  # fmt: skip
