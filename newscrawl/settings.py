"""Scrapy settings for newscrawl.

Every newscrawl setting (``MONGO_*``, ``NEWSCRAWL_*``) can also come from the environment, by
its own name: crawl servers configure the tracker without editing files. ``-s NAME=VALUE``
still wins over the environment.
"""

import os

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["newscrawl.spiders"]
NEWSPIDER_MODULE = "newscrawl.spiders"
COMMANDS_MODULE = "newscrawl.commands"

# Politeness: identify ourselves, obey robots.txt, few requests per domain, adapt to latency.
USER_AGENT = "newscrawl/0.1 (+https://github.com/newscrawl/newscrawl; tracks article revisions)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Outputs of one callback processed at once. Scrapy starts this many asyncio workers for every
# callback's output (100 by default) however few it yields; an article callback yields one
# item, a feed's its requests, which are handed to the scheduler without waiting.
CONCURRENT_ITEMS = 1
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Error responses reach the spider so 404/410 can mark an article removed.
HTTPERROR_ALLOWED_CODES = [304, 404, 410]

# The downloader resolves hosts with a resolver refusing internal answers (DNS rebinding).
TWISTED_DNS_RESOLVER = "newscrawl.netguard.GuardedResolver"
DOWNLOADER_MIDDLEWARES = {
    "newscrawl.middlewares.PrivateHostMiddleware": 50,
    "newscrawl.middlewares.RefusedLookupMiddleware": 600,  # before RetryMiddleware's 550
    # Scrapy's, reading only the page's first 16 KB (it would decode every page's body).
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "newscrawl.metarefresh.MetaRefreshMiddleware": 580,
}
ITEM_PIPELINES = {
    "newscrawl.pipelines.ExtractPipeline": 100,
    "newscrawl.pipelines.NormalizePipeline": 200,
    "newscrawl.pipelines.HashPipeline": 300,
    "newscrawl.confirm.ConfirmPipeline": 350,
    "newscrawl.pipelines.ChangeDetectionPipeline": 400,
}
# The crawl's store thread, found by the spider, the pipelines and the other extensions
# (newscrawl/crawlstore.py); a record of every crawl in the `runs` collection, for
# `scrapy status` and monitors.
EXTENSIONS = {
    "newscrawl.crawlstore.CrawlStore": 100,
    "newscrawl.extensions.RunRecorder": 500,
    # After RunRecorder: notifications go out once the run is recorded (newscrawl/notifier.py).
    "newscrawl.notifier.Notifier": 510,
    # Never loaded (see REMOTE_CONTROL_ENABLED below): its module imports aiohttp's web
    # server, 9 MB and 0.1 s of every crawl's start-up.
    "scrapy.extensions.remote_control.RemoteControl": None,
}

# Storage: a real MongoDB when MONGO_URI is set, else the embedded on-disk store.
MONGO_URI = ""
MONGO_DATABASE = "newscrawl"
NEWSCRAWL_DATA_DIR = ".newscrawl"

# Which publishers to follow (TOML); empty means the sources.toml shipped in the package.
NEWSCRAWL_SOURCES = ""

# Refuse loopback, private, link-local and reserved addresses unless explicitly allowed.
NEWSCRAWL_ALLOW_PRIVATE_HOSTS = False

# Revisit schedule (NewsSniffer's): first re-check after 30 min, x1.2 per unchanged check,
# capped at one day, dropped after 40 days without a change. A change resets the interval.
NEWSCRAWL_REVISIT_INITIAL = 30 * 60
NEWSCRAWL_REVISIT_FACTOR = 1.2
NEWSCRAWL_REVISIT_MAX = 24 * 60 * 60
NEWSCRAWL_REVISIT_STOP_AFTER = 40 * 24 * 60 * 60
# A failed check is retried after NEWSCRAWL_REVISIT_INITIAL, then twice as long each time
# (capped at NEWSCRAWL_REVISIT_MAX); an article whose every check failed for this long is no
# longer checked (status "failing"). 7 days.
NEWSCRAWL_REVISIT_ERROR_STOP_AFTER = 7 * 24 * 60 * 60
# Volatile articles (live blogs, rotating content): changed at NEWSCRAWL_VOLATILE_CHANGES or
# more of the last NEWSCRAWL_VOLATILE_CHECKS checks. Their interval grows even when they
# change, and at most NEWSCRAWL_VOLATILE_MAX_VERSIONS_PER_DAY versions are stored per 24 h;
# the changes not stored are counted (skipped_changes).
NEWSCRAWL_VOLATILE_CHECKS = 10
NEWSCRAWL_VOLATILE_CHANGES = 8
NEWSCRAWL_VOLATILE_MAX_VERSIONS_PER_DAY = 6
# `errors` records older than this (s; 30 days) are deleted, and beyond NEWSCRAWL_ERRORS_MAX
# the oldest (down to 90% of it): at the end of every crawl, and on MongoDB also by a TTL
# index. 0 disables either bound.
NEWSCRAWL_ERRORS_TTL = 30 * 24 * 60 * 60
NEWSCRAWL_ERRORS_MAX = 50_000
# `transient_changes` (held changes the next check did not show) older than this (s; 30
# days) are deleted at the end of every crawl. 0 keeps them all.
NEWSCRAWL_TRANSIENT_TTL = 30 * 24 * 60 * 60
# At most this many due articles are re-checked per run (most overdue first).
NEWSCRAWL_RECHECK_LIMIT = 5000
# A change confined to short non-sentence blocks (a dateline, a counter) makes no version
# (newscrawl/furniture.py); "false" stores a version on every new hash.
NEWSCRAWL_FURNITURE = True
# A re-check that would store a new version fetches the page once more first, and stores it
# only if the second fetch shows the change too (newscrawl/confirm.py: furniture rotating per
# request, a page cut short).
NEWSCRAWL_CONFIRM_CHANGES = True
# A re-check's new text is stored once the next check shows it too (newscrawl/holding.py).
NEWSCRAWL_HOLD_CHANGES = True

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

# Scrapy 2.19's remote-control endpoint runs Python sent to it over HTTP (with a token from a
# file in the user's profile); a crawl server keeps it off, also when EXTENSIONS is replaced.
REMOTE_CONTROL_ENABLED = False

# Due articles are leased by the run that re-checks them; a crashed run's leases expire.
NEWSCRAWL_LEASE_SECONDS = 15 * 60
# Extraction runs in this many worker processes (default: one per core; 0 = in-process).
NEWSCRAWL_EXTRACT_WORKERS = os.cpu_count() or 1
# Freed page buffers go back to the system (glibc malloc thresholds, newscrawl/memory.py).
NEWSCRAWL_RETURN_FREED_MEMORY = True
NEWSCRAWL_EXTRACT_TIMEOUT = 60

# A store write that failed with an error a later try may get past (MongoDB unreachable, the
# embedded store locked) is retried this many times (0.5 s, 1 s, 2 s, ... backoff) before the
# page is spooled to disk and the crawl stops.
NEWSCRAWL_STORE_RETRIES = 5
# Where spooled pages are kept; empty means <NEWSCRAWL_DATA_DIR>/spool.
NEWSCRAWL_SPOOL_DIR = ""
# Seconds an embedded-store call waits for another process's write lock before it fails.
NEWSCRAWL_STORE_BUSY_TIMEOUT = 30.0

# At most this many new articles are followed per feed per run; the rest wait for a later
# poll (a hostile or broken feed listing 100k URLs must not flood the crawl).
NEWSCRAWL_FEED_NEW_LIMIT = 500
# Due articles are leased this many at a time, as the crawl needs more.
NEWSCRAWL_CLAIM_BATCH = 200

# Keep the raw page of every stored version (zstd, in the `pages` collection), for evidence,
# `scrapy reextract` and `scrapy warc`; NEWSCRAWL_KEEP_PAGES_LATEST > 0 keeps only the
# latest N per article.
NEWSCRAWL_KEEP_PAGES = True
NEWSCRAWL_KEEP_PAGES_LATEST = 0

# Submit every new version's URL to the Internet Archive's Save Page Now (newscrawl/wayback.py):
# the crawl queues it (`archive_queue`), `scrapy wayback` submits the queue at most
# NEWSCRAWL_WAYBACK_PER_MINUTE a minute (anonymous captures: about 4; 0 = no limit).
NEWSCRAWL_WAYBACK = False
NEWSCRAWL_WAYBACK_ENDPOINT = "https://web.archive.org/save/"
NEWSCRAWL_WAYBACK_PER_MINUTE = 4

# The viewer (`scrapy serve`): the public address its feeds link to (default: the request's
# host), how many reverse proxies' X-Forwarded-* headers to believe (0: none), and the seconds
# one request's store queries may take (then 503).
NEWSCRAWL_PUBLIC_URL = ""
NEWSCRAWL_TRUSTED_PROXIES = 0
NEWSCRAWL_VIEWER_TIME_LIMIT = 5.0

# Notifications (newscrawl/outbox.py, endpoints.py, senders.py): every new version, removal
# and reappearance is queued in the `outbox` collection by the crawl and delivered when it
# closes (at most NEWSCRAWL_NOTIFY_MAX_TIME seconds) or by `scrapy notify`. One webhook from
# the settings (signed with its secret), Apprise URLs (space- or comma-separated), more of
# both as [[webhook]] / [[notify]] tables in the sources file. A failing endpoint is retried
# after NEWSCRAWL_NOTIFY_BACKOFF s, doubling up to NEWSCRAWL_NOTIFY_BACKOFF_MAX; an event is
# given up after NEWSCRAWL_NOTIFY_MAX_TRIES failures; finished events are kept
# NEWSCRAWL_NOTIFY_KEEP s. Internal hosts are refused unless
# NEWSCRAWL_NOTIFY_ALLOW_PRIVATE_HOSTS (or NEWSCRAWL_ALLOW_PRIVATE_HOSTS).
NEWSCRAWL_WEBHOOK_URL = ""
NEWSCRAWL_WEBHOOK_SECRET = ""
NEWSCRAWL_NOTIFY_URLS = ""
NEWSCRAWL_NOTIFY_ALLOW_PRIVATE_HOSTS = False
NEWSCRAWL_NOTIFY_MAX_TIME = 60.0
NEWSCRAWL_NOTIFY_TIMEOUT = 10.0
NEWSCRAWL_NOTIFY_BACKOFF = 60.0
NEWSCRAWL_NOTIFY_BACKOFF_MAX = 6 * 60 * 60.0
NEWSCRAWL_NOTIFY_MAX_TRIES = 20
NEWSCRAWL_NOTIFY_KEEP = 7 * 24 * 60 * 60.0


# Sitemaps and feed autodiscovery (sources' `sitemaps` and `pages`; newscrawl/sitemaps.py):
# a sitemap larger than this once gunzipped (bytes; 50 MB is the protocol's limit) or listing
# more than NEWSCRAWL_SITEMAP_MAX_URLS URLs gets an error record (the first ones are read);
# at most NEWSCRAWL_SITEMAP_NEW_LIMIT new articles are followed per sitemap per run, only
# those dated within NEWSCRAWL_SITEMAP_MAX_AGE seconds (2 days; undated ones never); of an
# index, the NEWSCRAWL_SITEMAP_INDEX_LIMIT newest sitemaps within that age are polled.
NEWSCRAWL_SITEMAP_MAX_SIZE = 50 * 1024 * 1024
NEWSCRAWL_SITEMAP_MAX_URLS = 50_000
NEWSCRAWL_SITEMAP_NEW_LIMIT = 500
NEWSCRAWL_SITEMAP_MAX_AGE = 2 * 24 * 60 * 60
NEWSCRAWL_SITEMAP_INDEX_LIMIT = 50
# Article lifecycle (newscrawl/lifecycle.py): a sign that a tracked article is gone (404/410,
# a redirect to the home or a section page, a "page not found" page) is confirmed by this
# many re-checks, this many seconds apart, before the article is marked removed (0: at the
# first sign). A removed article is still checked every NEWSCRAWL_REMOVED_RECHECK_INTERVAL
# seconds (1 day) for NEWSCRAWL_REMOVED_RECHECK_STOP_AFTER (30 days), and re-tracked if it
# comes back.
NEWSCRAWL_REMOVAL_CONFIRM_CHECKS = 3
NEWSCRAWL_REMOVAL_CONFIRM_INTERVAL = 60 * 60
NEWSCRAWL_REMOVED_RECHECK_INTERVAL = 24 * 60 * 60
NEWSCRAWL_REMOVED_RECHECK_STOP_AFTER = 30 * 24 * 60 * 60


def _from_environment(names: dict) -> None:
    """Override the newscrawl settings above with same-named environment variables. Scrapy's
    ``getint``/``getfloat`` convert the strings; booleans also accept yes/no and on/off."""
    for name, default in list(names.items()):
        if not name.startswith(("MONGO_", "NEWSCRAWL_")) or name not in os.environ:
            continue
        value = os.environ[name].strip()
        names[name] = (
            value.lower() in {"1", "true", "yes", "on"} if isinstance(default, bool) else value
        )


_from_environment(globals())
