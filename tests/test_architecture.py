"""docs/architecture.md's module table matches the tree: a newcomer's map stays true."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "newscrawl"


def listed_modules() -> Counter[str]:
    """The module column of the table: each row's second cell, one module a row."""
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = page.split("## Modules", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\|[^|\n]*\| `([^`]+)` \|", table, flags=re.M)
    return Counter(rows)


def tree_modules() -> set[str]:
    """Every Python module of the package, as a path from ``newscrawl/``; a package's empty
    ``__init__.py`` is not a module of its own."""
    return {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if path.name != "__init__.py" or path.read_text(encoding="utf-8").strip()
    }


def test_every_module_is_listed_once_and_every_listed_module_exists() -> None:
    listed = listed_modules()
    assert [name for name, count in listed.items() if count > 1] == []
    assert sorted(tree_modules() - set(listed)) == []  # modules missing from the table
    assert sorted(set(listed) - tree_modules()) == []  # rows naming no module
