"""Settings from [tool.auditor] / auditor.toml: read, merged, and unknown keys refused."""

from __future__ import annotations

import pytest

from auditor.config import find_config, load_config
from auditor.errors import UsageError


def test_pyproject_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname="x"\n[tool.auditor]\nselect=["P","D"]\nfail-on="warning"\nyear=2021\n',
                                             encoding="utf-8")
    config = load_config(find_config(tmp_path))
    assert config.select == ("P", "D") and config.fail_on == "warning" and config.year == 2021


def test_auditor_toml_wins_and_rules_are_relative_to_it(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.auditor]\nselect=['P']\n", encoding="utf-8")
    (tmp_path / "auditor.toml").write_text("rules='my_rules'\nignore='T'\n", encoding="utf-8")
    config = load_config(find_config(tmp_path))
    assert config.ignore == ("T",) and config.rules == (str(tmp_path / "my_rules"),)


def test_pyproject_without_table_is_skipped(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n", encoding="utf-8")
    assert find_config(tmp_path) in (None,) or find_config(tmp_path).parent != tmp_path


@pytest.mark.parametrize("body, word", [
    ("selct=['P']\n", "unknown key 'selct'"),
    ("fail-on='sometimes'\n", "fail-on"),
    ("lang='fr'\n", "lang"),
    ("select=[1, 2]\n", "select"),
    ("select=[\n", "invalid TOML"),
])
def test_bad_config_is_one_clear_error(tmp_path, body, word):
    path = tmp_path / "auditor.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(UsageError) as info:
        load_config(path)
    assert word in info.value.message and info.value.path == str(path)
