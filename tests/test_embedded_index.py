"""The embedded store's indexes kept in its files (``newscrawl/embedded_index.py``): a query
answers exactly as litemongo's own planning does, reads only its candidates, and sees every
process's writes."""

from __future__ import annotations

import multiprocessing
import random
import sqlite3
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import litemongo
import pytest
from bson import ObjectId
from litemongo.sqlite_store import ServerStore
from pymongo.errors import DuplicateKeyError

from newscrawl.embedded import WaitingServerStore
from newscrawl.embedded_index import KEYS, PATHS, _keys_of

T0 = datetime(2026, 1, 1, tzinfo=UTC)
INDEXES = [[("url", 1), ("version", 1)], [("h", 1)], [("tags", 1)], [("at", 1)], [("o.k", 1)]]


def collection(store: ServerStore, name: str = "c"):
    coll = litemongo.MongoClient(store, tz_aware=True)["db"][name]
    for keys in INDEXES:
        coll.create_index(keys, unique=keys[0][0] == "url")
    return coll


def random_doc(rng: random.Random) -> dict:
    doc = {
        "url": f"u{rng.randrange(30)}",
        "version": rng.choice([rng.randrange(4), float(rng.randrange(4)), -0.0]),
        "h": rng.choice(
            [
                "x",
                "y",
                "",
                "a\x00b",
                1,
                1.0,
                0,
                -0.0,
                True,
                None,
                ObjectId(b"abcdefghijkl"),
                b"\x00",
            ]
        ),
        "tags": rng.sample(["a", "b", "c", "é"], rng.randrange(4)),
        "at": T0 + timedelta(minutes=rng.randrange(4) * 30, microseconds=rng.randrange(3)),
        "o": rng.choice([{"k": rng.randrange(3)}, [{"k": 1}], "flat", {}]),
    }
    if rng.random() < 0.2:
        del doc["h"]
    return doc


QUERIES = [
    {"url": "u3"},
    {"url": "u3", "version": 2},
    {"url": {"$in": ["u1", "u2", "nope"]}, "version": {"$in": [0, 1.0]}},
    {"h": 1},
    {"h": "x"},
    {"h": ""},
    {"h": "a\x00b"},
    {"h": -0.0},
    {"h": 0},
    {"h": ObjectId(b"abcdefghijkl")},
    {"h": b"\x00"},
    {"h": None},
    {"h": {"$eq": "y"}, "url": {"$ne": "u4"}},
    {"tags": "a"},
    {"tags": "é"},
    {"$and": [{"tags": "a"}, {"tags": "b"}]},
    {"tags": []},
    {"at": T0 + timedelta(minutes=30)},
    {"at": {"$in": [T0, T0 + timedelta(minutes=90)]}},
    {"o.k": 1},
    {"o.k": {"$in": [0, 2]}},
    {"$and": [{"url": "u5"}, {"$and": [{"h": "y"}]}]},
    {"$or": [{"url": "u1"}, {"h": "x"}]},
    {"_id": "id5"},
    {"_id": {"$in": ["id9", "id2", "nope"]}},
    {"_id": {"$eq": "id7"}, "h": {"$ne": None}},
    {"$and": [{"h": "y"}, {"_id": {"$in": [f"id{n}" for n in range(0, 600, 3)]}}]},
    {"unindexed": 1},
]


def answers(coll) -> list:
    return [[(d["url"], d["version"], d["_id"]) for d in coll.find(q)] for q in QUERIES]


def test_every_query_answers_as_litemongos_own_planning_after_random_writes(tmp_path) -> None:
    plain = collection(ServerStore(tmp_path / "plain"))
    indexed = collection(WaitingServerStore(tmp_path / "indexed", 5))
    rng = random.Random(7)
    for step in range(600):
        doc, op = random_doc(rng), rng.random()
        for coll in (plain, indexed):
            if op < 0.6:
                with suppress(DuplicateKeyError):  # (url, version) is unique
                    coll.insert_one({**doc, "_id": f"id{step}"})
            elif op < 0.8:
                changes = {"h": doc.get("h"), "tags": doc["tags"]}
                coll.update_many({"url": doc["url"]}, {"$set": changes})
            elif op < 0.9:
                coll.delete_one({"h": doc.get("h")})
            else:
                coll.replace_one({"_id": f"id{step - 3}"}, {**doc, "url": f"r{step}"}, upsert=True)
        if step % 100 == 99:
            assert answers(indexed) == answers(plain), f"after {step + 1} writes"
    assert plain.count_documents({}) == indexed.count_documents({}) > 100
    kept, fresh = kept_and_fresh_keys(tmp_path / "indexed" / "db" / "c")
    assert kept == fresh  # no key left behind by an update or a delete, none missing


def kept_and_fresh_keys(path: Path) -> tuple[list, list]:
    """The index rows a collection's file holds, and those its documents give now."""
    connection = sqlite3.connect(path)
    connection.create_function("newscrawl_keys", 2, _keys_of(), deterministic=True)
    kept = connection.execute(f"SELECT path, key, id FROM {KEYS}").fetchall()
    fresh = connection.execute(
        f"SELECT p.path, k.value, d._id FROM {PATHS} AS p, documents AS d, "
        "json_each(newscrawl_keys(d.doc, p.path)) AS k"
    ).fetchall()
    connection.close()
    return sorted(kept), sorted(fresh)


def test_a_lookup_reads_only_its_candidates_not_the_collection(tmp_path) -> None:
    coll = collection(WaitingServerStore(tmp_path, 5))
    coll.insert_many([{"url": f"u{i}", "version": 1, "h": i % 100} for i in range(2000)])
    store = coll._store  # litemongo's CollectionStore
    assert len(list(store.find_candidates({"h": 7}))) == 20
    assert len(list(store.find_candidates({"url": "u7", "version": 1}))) == 1
    assert [d["url"] for d in store.find_candidates({"_id": {"$in": []}})] == []
    # more keys than one SQLite statement takes: the collection is read instead
    store._connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 1000)
    assert coll.count_documents({"h": {"$in": list(range(-4000, 8))}}) == 160


def _write_in_another_process(path: Path, url: str) -> None:
    coll = collection(WaitingServerStore(path, 5))
    coll.update_one({"url": url}, {"$set": {"h": "moved"}})
    coll.insert_one({"url": "new", "version": 1, "h": "moved"})


def test_a_write_from_another_process_is_found_by_the_next_lookup(tmp_path) -> None:
    coll = collection(WaitingServerStore(tmp_path, 5))
    coll.insert_many([{"url": f"u{i}", "version": 1, "h": "here"} for i in range(50)])
    assert coll.count_documents({"h": "moved"}) == 0  # this process has looked the field up
    child = multiprocessing.get_context("spawn").Process(
        target=_write_in_another_process, args=(tmp_path, "u3")
    )
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert sorted(d["url"] for d in coll.find({"h": "moved"})) == ["new", "u3"]
    assert coll.count_documents({"h": "here"}) == 49


def test_a_store_written_before_its_indexes_is_indexed_at_its_first_lookup(tmp_path) -> None:
    old = collection(ServerStore(tmp_path))
    old.insert_many(
        [{"url": f"u{i}", "version": i % 3, "tags": ["t", str(i % 5)]} for i in range(60)]
    )
    old.database.client.close()
    coll = collection(WaitingServerStore(tmp_path, 5))
    assert coll.count_documents({"tags": "3", "version": 0}) == 4
    keys = sqlite3.connect(tmp_path / "db" / "c").execute(
        f"SELECT COUNT(*) FROM {KEYS} WHERE path = 'tags'"
    )
    assert keys.fetchone()[0] == 120


def test_a_connection_without_the_index_function_cannot_write_the_collection(tmp_path) -> None:
    collection(WaitingServerStore(tmp_path, 5)).insert_one({"url": "u", "version": 1})
    with pytest.raises(sqlite3.OperationalError, match="newscrawl_keys"):
        collection(ServerStore(tmp_path)).insert_one({"url": "v", "version": 1})
