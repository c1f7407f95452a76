"""Settings agree with their documentation: every newscrawl setting is in the README's
configuration table, and every one can come from the environment by its own name."""

from __future__ import annotations

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
