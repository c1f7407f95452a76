"""The base of the commands in ``newscrawl/commands/`` that read or write the store, and what
they share: the store opened and closed around the work, the ``--source``, ``-o`` and
``--max-time`` options, the "not tracked" error, and text made safe for a terminal.

It lives outside ``newscrawl/commands/``: Scrapy lists every command class defined in that
package's modules (its ``__init__`` included) as a command of its own.
"""

from __future__ import annotations

import argparse
import re
import sys
from contextlib import AbstractContextManager, nullcontext
from typing import IO, Any

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.settings import Settings

from newscrawl import queries
from newscrawl.store import Store

# Article text is untrusted: no escape sequence of a publisher's may reach the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` without control characters (terminal escapes among them)."""
    return _CONTROL.sub("", text)


class ProjectCommand(ScrapyCommand):
    """A project command that runs no crawl and logs nothing: its output is its report."""

    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}
    settings: Settings  # set by scrapy.cmdline before the options are processed
    usage = ""  # the arguments, for ``scrapy COMMAND -h``
    summary = ""  # one line, for ``scrapy -h``
    takes_arguments = True  # False: any argument is a usage error

    @property
    def name(self) -> str:
        """The command's name: its module's, as Scrapy finds it."""
        return type(self).__module__.rsplit(".", 1)[-1]

    def syntax(self) -> str:
        return self.usage

    def short_desc(self) -> str:
        return self.summary

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if args and not self.takes_arguments:
            raise UsageError(f"scrapy {self.name} takes no arguments")


class StoreCommand(ProjectCommand):
    """A command that works on the store: :meth:`run_with_store` gets it open and returns the
    exit status; the store is closed after, whatever happens. Arguments are checked in
    ``process_options`` (raise ``UsageError``), before the store is opened."""

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if idle := self.nothing_to_do():
            print(idle, file=sys.stderr)
            return
        store = Store.from_settings(self.settings)
        try:
            self.exitcode = self.run_with_store(store, args, opts)
        finally:
            store.close()

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> int:
        raise NotImplementedError

    def nothing_to_do(self) -> str | None:
        """Why the command has nothing to do (said on standard error, exit status 0, the
        store left unopened), or None."""
        return None

    @staticmethod
    def add_source_option(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--source", metavar="NAME", help="only articles of this source")

    @staticmethod
    def tracked_article(store: Store, url: str) -> dict[str, Any] | None:
        """The article tracked at ``url``, or None after saying so on standard error."""
        article = queries.find_article(store, url)
        if article is None:
            print(f"not tracked: {printable(url)}", file=sys.stderr)
        return article


class QueueCommand(StoreCommand):
    """``[--max-time SECONDS]``: a command that works through a queue the crawl fills (the
    notification outbox, the archive queue), starting nothing after ``--max-time`` seconds
    so that a run fits in its timer's interval; what is left waits for the next run."""

    usage = "[--max-time SECONDS]"
    takes_arguments = False
    max_time_help = ""  # what ``--max-time`` stops, and the default

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--max-time", type=float, default=0, metavar="SECONDS", help=self.max_time_help
        )


class OutputCommand(StoreCommand):
    """A command that writes records of the store to the file ``-o`` names (``-`` for
    standard output), of every source or the one ``--source`` names, and says how many."""

    output_help = "output file"  # what ``-o`` names, in its help
    output_example = "FILE"  # in the error when ``-o`` is missing
    binary = False
    done = "wrote {count} records to {output}"  # the last line, on standard error

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "-o", "--output", metavar="FILE", help=f"{self.output_help} ('-' = stdout)"
        )
        self.add_source_option(parser)

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if not opts.output:
            raise UsageError(
                f"give an output file with -o {self.output_example} (or -o - for stdout)"
            )

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> int:
        with self._open(opts.output) as out:
            count = self.write(store, out, opts)
        if opts.output != "-":
            print(self.done.format(count=count, output=opts.output), file=sys.stderr)
        return 0

    def write(self, store: Store, out: IO[Any], opts: argparse.Namespace) -> int:
        """Write the records; returns how many."""
        raise NotImplementedError

    def _open(self, path: str) -> AbstractContextManager[IO[Any]]:
        if path == "-":
            return nullcontext(sys.stdout.buffer if self.binary else sys.stdout)
        if self.binary:
            return open(path, "wb")  # noqa: SIM115
        return open(path, "w", encoding="utf-8")  # noqa: SIM115


class ComparisonCommand(StoreCommand):
    """``URL [FROM [TO]]``: a command that shows one change of a tracked article
    (:meth:`show`); by default the latest version against the one before."""

    one_version_status = 0  # exit status when the article has one version only

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if not 1 <= len(args) <= 3:
            raise UsageError("give the article's URL and optionally two version numbers")
        if not all(a.isdigit() for a in args[1:]):
            raise UsageError(f"versions are numbers: scrapy {self.name} URL 1 3")

    def run_with_store(self, store: Store, args: list[str], opts: argparse.Namespace) -> int:
        comparison, problem, status = choose(store, args[0], [int(a) for a in args[1:]])
        if comparison is None:
            print(problem, file=sys.stderr)
            return status or self.one_version_status  # status 0: one version only
        return self.show(comparison, opts)

    def show(self, comparison: queries.Comparison, opts: argparse.Namespace) -> int:
        raise NotImplementedError


def choose(
    store: Store, url: str, numbers: list[int]
) -> tuple[queries.Comparison | None, str, int]:
    """The comparison ``URL [FROM [TO]]`` asks for (``scrapy diff``, ``scrapy card``), or
    None with the message to print and the exit status."""
    article = queries.find_article(store, url)
    if article is None:
        return None, f"not tracked: {printable(url)}", 1
    latest = int(article.get("versions") or 1)
    if not numbers and latest == 1:
        return None, "only one version so far: nothing to compare", 0
    old, new = (numbers + [0, 0])[:2] if numbers else (latest - 1, latest)
    new = new or old + 1
    if not 1 <= old < new:
        return None, "compare an earlier version with a later one: FROM < TO", 1
    comparison = queries.compare(store, article, old, new)
    if comparison is None:
        return None, f"the article has versions 1 to {latest}", 1
    return comparison, "", 0
