"""Scrapy settings for newscrawl.

Every newscrawl-specific setting can also come from the environment (``MONGO_URI``,
``NEWSCRAWL_SOURCES``, ...): crawl servers configure the tracker without editing files.
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

DOWNLOADER_MIDDLEWARES = {
    "newscrawl.middlewares.PrivateHostMiddleware": 50,
}
ITEM_PIPELINES = {
    "newscrawl.pipelines.ExtractPipeline": 100,
    "newscrawl.pipelines.NormalizePipeline": 200,
    "newscrawl.pipelines.HashPipeline": 300,
    "newscrawl.pipelines.ChangeDetectionPipeline": 400,
}
# A record of every crawl in the `runs` collection, for `scrapy status` and monitors.
EXTENSIONS = {
    "newscrawl.extensions.RunRecorder": 500,
}

# Storage: a real MongoDB when MONGO_URI is set, else the embedded on-disk store.
MONGO_URI = os.environ.get("MONGO_URI", "")
MONGO_DATABASE = os.environ.get("MONGO_DATABASE", "newscrawl")
NEWSCRAWL_DATA_DIR = os.environ.get("NEWSCRAWL_DATA_DIR", ".newscrawl")

# Which publishers to follow (TOML); empty means the sources.toml shipped in the package.
NEWSCRAWL_SOURCES = os.environ.get("NEWSCRAWL_SOURCES", "")

# Refuse loopback, private, link-local and reserved addresses unless explicitly allowed.
NEWSCRAWL_ALLOW_PRIVATE_HOSTS = os.environ.get("NEWSCRAWL_ALLOW_PRIVATE_HOSTS", "").lower() in {
    "1",
    "true",
    "yes",
}

# Revisit schedule (NewsSniffer's): first re-check after 30 min, x1.2 per unchanged check,
# capped at one day, dropped after 40 days without a change. A change resets the interval.
NEWSCRAWL_REVISIT_INITIAL = 30 * 60
NEWSCRAWL_REVISIT_FACTOR = 1.2
NEWSCRAWL_REVISIT_MAX = 24 * 60 * 60
NEWSCRAWL_REVISIT_STOP_AFTER = 40 * 24 * 60 * 60
# At most this many due articles are re-checked per run (most overdue first).
NEWSCRAWL_RECHECK_LIMIT = 5000
# A change confined to short non-sentence blocks (a dateline, a counter) makes no version
# (newscrawl/furniture.py); "false" stores a version on every new hash.
NEWSCRAWL_FURNITURE = os.environ.get("NEWSCRAWL_FURNITURE", "true").lower() in {"1", "true", "yes"}
# A block stored in this many other articles of a source is its template: furniture for the
# rule above (newscrawl/template.py, learned in the store; 0 = no template).
NEWSCRAWL_TEMPLATE_ARTICLES = int(os.environ.get("NEWSCRAWL_TEMPLATE_ARTICLES", "2"))

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

# Scrapy 2.19's remote-control HTTP endpoint is unauthenticated; a crawl server keeps it off.
REMOTE_CONTROL_ENABLED = False

# Due articles are leased by the run that re-checks them; a crashed run's leases expire.
NEWSCRAWL_LEASE_SECONDS = 15 * 60
# Extraction runs in this many worker processes (default: one per core; 0 = in-process).
NEWSCRAWL_EXTRACT_WORKERS = os.cpu_count() or 1
NEWSCRAWL_EXTRACT_TIMEOUT = 60

# A store write is retried this many times (0.5 s, 1 s, 2 s, ... backoff) before the page is
# spooled to disk (NEWSCRAWL_SPOOL_DIR, default <NEWSCRAWL_DATA_DIR>/spool) and the crawl stops.
NEWSCRAWL_STORE_RETRIES = 5

# At most this many new articles are followed per feed per run; the rest wait for a later
# poll (a hostile or broken feed listing 100k URLs must not flood the crawl).
NEWSCRAWL_FEED_NEW_LIMIT = 500
# Due articles are leased this many at a time, as the crawl needs more.
NEWSCRAWL_CLAIM_BATCH = 200
