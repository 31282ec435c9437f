"""What the user has chosen in the Lab, and the complete choice a live session runs on.

Kept free of Textual so the CLI can build an `AppConfig` and tests can reason about
choices without an app.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Iterable

from cryptoai_tui.engine.strategy_choice import StrategySpec
from cryptoai_tui.strategies.confluence import Mode
from cryptoai_tui.strategies.signal import ConfluenceMode

if TYPE_CHECKING:
    from cryptoai_tui.wiring import SimulatorSettings

DEFAULT_EXCHANGE = "binance"
DEFAULT_MODE = ConfluenceMode.MAJORITY


class LabStep(int, Enum):
    """The numbered steps of the Lab menu; the number is the key that opens the step."""

    ASSET = 1
    STRATEGIES = 2
    TIMEFRAME = 3
    MODE = 4
    EXCHANGE = 5
    START = 6
    BACKTEST = 7

    @property
    def title(self) -> str:
        return _STEP_TITLES[self]


_STEP_TITLES = {
    LabStep.ASSET: "Asset",
    LabStep.STRATEGIES: "Strategies",
    LabStep.TIMEFRAME: "Timeframe",
    LabStep.MODE: "Confluence mode",
    LabStep.EXCHANGE: "Exchange",
    LabStep.START: "Start real-time",
    LabStep.BACKTEST: "Backtest",
}

_MISSING_WORDS = {
    LabStep.ASSET: "an asset",
    LabStep.STRATEGIES: "at least one strategy",
    LabStep.TIMEFRAME: "a timeframe",
}


def strategy_specs(items: Iterable[StrategySpec | str]) -> tuple[StrategySpec, ...]:
    """The choice as typed specs; a plain registry name (`"rsi"`) stands for its defaults.

    Text with parameters is the command line's business (`commands/app.py` parses it
    through the registry); here it would be a string joined only to be split again.
    """
    specs: list[StrategySpec] = []
    for item in items:
        if isinstance(item, StrategySpec):
            specs.append(item)
        elif isinstance(item, str) and not any(mark in item for mark in ":=;,"):
            specs.append(StrategySpec(item.strip()))
        else:
            raise TypeError(
                f"Cannot use {item!r} as a chosen strategy: pass a StrategySpec(name, params) "
                "or a plain registry name."
            )
    return tuple(specs)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Which exchange to talk to, and where (URL overrides point at a testnet or a simulator)."""

    exchange: str
    ws_url: str | None = None
    rest_url: str | None = None


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A complete choice: everything an engine needs to start."""

    exchange: str
    symbol: str
    interval: str
    strategies: tuple[StrategySpec, ...]  # what the engine builds, parameters included
    mode: Mode  # a ConfluenceMode, or the ConfluenceRule for "at least k of N"
    ws_url: str | None = None
    rest_url: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "strategies", strategy_specs(self.strategies))

    @property
    def strategy_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.strategies)

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.exchange, self.ws_url, self.rest_url)


@dataclass(frozen=True, slots=True)
class LabChoices:
    """The Lab's current, possibly incomplete, choice. Mode and exchange always have a value."""

    exchange: str = DEFAULT_EXCHANGE
    symbol: str | None = None
    interval: str | None = None
    strategies: tuple[StrategySpec, ...] = ()
    mode: Mode = DEFAULT_MODE
    ws_url: str | None = None
    rest_url: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "strategies", strategy_specs(self.strategies))

    @property
    def strategy_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.strategies)

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.exchange, self.ws_url, self.rest_url)

    def missing(self) -> tuple[LabStep, ...]:
        """Steps that must be chosen before starting, in menu order."""
        steps: list[LabStep] = []
        if not self.symbol:
            steps.append(LabStep.ASSET)
        if not self.strategies:
            steps.append(LabStep.STRATEGIES)
        if not self.interval:
            steps.append(LabStep.TIMEFRAME)
        return tuple(steps)

    def missing_sentence(self) -> str | None:
        """A user-facing sentence naming what is still missing, or None when complete."""
        missing = self.missing()
        if not missing:
            return None
        words = [_MISSING_WORDS[step] for step in missing]
        listing = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
        return f"Choose {listing} before starting."

    def next_step(self) -> LabStep:
        """Where the menu cursor should rest: the first missing step, else Start."""
        missing = self.missing()
        return missing[0] if missing else LabStep.START

    def summary(self, exchange_title: str) -> str:
        """The session in one plain sentence, so a new user knows what Start will do."""
        count = len(self.strategies)
        if not count or not self.symbol or not self.interval:
            return "Choose the missing steps; the session is described here once it is complete."
        needed = {
            ConfluenceMode.ALL: "one triggers and none leans against it",
            ConfluenceMode.ANY: "one triggers and none triggers the other way",
            ConfluenceMode.MAJORITY: f"one triggers and at least {count // 2 + 1} of {count} lean its way",
        }.get(self.mode, f"one triggers and at least {self.mode.value} of {count} lean its way")
        noun = "strategy" if count == 1 else "strategies"
        return (
            f"Start runs {count} {noun} on every {self.interval} {self.symbol} update from "
            f"{exchange_title}; the verdict is BUY or SELL when {needed}."
        )

    def with_strategy_names(self, names: tuple[str, ...]) -> LabChoices:
        """Keep the parameters of strategies that stay chosen; new ones get defaults."""
        by_name = {spec.name: spec for spec in self.strategies}
        return replace(self, strategies=tuple(by_name.get(name) or StrategySpec(name) for name in names))

    def session(self) -> LiveSession:
        """The complete choice; raises ValueError with the missing-sentence when incomplete."""
        sentence = self.missing_sentence()
        if sentence is not None:
            raise ValueError(sentence)
        assert self.symbol is not None and self.interval is not None
        return LiveSession(
            exchange=self.exchange,
            symbol=self.symbol,
            interval=self.interval,
            strategies=self.strategies,
            mode=self.mode,
            ws_url=self.ws_url,
            rest_url=self.rest_url,
        )


#: how many of the most-traded symbols the Lab's Watchlist watches besides the chosen asset
WATCH_TOP = 20


@dataclass(frozen=True, slots=True)
class WatchChoice:
    """What a watchlist runs: the Lab's interval, strategies, mode and exchange over many
    symbols (`symbols`, then the `top` most-traded); Enter on a row opens `live_session`."""

    exchange: str
    interval: str
    strategies: tuple[StrategySpec, ...]
    mode: ConfluenceMode
    symbols: tuple[str, ...] = ()
    top: int | None = WATCH_TOP
    ws_url: str | None = None
    rest_url: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "strategies", strategy_specs(self.strategies))

    def live_session(self, symbol: str, mode: ConfluenceMode | None = None) -> LiveSession:
        """The live screen's session for one row, with the same choices."""
        return LiveSession(self.exchange, symbol, self.interval, self.strategies, mode or self.mode,
                           self.ws_url, self.rest_url)

    @classmethod
    def from_lab(cls, choices: LabChoices, top: int | None = WATCH_TOP) -> WatchChoice:
        """The Lab's choice as a watchlist; ValueError naming what is still missing."""
        missing = [words for step, words in _MISSING_WORDS.items()
                   if step in choices.missing() and step is not LabStep.ASSET]
        if missing:
            raise ValueError(f"Choose {' and '.join(missing)} before opening the watchlist.")
        assert choices.interval is not None
        return cls(choices.exchange, choices.interval, choices.strategies, choices.mode,
                   (choices.symbol,) if choices.symbol else (), top, choices.ws_url, choices.rest_url)


@dataclass(frozen=True, slots=True)
class AppConfig:
    """What the command line (or a test) asks the app to start with.

    `open_live` is derived, not stored: the live screen opens straight away only when the
    asset, timeframe, strategies and mode were all given.
    """

    exchange: str = DEFAULT_EXCHANGE
    symbol: str | None = None
    interval: str | None = None
    strategies: tuple[StrategySpec, ...] = ()
    mode: Mode | None = None
    ws_url: str | None = None
    rest_url: str | None = None
    frame_rate: float = 15.0  # live-screen renders per second at most
    start_live: bool = True  # False when choices were filled from the last run: the Lab shows them first
    #: the simulator to start whenever a session runs on "sim" (`--seed`, `--sim-speed`);
    #: None: the demo one (fixed seed, demo speed)
    simulator: SimulatorSettings | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "strategies", strategy_specs(self.strategies))

    @property
    def open_live(self) -> bool:
        return self.start_live and bool(self.symbol and self.interval and self.strategies and self.mode is not None)

    def initial_choices(self) -> LabChoices:
        return LabChoices(
            exchange=self.exchange,
            symbol=self.symbol,
            interval=self.interval,
            strategies=self.strategies,
            mode=self.mode or DEFAULT_MODE,
            ws_url=self.ws_url,
            rest_url=self.rest_url,
        )
