"""``scrapy serve``: the read-only web viewer and feeds of changes, served by waitress."""

from __future__ import annotations

import argparse
import sys

from newscrawl.cli import ProjectCommand


class Command(ProjectCommand):
    usage = "[--host HOST] [--port PORT]"
    summary = "Serve the web viewer of tracked changes (pages, JSON, Atom/RSS feeds)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=8000, help="port (0 = any free one)")
        parser.add_argument("--threads", type=int, default=4, help="request threads")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        # Imported here: scrapy imports every command module at the start of every command.
        import waitress

        from newscrawl.web import create_app

        app = create_app(self.settings)
        server = waitress.create_server(app, host=opts.host, port=opts.port, threads=opts.threads)
        host = f"[{opts.host}]" if ":" in opts.host else opts.host
        print(f"newscrawl viewer on http://{host}:{server.effective_port}/", file=sys.stderr)
        sys.stderr.flush()
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
