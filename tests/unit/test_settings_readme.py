"""Every setting is documented in the README's Configuration table, and the table lists settings only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from journeymap.config import ENVIRONMENT, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def configuration_variables(text: str) -> list[str]:
    """The first column of the table under the README's ``## Configuration`` heading."""
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z0-9_]+)` \|", section, flags=re.MULTILINE)


def test_the_readme_table_lists_exactly_the_settings() -> None:
    documented = configuration_variables(README.read_text(encoding="utf-8"))
    assert sorted(documented) == sorted(ENVIRONMENT.values())
    assert len(documented) == len(set(documented))


def test_the_check_fails_when_a_setting_is_missing_or_unknown() -> None:
    text = README.read_text(encoding="utf-8")
    without = text.replace("| `BROWSER_PATH` |", "| BROWSER_PATH |")
    assert "BROWSER_PATH" not in configuration_variables(without)
    assert sorted(configuration_variables(without)) != sorted(ENVIRONMENT.values())
    extra = text.replace("| `DATABASE_URL` |", "| `JOURNEYMAP_SECRET` | — | x |\n| `DATABASE_URL` |")
    assert "JOURNEYMAP_SECRET" in configuration_variables(extra)
    assert sorted(configuration_variables(extra)) != sorted(ENVIRONMENT.values())


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, ("", "journeymap.db", "datasets", "")),
        (
            {"JOURNEYMAP_DB": "/srv/jm/app.db", "BROWSER_PATH": " /opt/chrome "},
            ("", "/srv/jm/app.db", "/srv/jm/datasets", "/opt/chrome"),
        ),
        (
            {"DATABASE_URL": "postgresql://ana@db/jm", "JOURNEYMAP_DATA_DIR": "/data/jm"},
            ("postgresql+psycopg://ana@db/jm", "journeymap.db", "/data/jm", ""),
        ),
    ],
)
def test_each_setting_is_read_from_its_variable(environ: dict[str, str], expected: tuple[str, str, str, str]) -> None:
    s = Settings.from_env(environ)
    url, sqlite, data_dir, browser = expected
    assert s.database_url == url
    assert s.sqlite_path.as_posix().endswith(sqlite)
    assert s.data_dir.as_posix().endswith(data_dir)
    assert s.data_roots == (s.data_dir,)
    assert s.browser_path == browser


def test_data_roots_are_separated_like_path() -> None:
    s = Settings.from_env({"JOURNEYMAP_DATA_ROOTS": "/a:/b/c:"})
    assert [p.as_posix() for p in s.data_roots] == ["/a", "/b/c"]
