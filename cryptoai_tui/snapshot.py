"""Snapshot: everything a screen needs at one instant, published by the engine.

Immutable so the engine can hand the same object to the UI, the journal and scripts
without copying or locking; a screen renders the newest one it has.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.market.candle import Candle
from cryptoai_tui.strategies.confluence import Mode
from cryptoai_tui.strategies.signal import Action, ConfluenceResult, Signal


@dataclass(frozen=True, slots=True)
class StrategyRow:
    """One strategy's line in the table: its newest signal and when its action last changed."""

    name: str
    signal: Signal
    changed_at: int | None = None  # exchange time (ms) of the bar where the action last changed
    error: str | None = None
    elapsed_us: float = 0.0


@dataclass(frozen=True, slots=True)
class Metrics:
    """Engine and feed health. Latencies in microseconds; lag in milliseconds."""

    latency_p50_us: float | None = None
    latency_p99_us: float | None = None
    exchange_lag_ms: float | None = None  # None: the exchange clock is not real time
    messages_received: int = 0
    messages_processed: int = 0
    messages_coalesced: int = 0
    messages_malformed: int = 0
    reconnects: int = 0
    candles_backfilled: int = 0
    duplicates_dropped: int = 0
    strategy_errors: int = 0


@dataclass(frozen=True, slots=True)
class ConfirmedSignal:
    """A confluence verdict fixed at a candle's close; what the chart marks and the log lists."""

    open_time: int
    close: float
    confluence: ConfluenceResult
    # Each strategy's confirmed signal for the bar, so the journal and `signals` need not
    # re-run anything to say who voted what.
    rows: tuple[StrategyRow, ...] = ()
    #: True for a candle of the start-up history (or one a gap repair recovered): computed
    #: by the same code, but nobody could have acted on it when it closed.
    history: bool = False


@dataclass(frozen=True, slots=True)
class LastTrigger:
    """When a strategy last triggered on a closed candle: "BUY 3 candles ago".

    Counted in closed candles, not clock time, so a gap in the data cannot stretch it;
    `candles_ago` is 0 when the trigger was on the newest closed candle."""

    action: Action
    open_time: int
    candles_ago: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    exchange: str
    symbol: str
    interval: str
    mode: Mode  # a ConfluenceMode, or the ConfluenceRule for "at least k of N"
    state: ConnectionState
    state_message: str = ""
    retry_in: float | None = None
    #: the next attempt's time as epoch seconds (time.time()), so a screen counts down
    retry_at: float | None = None
    bootstrap_progress: int = 0
    bootstrap_total: int = 0
    price: float | None = None
    previous_price: float | None = None  # last price of the previous update
    candle_open: float | None = None
    candle_open_time: int | None = None
    candle_close_time: int | None = None
    exchange_time: int | None = None  # exchange clock at the latest message (ms)
    provisional: bool = True  # True: signals include the forming candle
    rows: tuple[StrategyRow, ...] = ()
    confluence: ConfluenceResult | None = None
    #: the verdict at the newest candle close (HOLD included)
    last_confirmed: ConfirmedSignal | None = None
    #: the newest confirmed BUY or SELL, and how many closed candles ago it was (0: newest)
    last_signal: ConfirmedSignal | None = None
    last_signal_ago: int | None = None
    #: per row (same order as `rows`): the strategy as chosen, parameters included
    #: ("rsi:period=10"), and its last confirmed trigger (None: not since the start)
    labels: tuple[str, ...] = ()
    last_triggers: tuple[LastTrigger | None, ...] = ()
    recent_candles: tuple[Candle, ...] = ()
    recent_signals: tuple[ConfirmedSignal, ...] = ()
    metrics: Metrics = field(default_factory=Metrics)
    sequence: int = 0  # increases with every publish; lets readers skip what they have drawn
