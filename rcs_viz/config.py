"""The data owner's configuration: which data to open and which rules protect it.

Disclosure settings live here (a file the data owner controls, or CLI flags),
never in a widget a viewer can touch. With no file the app opens the bundled
synthetic sample under the default rules.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from rcs_viz.engine.disclosure.gate import Rules

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = PROJECT_ROOT / "data_samples"
ENV_VAR = "RCS_EXPLORER_CONFIG"
DEFAULT_FILE = "rcs_explorer.yaml"
# The bundled synthetic sample's salt: published, since there is nothing real to protect, and fixed so that
# a link to the sample shows the same figures on every machine (demos, tests, the README's numbers).
SAMPLE_SALT = "synthetic-sample"
SALT_FILE = "record_key.salt"


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class Config:
    data: Path = SAMPLE_DIR / "respondents.parquet"
    dictionary: Path | None = SAMPLE_DIR / "dictionary.yaml"
    services: Path | None = SAMPLE_DIR / "services.csv"
    comparators: Path | None = SAMPLE_DIR / "comparators.csv"
    rules: Rules = field(default_factory=Rules)
    cache_dir: Path = PROJECT_ROOT / ".cache" / "db"
    record_key_salt: str | None = field(default=None, repr=False)  # None: generated (see `salt`)
    store: str | None = field(default=None, repr=False)  # a database URL, which may hold a password
    source: str = "built-in defaults (synthetic sample)"

    def salt(self, data: Path | None = None) -> str:
        """The secret mixed into the perturbation keys of `data`'s records (the configured data if None); never empty.

        Configured, it is used as given. Otherwise the bundled sample uses its
        published salt, and any other data a salt generated on first use and
        kept in `record_key.salt` beside the data cache (readable by the owner
        only), so every server process sharing the cache uses the same one.
        Changing it changes every perturbed figure: an attacker holding the
        same table under two salts has two independent draws to average.
        """
        if self.record_key_salt is not None:
            return self.record_key_salt
        if Path(data or self.data).resolve() == Config.data.resolve():
            return SAMPLE_SALT
        return _generated_salt(self.cache_dir.parent / SALT_FILE)

    @property
    def store_path(self) -> Path:
        """The server store's SQLite file when no ``store`` URL is configured: beside the data cache."""
        return self.cache_dir.parent / "store.sqlite"


KEYS = {"data", "dictionary", "services", "comparators", "disclosure", "cache_dir", "record_key_salt", "store"}


def load(path: str | Path | None = None) -> Config:
    """Read the configuration named by the argument, $RCS_EXPLORER_CONFIG, or ./rcs_explorer.yaml."""
    if path is None:
        path = os.environ.get(ENV_VAR) or (DEFAULT_FILE if Path(DEFAULT_FILE).exists() else None)
    if path is None:
        return Config()
    path = Path(path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc})") from None
    return _read(path, stamp)


@lru_cache(maxsize=8)
def _read(path: Path, stamp: int) -> Config:
    """Parse a configuration file once per version of it (every page run asks for it)."""
    try:
        mapping = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc})") from None
    if not isinstance(mapping, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    unknown = sorted(set(mapping) - KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(KEYS))}")
    base = path.parent

    def resolve(key: str, default: Path | None) -> Path | None:
        if key not in mapping:
            return default
        return None if mapping[key] is None else (base / str(mapping[key])).resolve()

    try:
        rules = Rules.from_mapping(mapping.get("disclosure") or {})
    except ValueError as exc:
        raise ConfigError(f"{path}: disclosure: {exc}") from None
    store = mapping.get("store")
    if store is not None and not (isinstance(store, str) and store.strip()):
        raise ConfigError(f"{path}: store: expected a database URL, e.g. postgresql://rcs@dbhost/rcs")
    data = resolve("data", Config.data)
    same_sample = data == Config.data
    return Config(
        data=data,
        dictionary=resolve("dictionary", Config.dictionary if same_sample else None),
        services=resolve("services", Config.services if same_sample else None),
        comparators=resolve("comparators", Config.comparators if same_sample else None),
        rules=rules,
        cache_dir=resolve("cache_dir", Config.cache_dir),
        record_key_salt=_salt_setting(path, mapping),
        store=store,
        source=str(path),
    )


def _salt_setting(path: Path, mapping: dict) -> str | None:
    if "record_key_salt" not in mapping or mapping["record_key_salt"] is None:
        return None
    salt = str(mapping["record_key_salt"])
    if not salt.strip():
        raise ConfigError(f"{path}: record_key_salt is empty; leave it out to have a secret one generated and kept "
                          "beside the data cache, or set a long random text")
    return salt


def _generated_salt(path: Path) -> str:
    """Read the generated salt, making it first if there is none; processes racing to make it agree on one."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)  # atomic: whole file or nothing, and only the first process's
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text(encoding="utf-8").strip() or _raise_empty(path)


def _raise_empty(path: Path) -> str:
    raise ConfigError(f"{path}: the record-key salt file is empty; restore it from a backup (a new salt changes "
                      "every perturbed figure already published)")
