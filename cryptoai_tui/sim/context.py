"""What the simulator's server and its sessions share: the context every session reads and
the counters every session writes.

It lives apart from `server.py` and `sessions.py` so neither imports the other for it (the
sessions used to import `SimContext` from the server, which imports the sessions).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from cryptoai_tui.sim.clock import SimClock
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.faults import FaultConfig
from cryptoai_tui.sim.market import MarketModel


@dataclass
class SessionCounters:
    """Shared by all sessions of one server (single event loop: no locking needed)."""

    opened: int = 0
    kline_messages: int = 0
    finals: int = 0
    forming: int = 0
    malformed: int = 0
    duplicates: int = 0
    reordered: int = 0
    finals_skipped: int = 0
    drops: int = 0
    stalls: int = 0
    pings: int = 0
    pong_timeouts: int = 0
    rate_limit_closes: int = 0
    idle_closes: int = 0
    lifetime_closes: int = 0
    #: connections the client ended with a close frame (a clean exit), not a dropped socket
    client_close_frames: int = 0


@dataclass(frozen=True, slots=True)
class SimStats:
    """What the simulator has done so far: lets a test prove a fault really happened."""

    connections_opened: int
    connections_active: int
    kline_messages: int
    finals: int
    forming: int
    malformed: int
    duplicates: int
    reordered: int
    finals_skipped: int
    drops: int
    stalls: int
    restarts: int
    pings: int
    pong_timeouts: int
    rate_limit_closes: int
    idle_closes: int
    lifetime_closes: int
    rest_requests: int
    rest_rate_limited: int
    rest_banned: int
    rest_unavailable: int
    client_close_frames: int = 0


class SimContext:
    """What every session reads: the market, the clock, the config and the live faults."""

    def __init__(self, config: SimConfig, market: MarketModel, clock: SimClock) -> None:
        self.config = config
        self.market = market
        self.clock = clock
        self.faults = config.faults
        self.faults_set_at = -1e18
        self.faults_changed = asyncio.Event()
        self.counters = SessionCounters()

    def set_faults(self, faults: FaultConfig, now_real: float) -> None:
        self.faults = faults
        self.faults_set_at = now_real
        changed, self.faults_changed = self.faults_changed, asyncio.Event()
        changed.set()
