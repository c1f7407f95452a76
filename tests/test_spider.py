"""The feeds spider's arguments: shards and re-check modes."""

import pytest

from newscrawl.spiders.feeds import FeedsSpider
from newscrawl.spiders.shards import in_shard, parse_shard


def test_shards_partition_feeds_completely_and_disjointly():
    feeds = [f"https://news{i}.example/rss" for i in range(300)]
    parts = [{f for f in feeds if in_shard(f, i, 3)} for i in range(3)]
    assert set().union(*parts) == set(feeds)
    assert sum(len(p) for p in parts) == len(feeds)
    assert all(60 < len(p) < 140 for p in parts)  # roughly even


def test_one_shard_is_everything():
    assert all(in_shard(f"https://x{i}.example/", 0, 1) for i in range(50))


@pytest.mark.parametrize("value", ["3", "1/0", "2/2", "-1/3", "a/b", "1/2/3"])
def test_bad_shards_are_refused_with_a_clear_message(value):
    with pytest.raises(ValueError, match="shard"):
        parse_shard(value)


def test_unknown_recheck_mode_is_refused():
    with pytest.raises(ValueError, match="recheck must be one of"):
        FeedsSpider(recheck="sometimes")
