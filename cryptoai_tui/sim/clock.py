"""The simulated exchange's clock: exchange time that runs `speed` times faster than ours.

Every timestamp the simulator puts on the wire (`E`, `ts`, `/time`) and every "is this
candle closed yet" decision reads this clock, never the wall clock, so a client that trusts
the exchange's time (as it must with a real one) stays consistent at any speed.
"""

from __future__ import annotations

import time
from typing import Callable


class SimClock:
    """Exchange time in epoch ms = `start_ms` + real seconds elapsed x `speed` x 1000.

    `monotonic` is injectable so unit tests can drive time by hand.
    """

    def __init__(
        self,
        start_ms: int | None = None,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"The simulator's speed must be above 0, got {speed!r}; use 1 for real time.")
        self._monotonic = monotonic
        self._speed = float(speed)
        self._origin_real = monotonic()
        self._origin_ms = float(start_ms if start_ms is not None else time.time() * 1000)

    @property
    def speed(self) -> float:
        return self._speed

    def now_ms(self) -> int:
        return int(self._origin_ms + (self._monotonic() - self._origin_real) * self._speed * 1000)

    def real_seconds_until(self, sim_ms: int | float) -> float:
        """Real seconds until the exchange clock reads `sim_ms` (negative if already past)."""
        elapsed_ms = sim_ms - (self._origin_ms + (self._monotonic() - self._origin_real) * self._speed * 1000)
        return elapsed_ms / (self._speed * 1000)
