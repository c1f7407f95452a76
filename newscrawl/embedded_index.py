"""The embedded store's indexes, kept in each collection's SQLite file.

litemongo narrows a query down with hash indexes it holds in each process, one per field of
every declared index, all built together by decoding every document of the collection: in
every new process (each cron'd crawl, each viewer), and again whenever another connection has
written to the file. At 100,000 articles a crawl's open and first claim took 6.4 s (building
indexes, mostly of every search word of every article, of which it used one), a viewer's
first page 11.4 s, and each crawler sharing the store paid it again after every other
crawler's write.

Here the keys live in the file: ``newscrawl_index_keys`` holds (field, key, document id) for
every field listed in ``newscrawl_index_paths``, written by SQLite triggers on every insert,
update and delete of a document, in the same transaction, whichever process writes. The keys
are litemongo's own (``indexing._doc_keys``: a number, string, time, ObjectId or bytes; ``*``
where it cannot key the value, e.g. a path through an array, which every lookup then
includes), computed by a function each connection registers (``newscrawl_keys``): a
connection without it cannot write the collection, which is the point. A query reads the
ids its conditions allow through SQLite's index on (field, key); a query on ``_id`` reads the
documents by their primary key. A field is indexed, from every document, the first time a
query on it finds it missing. Which documents a query returns, and in what order (the
file's), is unchanged: the candidates are still checked against the whole filter. (One
exception: an ``_id`` that is an array, which MongoDB refuses, is found by its whole value
only.)
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import bson
from litemongo._vendor.mongomock import indexing
from litemongo.sqlite_store import _MAX_PARAMS, CollectionStore

# Changing what a key is (``_text``, litemongo's ``_doc_keys``) needs new table names: the
# keys of a store written before would no longer be those its queries ask for.
PATHS = "newscrawl_index_paths"
KEYS = "newscrawl_index_keys"
UNKEYED = "*"  # a document litemongo cannot key on a field: a candidate for every lookup
_PROBE = 1000  # index entries counted, at most, to choose the condition a lookup reads

_NEW_ROWS = f"""SELECT p.path, k.value, NEW._id FROM {PATHS} AS p,
    json_each(newscrawl_keys(NEW.doc, p.path)) AS k"""
_CHANGED = "newscrawl_keys(OLD.doc, p.path) IS NOT newscrawl_keys(NEW.doc, p.path)"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {PATHS}(path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS {KEYS}(path TEXT NOT NULL, key TEXT NOT NULL, id NOT NULL);
CREATE INDEX IF NOT EXISTS {KEYS}_lookup ON {KEYS}(path, key);
CREATE INDEX IF NOT EXISTS {KEYS}_document ON {KEYS}(id, path, key);
CREATE TRIGGER IF NOT EXISTS {KEYS}_insert AFTER INSERT ON documents BEGIN
    INSERT INTO {KEYS} {_NEW_ROWS};
END;
CREATE TRIGGER IF NOT EXISTS {KEYS}_update AFTER UPDATE ON documents BEGIN
    DELETE FROM {KEYS} WHERE id = OLD._id
        AND path IN (SELECT p.path FROM {PATHS} AS p WHERE {_CHANGED});
    INSERT INTO {KEYS} {_NEW_ROWS} WHERE {_CHANGED};
END;
CREATE TRIGGER IF NOT EXISTS {KEYS}_delete AFTER DELETE ON documents BEGIN
    DELETE FROM {KEYS} WHERE id = OLD._id;
END;
"""  # an update rewrites the keys of the paths whose keys it changed, only


class IndexedCollection(CollectionStore):
    """A litemongo collection whose query planning reads indexes kept in its file, and whose
    connection waits up to ``busy_timeout_ms`` for another's write lock."""

    def __init__(self, path: Path, codec_options: Any, busy_timeout_ms: int) -> None:
        self._busy_timeout_ms = busy_timeout_ms
        super().__init__(path, codec_options)

    def open(self) -> None:
        super().open()
        self._connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        self._connection.create_function("newscrawl_keys", 2, _keys_of(), deterministic=True)
        self._connection.executescript(_SCHEMA)
        self._paths: set[str] = set()

    def find_candidates(self, filter: Any) -> Iterable[dict]:  # noqa: A002 (litemongo's name)
        self._remove_expired_documents()
        ids = _id_values(filter)
        if ids is not None:
            return self._by_key(self._documents.encode_key(value) for value in ids)
        declared = indexing.index_paths(self.indexes.values())
        conditions = [(path, keys) for path, keys in _conditions(filter) if path in declared]
        asked = sum(len(keys) + 2 for _, keys in conditions)  # each with its path and UNKEYED
        if not conditions or asked > self._connection.getlimit(
            sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
        ):
            return self.documents  # more than one statement takes: read the collection
        self._index(path for path, _ in conditions)
        return self._by_key(self._lookup([(path, _texts(keys)) for path, keys in conditions]))

    def _index(self, paths: Iterable[str]) -> None:
        """Index each of ``paths`` not yet indexed, from every document."""
        for path in set(paths) - self._paths:
            with self._connection:
                added = self._connection.execute(
                    f"INSERT OR IGNORE INTO {PATHS} VALUES (?)",
                    (path,),  # nosec
                ).rowcount
                if added:  # not another process's already
                    self._connection.execute(
                        f"INSERT INTO {KEYS}(path, key, id) SELECT ?, k.value, d._id "  # nosec
                        f"FROM {self.DOCUMENTS} AS d, json_each(newscrawl_keys(d.doc, ?)) AS k",
                        (path, path),
                    )
            self._paths.add(path)

    def _lookup(self, conditions: list[tuple[str, list[str]]]) -> list[str]:
        """The ids of the documents with one of its keys on each path, in one query: read
        from the index of the condition that matches fewest (counted up to ``_PROBE``),
        each other condition checked for each of those ids by its own index entry."""
        if len(conditions) > 1:
            conditions.sort(key=lambda condition: self._count(*condition))
        (path, keys), *others = conditions
        sql = f"SELECT k0.id FROM {KEYS} AS k0 WHERE k0.path = ? AND k0.key IN ({_marks(keys)})"
        args: list[str] = [path, *keys]
        for number, (path, keys) in enumerate(others, 1):
            sql += (
                f" AND EXISTS (SELECT 1 FROM {KEYS} AS k{number} WHERE k{number}.id = k0.id"
                f" AND k{number}.path = ? AND k{number}.key IN ({_marks(keys)}))"
            )
            args += [path, *keys]
        return [row[0] for row in self._connection.execute(sql, args)]  # nosec

    def _count(self, path: str, keys: list[str]) -> int:
        return self._connection.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {KEYS} WHERE path = ? "  # nosec
            f"AND key IN ({_marks(keys)}) LIMIT {_PROBE})",
            [path, *keys],
        ).fetchone()[0]

    def _by_key(self, keys: Iterable[str]) -> Iterator[dict]:
        """The documents of these (encoded) keys, in the file's order, read 500 at a time as
        they are consumed (``find_one`` stops at its first match)."""
        keys = list(dict.fromkeys(keys))
        rowids = sorted(
            row[0]
            for start in range(0, len(keys), _MAX_PARAMS)
            for row in self._connection.execute(
                f"SELECT ROWID FROM {self.DOCUMENTS} WHERE _id IN "  # nosec
                f"({_marks(keys[start : start + _MAX_PARAMS])})",
                keys[start : start + _MAX_PARAMS],
            )
        )
        for start in range(0, len(rowids), _MAX_PARAMS):
            chunk = rowids[start : start + _MAX_PARAMS]
            docs = dict(
                self._connection.execute(
                    f"SELECT ROWID, doc FROM {self.DOCUMENTS} "  # nosec
                    f"WHERE ROWID IN ({_marks(chunk)})",
                    chunk,
                ).fetchall()
            )
            for rowid in chunk:
                if rowid in docs:  # not deleted since
                    yield self._documents._decode_doc(docs[rowid])


def _keys_of() -> Any:
    """``newscrawl_keys(doc, path)``: a document's keys on ``path``, as a JSON array. SQLite
    asks once per indexed path of each row written, of an update's old and new document
    alike: the last two documents decoded are kept."""
    decoded: dict[bytes, dict] = {}

    def keys(doc: bytes, path: str) -> str:
        if doc not in decoded:
            if len(decoded) == 2:
                del decoded[next(iter(decoded))]
            decoded[doc] = bson.decode(doc)
        found = indexing._doc_keys(decoded[doc], path)
        if found is None:
            return json.dumps([UNKEYED])
        return json.dumps([_text(key) for key in found])

    return keys


def _marks(values: list) -> str:
    return ",".join("?" * len(values))


def _texts(keys: set) -> list[str]:
    """A condition's keys as the index holds them, with the unkeyed documents'."""
    return [*(_text(key) for key in keys), UNKEYED]


def _text(key: tuple) -> str:
    """litemongo's index key as text: equal keys give equal text, different ones different."""
    kind, *value = key
    if not value:  # ('nan',)
        return kind
    if kind == "t":
        return "t" + value[0].isoformat()
    if kind == "x":
        return "x" + value[0].hex()
    if kind == "n":  # + 0.0: -0.0 is 0
        return "n" + (repr(value[0] + 0.0) if isinstance(value[0], float) else str(value[0]))
    if kind == "s" and "\x00" in value[0]:  # SQLite's json_each ends a string at NUL
        return "S" + value[0].encode("utf-8", "surrogatepass").hex()
    return kind + str(value[0])


def _id_values(filter: Any) -> list[Any] | None:  # noqa: A002
    """The ``_id`` values a document must have one of to match, or None when the filter does
    not say (or says it in a form SQLite's key cannot answer: only strings and ObjectIds,
    whose keys are equal exactly when the ids are)."""
    if not isinstance(filter, dict):
        return None
    keys = indexing.query_keys(filter["_id"]) if "_id" in filter else None
    if keys is None and isinstance(filter.get("$and"), list | tuple):
        return next((v for v in map(_id_values, filter["$and"]) if v is not None), None)
    if keys is None or any(key[0] not in ("s", "o") for key in keys):
        return None
    return [value for _, value in keys]


def _conditions(filter: Any) -> list[tuple[str, set]]:  # noqa: A002
    """(field, keys) for each condition a document must meet with one of the keys
    (litemongo's ``query_keys``: a value, ``$eq`` or ``$in``), at the top or in ``$and``."""
    if not isinstance(filter, dict):
        return []
    found = []
    for field, condition in filter.items():
        if field == "$and" and isinstance(condition, list | tuple):
            for part in condition:
                found += _conditions(part)
        elif not field.startswith("$"):
            keys = indexing.query_keys(condition)
            if keys is not None:
                found.append((field, keys))
    return found
