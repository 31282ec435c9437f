"""The user's config file: alert rules, favourites, the last choices, the theme.

One TOML file, `config.toml` in the user's config directory (platformdirs), or the path in
`CRYPTOAI_TUI_CONFIG` / `--config`. It may hold secrets (tokens inside notification URLs), so
it is created with mode 0600 and written atomically (a temporary file beside it, then
`os.replace`): a crash mid-write leaves the old file, never half a file.

Read with the standard library's tomllib, written with tomli-w. Nothing here is on the app's
start-up path unless the app asks for the config.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from cryptoai_tui.alerts.rules import (
    APP_CHANNELS,
    AlertRule,
    Frequency,
    RuleError,
    parse_app_notify,
    parse_condition,
    parse_frequency,
)

ENV_CONFIG = "CRYPTOAI_TUI_CONFIG"
ENV_DATA_DIR = "CRYPTOAI_TUI_DATA_DIR"
APP_NAME = "cryptoai-tui"


class ConfigError(ValueError):
    """The config file cannot be read or written; the message names the file and the fix."""


@dataclass(frozen=True, slots=True)
class LastChoices:
    """What the Lab had chosen when the app last left it; `--symbol` etc. still override."""

    exchange: str | None = None
    symbol: str | None = None
    interval: str | None = None
    strategies: str | None = None
    mode: str | None = None


@dataclass(frozen=True, slots=True)
class UserConfig:
    alerts: tuple[AlertRule, ...] = ()
    favourites: tuple[str, ...] = ()
    last: LastChoices = field(default_factory=LastChoices)
    theme: str | None = None

    def with_alert(self, rule: AlertRule) -> UserConfig:
        return replace(self, alerts=(*[r for r in self.alerts if r.id != rule.id], rule))

    def without_alert(self, rule_id: str) -> UserConfig:
        if all(rule.id != rule_id for rule in self.alerts):
            known = ", ".join(rule.id for rule in self.alerts) or "none"
            raise ConfigError(f"There is no alert {rule_id!r}; the alerts are: {known}.")
        return replace(self, alerts=tuple(r for r in self.alerts if r.id != rule_id))

    def next_alert_id(self) -> str:
        used = {rule.id for rule in self.alerts}
        n = 1
        while f"a{n}" in used:
            n += 1
        return f"a{n}"


def config_path(override: str | Path | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    if env := os.environ.get(ENV_CONFIG):
        return Path(env).expanduser()
    import platformdirs

    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def data_dir() -> Path:
    """Where the journal lives by default (`CRYPTOAI_TUI_DATA_DIR` overrides)."""
    if env := os.environ.get(ENV_DATA_DIR):
        return Path(env).expanduser()
    import platformdirs

    return platformdirs.user_data_path(APP_NAME)


def load_config(path: Path) -> UserConfig:
    """The config at `path` (an absent file is an empty config)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UserConfig()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"Cannot read the config file {path}: {error}.") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"The config file {path} is not valid TOML ({error}). Fix it or move it aside.") from None
    try:
        return _from_toml(raw)
    except (RuleError, KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"The config file {path} has a bad entry: {error}") from None


def save_config(path: Path, config: UserConfig) -> None:
    import tomli_w

    text = tomli_w.dumps(_to_toml(config))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as error:
        raise ConfigError(f"Cannot write the config file {path}: {error}.") from None


def _to_toml(config: UserConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if config.favourites:
        out["favourites"] = list(config.favourites)
    if config.theme:
        out["theme"] = config.theme
    last = {k: v for k, v in _asdict(config.last).items() if v is not None}
    if last:
        out["last"] = last
    if config.alerts:
        out["alerts"] = [_rule_to_toml(rule) for rule in config.alerts]
    return out


def _from_toml(raw: Mapping[str, Any]) -> UserConfig:
    last = raw.get("last", {})
    return UserConfig(
        alerts=tuple(_rule_from_toml(item) for item in raw.get("alerts", [])),
        favourites=tuple(str(s) for s in raw.get("favourites", [])),
        last=LastChoices(**{k: str(v) for k, v in last.items() if k in LastChoices.__slots__}),
        theme=str(raw["theme"]) if raw.get("theme") else None,
    )


def _rule_to_toml(rule: AlertRule) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": rule.id, "symbol": rule.symbol, "when": rule.condition.describe(),
        "notify": list(rule.notify), "frequency": rule.frequency.value,
        "cooldown_s": rule.cooldown_s, "rearm": rule.rearm, "in_app": rule.in_app,
        "app_notify": list(rule.app_notify),
    }
    if rule.interval:
        item["interval"] = rule.interval
    if rule.expires_at is not None:
        item["expires"] = datetime.fromtimestamp(rule.expires_at / 1000, tz=timezone.utc).isoformat()
    return item


def _rule_from_toml(item: Mapping[str, Any]) -> AlertRule:
    expires = item.get("expires")
    return AlertRule(
        id=str(item["id"]), symbol=str(item["symbol"]), condition=parse_condition(str(item["when"])),
        notify=tuple(str(u) for u in item.get("notify", [])), interval=item.get("interval"),
        frequency=parse_frequency(str(item.get("frequency", Frequency.PER_CANDLE.value))),
        cooldown_s=float(item.get("cooldown_s", 0.0)), rearm=float(item.get("rearm", 0.001)),
        expires_at=int(datetime.fromisoformat(str(expires)).timestamp() * 1000) if expires else None,
        in_app=bool(item.get("in_app", True)),
        app_notify=parse_app_notify(",".join(item["app_notify"]) or "none") if "app_notify" in item
        else APP_CHANNELS,
    )


def _asdict(last: LastChoices) -> dict[str, str | None]:
    return {name: getattr(last, name) for name in LastChoices.__slots__}


# --- the app's remembered session, favourites and theme ------------------------------------
def read_config_leniently(path: Path) -> tuple[UserConfig, str | None]:
    """The config at `path`, or the defaults and a one-sentence warning when it is unusable.

    The app must start whatever the file holds: a hand-edited typo costs the remembered
    choices for one run, never a traceback.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UserConfig(), None
    except (OSError, UnicodeDecodeError) as error:
        reason = f"cannot be read ({getattr(error, 'strerror', None) or error})"
    except tomllib.TOMLDecodeError as error:
        reason = f"is not valid TOML ({error})"
    else:
        try:
            return _from_toml(raw), None
        except (RuleError, KeyError, TypeError, ValueError) as error:
            reason = f"has a bad entry ({error})"
    reason = reason.replace(". ", "; ").replace(".)", ")")
    return UserConfig(), (
        f"The config file {path} {reason}, so this run uses the defaults and leaves the file untouched."
    )


class Settings:
    """The app's view of the config file: favourites, last choices and theme, saved as they change.

    Not a value but the one owner of the file for the app's lifetime (built by the CLI,
    handed to the app). Every change re-reads the file before writing it, so alert rules
    added meanwhile with `cryptoai-tui alert add` are kept. A file that could not be read
    at start is never overwritten: its remembered state stays in memory for this run.
    `path` None keeps everything in memory (tests, and apps built without a config).
    """

    def __init__(self, path: Path | None, config: UserConfig | None = None, *,
                 warning: str | None = None) -> None:
        self.path = path
        self.config = config if config is not None else UserConfig()
        self.warning = warning
        self.save_error: str | None = None  # the last failed write, said once by the app

    @classmethod
    def open(cls, path: Path | None) -> Settings:
        if path is None:
            return cls(None)
        config, warning = read_config_leniently(path)
        return cls(path, config, warning=warning)

    @property
    def writable(self) -> bool:
        return self.path is not None and self.warning is None

    @property
    def favourites(self) -> tuple[str, ...]:
        return self.config.favourites

    @property
    def theme(self) -> str | None:
        return self.config.theme

    @property
    def last(self) -> LastChoices:
        return self.config.last

    def toggle_favourite(self, symbol: str) -> bool:
        """Star or unstar `symbol`; returns whether it is a favourite now."""
        starred = symbol not in self.config.favourites
        self._change(lambda c: replace(c, favourites=(
            (*[s for s in c.favourites if s != symbol], symbol) if starred
            else tuple(s for s in c.favourites if s != symbol)
        )))
        return starred

    def remember(self, last: LastChoices) -> None:
        if last != self.config.last:
            self._change(lambda c: replace(c, last=last))

    def set_theme(self, theme: str) -> None:
        if theme != self.config.theme:
            self._change(lambda c: replace(c, theme=theme))

    def _change(self, change: Callable[[UserConfig], UserConfig]) -> None:
        self.config = change(self.config)
        if not self.writable:
            return
        assert self.path is not None
        try:
            fresh, problem = read_config_leniently(self.path)
            if problem is not None:  # broken since start (edited by hand): leave it alone
                self.save_error = problem
                return
            save_config(self.path, change(fresh))
            self.save_error = None
        except ConfigError as error:
            self.save_error = str(error)
