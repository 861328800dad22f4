"""The data owner's configuration: read once per version of the file, with clear errors."""

import os

import pytest

from processes import race  # tests/unit is on sys.path, and so in spawned workers
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


def _own_data(tmp_path, extra: str = "") -> config.Config:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "rcs_explorer.yaml"
    path.write_text(f"data: own.csv\ncache_dir: cache/db\n{extra}")
    return config.load(path)


def test_own_data_gets_a_secret_salt_made_once_and_kept_beside_the_cache(tmp_path):
    cfg = _own_data(tmp_path)
    salt = cfg.salt()
    kept = tmp_path / "cache" / config.SALT_FILE
    assert len(salt) == 64 and kept.read_text().strip() == salt
    assert kept.stat().st_mode & 0o077 == 0, "only the data owner may read the salt"
    assert cfg.salt() == salt and _own_data(tmp_path).salt() == salt, "the same salt on every load"
    assert _own_data(tmp_path / "other").salt() != salt, "another cache, another secret"


def _make_salt(barrier, path: str) -> str:
    barrier.wait()
    return config._generated_salt(config.Path(path))


def test_processes_racing_to_make_the_salt_agree_on_one(tmp_path):
    salts = set(race(_make_salt, str(tmp_path / "cache" / config.SALT_FILE)))
    assert len(salts) == 1 and len(next(iter(salts))) == 64


def test_a_configured_salt_is_used_and_an_empty_one_is_refused(tmp_path):
    assert _own_data(tmp_path, "record_key_salt: long-random-text\n").salt() == "long-random-text"
    with pytest.raises(config.ConfigError, match="record_key_salt is empty"):
        _own_data(tmp_path, 'record_key_salt: ""\n')


def test_the_sample_has_its_published_salt_and_no_salt_is_ever_empty(tmp_path):
    assert config.Config().salt() == config.SAMPLE_SALT != ""
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / config.SALT_FILE).write_text("\n")
    with pytest.raises(config.ConfigError, match="salt file is empty"):
        _own_data(tmp_path).salt()


def test_a_file_opened_beside_the_sample_gets_the_secret_salt_not_the_published_one(tmp_path):
    cfg = config.Config(cache_dir=tmp_path / "cache" / "db")
    assert cfg.salt() == config.SAMPLE_SALT
    assert cfg.salt(tmp_path / "upload.sav") not in ("", config.SAMPLE_SALT)
