"""The data owner's configuration: read once per version of the file, with clear errors."""

import os

import pytest

from rcs_viz import config


def test_rules_come_from_the_file_and_an_edit_is_picked_up(tmp_path):
    path = tmp_path / "rcs_explorer.yaml"
    path.write_text("disclosure: {threshold: 12, min_base: 30}\n")
    assert config.load(path).rules.threshold == 12
    path.write_text("disclosure: {threshold: 15, min_base: 30}\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert config.load(path).rules.threshold == 15


@pytest.mark.parametrize("text,message", [
    ("nonsense: 1\n", "unknown setting"),
    ("- a list\n", "expected a mapping"),
    ("disclosure: {threshold: 0}\n", "threshold"),
    ("disclosure: [\n", "cannot read"),
])
def test_bad_configuration_names_the_file(tmp_path, text, message):
    path = tmp_path / "rcs_explorer.yaml"
    path.write_text(text)
    with pytest.raises(config.ConfigError, match=message) as err:
        config.load(path)
    assert str(path) in str(err.value)


def test_a_missing_file_is_a_configuration_error(tmp_path):
    with pytest.raises(config.ConfigError, match="cannot read"):
        config.load(tmp_path / "nope.yaml")
