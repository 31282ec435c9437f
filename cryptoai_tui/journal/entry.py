"""What the journal stores about one confirmed signal, as a plain value.

The journal knows nothing of the engine's types: a front end turns a confirmed signal into a
`JournalEntry` (see `recorder.py`), so the store can be read and tested without running
anything, and a later change to the engine's snapshot does not change the file format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

#: candles after a signal at which the journal grades it (return since the signal's close)
GRADE_HORIZONS: tuple[int, ...] = (1, 5, 20)


@dataclass(frozen=True, slots=True)
class StrategyVerdict:
    """One strategy's part in a confirmed signal: its trigger, stance and key values."""

    trigger: str  # BUY / SELL / HOLD / WARMUP / ERROR
    stance: str  # bullish / bearish / neutral
    confidence: float = 0.0
    values: Mapping[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "stance": self.stance,
            "confidence": self.confidence,
            "values": dict(self.values),
        }


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A confirmed confluence signal (BUY or SELL) of one session on one candle.

    (exchange, symbol, interval, open_time, mode, strategy_set) identifies it: the same candle
    confirmed again by a restart that replays history is the same entry and is stored once,
    while another choice of strategies or mode on that candle is a different entry.
    """

    exchange: str
    symbol: str
    interval: str
    open_time: int  # candle open time, ms UTC
    close: float
    mode: str  # "majority", "all", "any", "3 of 11" ...
    action: str  # BUY / SELL
    confidence: float
    reason: str
    triggered_by: tuple[str, ...]
    confirmed_by: tuple[str, ...]
    opposed_by: tuple[str, ...]
    strategies: Mapping[str, StrategyVerdict]
    history: bool  # True: confirmed while replaying the start-up history, not live
    session_id: str
    app_version: str

    @property
    def strategy_set(self) -> str:
        """The chosen strategies in a stable spelling, part of the entry's identity."""
        return ",".join(sorted(self.strategies))


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """A journal row as read back: the entry, its row id, when it was written, its grades."""

    id: int
    entry: JournalEntry
    recorded_at: int  # ms UTC
    returns: Mapping[int, float | None]  # horizon (candles) -> return since the close



@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One line of the alert delivery ledger, as the journal stores it (targets already masked).

    The journal keeps the ledger beside the signals so the Alerts screen and a later session
    see what was sent, retried or dropped, and why; it never holds a secret: the alerts side
    masks the target before the record is made.
    """

    at_ms: int
    target: str  # masked
    rule_ids: tuple[str, ...]
    state: str  # "sent" | "retried" | "dropped"
    attempt: int
    alerts: int
    status: int | None = None
    error: str = ""
