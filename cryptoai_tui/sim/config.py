"""Everything that shapes one simulated exchange, as one frozen value.

Defaults are the real exchanges' documented behaviour (exchanges.md §0) at real speed;
tests shrink the timings (ping periods, idle cuts, lifetimes) so they run in moments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptoai_tui.sim.faults import FaultConfig


class SimConfigError(ValueError):
    """A simulator setting that cannot work; the message says which and what to use."""


@dataclass(frozen=True, slots=True)
class SimConfig:
    host: str = "127.0.0.1"
    #: 0 picks a free port (tests, `--exchange sim`)
    port: int = 0
    seed: int = 7
    #: exchange time runs this many times faster than real time
    speed: float = 1.0
    #: exchange time at start-up in epoch ms; None = now (or, with a replay, just after
    #: the replayed history)
    start_ms: int | None = None
    #: symbols to list; empty = the default familiar pairs
    symbols: tuple[str, ...] = ()
    #: CSV files of real candles to replay (their symbols replace the simulated ones)
    replay: tuple[Path, ...] = ()
    #: with a replay and no start_ms: how many replayed candles are history at start-up
    replay_history: int = 1000
    faults: FaultConfig = field(default_factory=FaultConfig)
    #: real seconds between forming updates of one stream (Binance: 2 s); None = 2 s,
    #: shortened at high speed so a candle still gets about four updates
    push_interval_s: float | None = None
    #: floor of the automatic push interval, so high speeds cannot turn it into a flood
    min_push_interval_s: float = 0.05
    #: send forming updates of every stream as fast as the connection takes them
    #: (benchmarks); finals still go out exactly once per candle
    flood: bool = False
    #: Binance server ping frames: period and how long a pong may take before the cut
    ping_interval_s: float = 20.0
    pong_timeout_s: float = 60.0
    #: Bybit: cut a connection whose client sent nothing (not even a ping) for this long
    idle_timeout_s: float = 600.0
    #: Binance: incoming messages per second per connection before a 1008 close
    max_incoming_per_s: float | None = 5.0
    max_streams_per_connection: int = 1024
    #: Binance: forced disconnect after this many real seconds (24 h, as the real one);
    #: None = never. Bybit documents no such limit, so its connections live on.
    max_lifetime_s: float | None = 24 * 3600.0
    #: Binance: send `serverShutdown` this many real seconds before a planned close
    shutdown_notice_s: float | None = 1.0

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise SimConfigError(f"The simulator's speed must be above 0, got {self.speed!r}; use 1 for real time.")
        if not 0 <= self.port <= 65535:
            raise SimConfigError(f"Port {self.port} is not a TCP port; use 1-65535, or 0 for a free one.")
        for name in ("ping_interval_s", "pong_timeout_s", "idle_timeout_s", "min_push_interval_s"):
            if not getattr(self, name) > 0:
                raise SimConfigError(f"{name} must be above 0 seconds, got {getattr(self, name)!r}.")
        if self.push_interval_s is not None and not self.push_interval_s > 0:
            raise SimConfigError(f"push_interval_s must be above 0 seconds, got {self.push_interval_s!r}.")
        if self.max_lifetime_s is not None and not self.max_lifetime_s > 0:
            raise SimConfigError(f"max_lifetime_s must be above 0 seconds, got {self.max_lifetime_s!r}.")
        if self.replay_history < 0:
            raise SimConfigError(f"replay_history cannot be negative, got {self.replay_history}.")
