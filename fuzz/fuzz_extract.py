"""atheris harness: ``extract_article`` gives an Article or None, and never hides a crash.

``extract_article`` turns any exception into None (logged "extraction failed"): the harness
turns that log record back into a crash, so swallowed bugs are found too.
"""

from __future__ import annotations

import logging
import sys

import atheris

with atheris.instrument_imports(include=["newscrawl"]):
    from newscrawl.extract import extract_article


class _RaiseOnError(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            raise RuntimeError("extract_article swallowed an exception") from record.exc_info[1]


def test_one_input(data: bytes) -> None:
    article = extract_article(data, "https://news.example/2024/05/01/story")
    if article is not None:
        text = article.title + "".join(article.paragraphs)
        assert "\x00" not in text


if __name__ == "__main__":
    logger = logging.getLogger("newscrawl.extract")
    logger.addHandler(_RaiseOnError())
    logger.propagate = False
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
