"""Settings agree with their documentation: every newscrawl setting is in the README's
configuration table, and every one can come from the environment by its own name."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

from newscrawl import settings as project_settings

ROOT = Path(__file__).resolve().parents[1]


def newscrawl_settings() -> dict[str, object]:
    return {
        name: value
        for name, value in vars(project_settings).items()
        if name.startswith(("MONGO_", "NEWSCRAWL_"))
    }


def documented_settings() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("| setting / env var |", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", table, flags=re.M))


def test_every_setting_is_documented_and_every_documented_setting_exists() -> None:
    assert documented_settings() == set(newscrawl_settings())


def _environment_value(default: object) -> tuple[str, object]:
    """A value to put in the environment and what the setting must then read as."""
    if isinstance(default, bool):
        return ("no", False) if default else ("yes", True)
    if isinstance(default, int | float):
        return "7", 7
    return "/from/the/environment", "/from/the/environment"


def test_every_setting_can_come_from_the_environment() -> None:
    expected, env = {}, {}
    for name, default in newscrawl_settings().items():
        env[name], expected[name] = _environment_value(default)
    script = (
        "import json, sys\n"
        "from scrapy.utils.project import get_project_settings\n"
        "s = get_project_settings()\n"
        "names = json.loads(sys.argv[1])\n"
        "out = {}\n"
        "for n, want in names.items():\n"
        "    if isinstance(want, bool): out[n] = s.getbool(n)\n"
        "    elif isinstance(want, int): out[n] = s.getint(n)\n"
        "    else: out[n] = s.get(n)\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(expected)],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    assert json.loads(result.stdout) == expected


def test_a_command_line_setting_wins_over_the_environment() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "settings", "--get", "NEWSCRAWL_RECHECK_LIMIT",
         "-s", "NEWSCRAWL_RECHECK_LIMIT=3"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "NEWSCRAWL_RECHECK_LIMIT": "9"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert result.stdout.strip() == "3"


def _defaults_in_code() -> list[tuple[str, str, object]]:
    """``(where, setting, default)`` for each default a module of newscrawl/ writes beside a
    read of a newscrawl setting: ``settings.getX("NAME", default)`` and
    ``settings.get("NAME") or default``, evaluated in the module (``cls`` is the class the
    read is in)."""
    found = []
    for path in sorted((ROOT / "newscrawl").rglob("*.py")):
        # extract/warm.py is the fork server's warm-up: importing it runs an extraction
        if path.name not in ("settings.py", "warm.py"):
            dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            module = importlib.import_module(dotted.removesuffix(".__init__"))
            tree = ast.parse(path.read_text(encoding="utf-8"))
            found += [(f"{path.name}:{line}", name, value)
                      for line, name, value in _defaults_read(tree, vars(module))]  # fmt: skip
    return found


def _defaults_read(
    node: ast.AST, names: dict[str, object], klass: object = None
) -> list[tuple[int, str, object]]:
    found = []
    for child in ast.iter_child_nodes(node):
        inner = names.get(child.name) if isinstance(child, ast.ClassDef) else klass
        read = _setting_read(child)
        if read is not None:
            value = eval(ast.unparse(read[1]), {**names, "cls": inner})  # noqa: S307
            found.append((getattr(child, "lineno", 0), read[0], value))
        found += _defaults_read(child, names, inner)
    return found


def _setting_read(node: ast.AST) -> tuple[str, ast.expr] | None:
    def named(call: ast.AST) -> str | None:
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            return None
        if not (call.func.attr.startswith("get") and call.args):
            return None
        first = call.args[0]
        is_name = isinstance(first, ast.Constant) and isinstance(first.value, str)
        return first.value if is_name and first.value.startswith(("MONGO_", "NEWSCRAWL_")) else None

    if isinstance(node, ast.Call) and len(node.args) == 2 and (name := named(node)):
        return name, node.args[1]
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        name, default = named(node.values[0]), node.values[1]
        if name and isinstance(default, ast.Constant):  # not ``or <another setting>``
            return name, default
    return None


def test_defaults_written_beside_a_read_equal_the_settings_defaults() -> None:
    """A module may repeat a setting's default (for components built from bare settings), but
    ``newscrawl/settings.py`` is the one that counts: a repeated default must equal it."""
    defaults = newscrawl_settings()
    found = _defaults_in_code()
    assert len(found) > 20  # the scan sees the reads
    differing = [
        (where, name, value, defaults[name])
        for where, name, value in found
        if value not in ("", None) and value != defaults[name]
    ]
    assert not differing
