"""StrategyRunner: a series view and the chosen strategies -> per-strategy rows + confluence.

The one evaluation path. The live engine, `signals --replay` (the same engine over a CSV
source) and `engine.history.evaluate_history` (what backtests call) all evaluate through
it, so a confirmed signal computed live equals the one a backtest computes on the same
candles, isolation and budget included.

How "concurrently" the strategies run: sequentially, in the caller's thread, each timed and
isolated by its own try/except. A strategy costs ~10 µs; handing it to a thread or a
process costs 50-100 µs of scheduling and locking each way, and TA-Lib and pure Python
hold the GIL anyway, so threads would make every update slower without running anything
in parallel. Isolation is about failure, not parallelism: a strategy that raises, returns
something that is not a Signal, or takes longer than its budget is shown as ERROR for that
update and the others' results stand. Python cannot pre-empt a strategy mid-call; one that
hangs forever would hang the loop, which is why strategies are plain numeric code with a
budget that is enforced by reporting, not by killing.

The runner never holds an event loop for long by itself: `steps()` is a generator that
yields whenever the current slice has used more than `slice_ms` (between strategies), so
the live engine can `await asyncio.sleep(0)` there and keys and frames keep flowing while a
bootstrap of hundreds of candles is evaluated. A synchronous caller (history) just runs
the generator to its end (`evaluate`).

An overrun is judged by CPU time, not wall time alone: on a busy machine the OS may park
the process for tens of milliseconds in the middle of a 10 µs strategy, and a wall clock
would then brand a healthy strategy as overrunning (and turn a confirmed signal into an
ERROR no backtest would show). Reading the thread's CPU clock costs a system call, so
strategies are timed with the cheap wall clock and the CPU clock is read once per slice,
then again only when a wall time is over budget: the CPU used since the slice began
exceeds the strategy's own by at most `slice_ms`. The garbage collector's CPU time in that
span is not the strategy's either (a full collection costs 50-150 ms and runs wherever an
allocation trips it), so it is subtracted (see collector_time.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Generator, Mapping

from cryptoai_tui.engine.collector_time import CollectorTime
from cryptoai_tui.engine.strategy_choice import StrategyChoice, resolve_strategies, row_names
from cryptoai_tui.frozen import keyword_constructor
from cryptoai_tui.market.series import OHLCV
from cryptoai_tui.snapshot import StrategyRow
from cryptoai_tui.strategies.base import Strategy
from cryptoai_tui.strategies.confluence import Mode, parse_mode
from cryptoai_tui.strategies.smc.incremental import IncrementalStrategy
from cryptoai_tui.strategies.smc.structure import PivotTracker
from cryptoai_tui.strategies.signal import Action, ConfluenceMode, ConfluenceRule, ConfluenceResult, Signal, Stance

Combiner = Callable[[Mapping[str, Signal], Mode], ConfluenceResult]
Clock = Callable[[], int]  # nanoseconds


@dataclass(frozen=True, slots=True)
class EngineTiming:
    """How long strategies may take, how long evaluation may hold the event loop, how much
    local time the exchange-clock check needs before it trusts (or rejects) lag, and the
    clocks that measure it (injectable so budget tests need no real waiting)."""

    strategy_budget_ms: float = 50.0
    slice_ms: float = 5.0
    lag_check_span_ms: float = 5_000.0
    timer: Clock = time.perf_counter_ns
    cpu_timer: Clock = time.thread_time_ns

    def __post_init__(self) -> None:
        if self.strategy_budget_ms <= 0 or self.slice_ms <= 0:
            raise ValueError("The strategy budget and the loop slice must be positive milliseconds.")


class StrategyRunner:
    """Runs the chosen strategies on one view, isolated and timed, and combines their votes.

    Holds what must persist between updates: each strategy's last action and the bar where
    it changed, the current rows and confluence, the error count. `collector` must be
    `install`ed by the thread that evaluates (the `collecting()` context does both).
    """

    def __init__(
        self,
        strategies: StrategyChoice,
        mode: Mode | str = ConfluenceMode.MAJORITY,
        *,
        timing: EngineTiming = EngineTiming(),
        combine: Combiner | None = None,
    ) -> None:
        self.strategies: tuple[Strategy, ...] = resolve_strategies(strategies)
        # One pivot tracker per (left, right) for the SMC patterns of this series: the
        # closed bars a pivot test reads are scanned once a bar, not once per pattern.
        self._pivots: dict[tuple[int, int], PivotTracker] = {}
        for strategy in self.strategies:
            if isinstance(strategy, IncrementalStrategy):
                strategy.share(self._pivots)
        self.names: tuple[str, ...] = row_names(self.strategies)
        self._named = tuple(zip(self.names, self.strategies))
        self._mode = self._checked(mode)
        if combine is None:
            from cryptoai_tui.strategies.confluence import confluence

            combine = confluence
        self._combine: Combiner = combine
        self._budget_ns = int(timing.strategy_budget_ms * 1_000_000)
        self._budget_ms = timing.strategy_budget_ms
        self._slice_ns = int(timing.slice_ms * 1_000_000)
        self._timer = timing.timer
        self._cpu_timer = timing.cpu_timer
        self.collector = CollectorTime(timing.cpu_timer)
        self._slice_start = self._timer()
        self.errors = 0
        self.rows: tuple[StrategyRow, ...] = ()
        self.confluence: ConfluenceResult | None = None
        self._last_actions: list[Action | None] = []
        self._changed_at: list[int | None] = []
        # (mode, [action, confidence, stance] of every row, flattened) at the last combine
        self._last_votes: tuple[Mode, list[object]] | None = None
        self.reset()

    @property
    def mode(self) -> Mode:
        """The ConfluenceMode, or the ConfluenceRule for "at least k of N"."""
        return self._mode

    def _checked(self, mode: Mode | str) -> Mode:
        """`mode` parsed, and refused when it is a count the chosen strategies cannot meet
        (`--mode 12` with 11 strategies would say HOLD forever)."""
        parsed = parse_mode(mode)
        ConfluenceRule.of(parsed).check(len(self.strategies))
        return parsed

    def reset(self) -> None:
        """Back to before the first update: strategies reset, rows in warm-up, no verdict."""
        for tracker in self._pivots.values():
            tracker.clear()
        for strategy in self.strategies:
            strategy.reset()
        self.rows = tuple(
            StrategyRow(name, Signal.warmup(0, strategy.lookback)) for name, strategy in self._named
        )
        self.confluence = None
        self._last_actions = [None] * len(self.strategies)
        self._changed_at = [None] * len(self.strategies)
        self._last_votes = None
        self.errors = 0

    def set_mode(self, mode: Mode | str) -> ConfluenceResult | None:
        """Switch the mode and recombine the current rows (None before the first update)."""
        self._mode = self._checked(mode)
        if self.confluence is not None:
            self.confluence = self._combine({row.name: row.signal for row in self.rows}, self._mode)
            self._last_votes = None
        return self.confluence

    def begin_slice(self) -> None:
        """The event loop just had a turn: the next yield is due `slice_ms` from now."""
        self._slice_start = self._timer()

    def evaluate(self, view: OHLCV, *, confirmed: bool, bar_open_time: int) -> ConfluenceResult:
        """`steps` run to the end, for callers with no event loop to yield to."""
        for _ in self.steps(view, confirmed=confirmed, bar_open_time=bar_open_time):
            pass
        assert self.confluence is not None
        return self.confluence

    def steps(self, view: OHLCV, *, confirmed: bool, bar_open_time: int) -> Generator[None, None, None]:
        """Evaluate every strategy on `view`; yields when the slice is used up (see module doc).

        This is the hot path (once per update): locals instead of attribute lookups, one
        timer read per strategy boundary, and confluence recomputed only when some verdict
        changed, since on most ticks every strategy repeats itself.
        """
        timer = self._timer
        cpu_timer = self._cpu_timer
        collector = self.collector
        cpu_at_slice = cpu_timer() - collector.total_ns
        budget = self._budget_ns
        slice_ns = self._slice_ns
        slice_start = self._slice_start
        last_actions = self._last_actions
        changed_at = self._changed_at
        make_row = _make_row
        rows: list[StrategyRow] = []
        votes: list[object] = []
        vote = votes.append
        index = 0
        for name, strategy in self._named:
            error: str | None = None
            started = timer()
            try:
                signal = strategy.evaluate(view, confirmed=confirmed)
            except Exception as exc:  # isolation: one strategy's bug must not stop the others
                error = f"{name} failed: {type(exc).__name__}: {exc}"
            ended = timer()
            elapsed = ended - started
            if error is None:
                if type(signal) is not Signal and not isinstance(signal, Signal):
                    error = f"{name} returned {type(signal).__name__} instead of a Signal."
                elif elapsed > budget and cpu_timer() - collector.total_ns - cpu_at_slice > budget:
                    error = (
                        f"{name} took {elapsed / 1e6:.1f} ms, over its {self._budget_ms:g} ms budget; "
                        "its signal for this update was dropped."
                    )
            if error is not None:
                signal = Signal.error(error)
                self.errors += 1
            action = signal.action
            if action is not last_actions[index]:
                last_actions[index] = action
                changed_at[index] = bar_open_time
            rows.append(make_row(name=name, signal=signal, changed_at=changed_at[index], error=error,
                                 elapsed_us=elapsed / 1000.0))
            vote(action)
            vote(signal.confidence)
            vote(signal.stance)
            index += 1
            if ended - slice_start > slice_ns:
                yield
                slice_start = timer()
                cpu_at_slice = cpu_timer() - collector.total_ns
        self._slice_start = slice_start
        self.rows = tuple(rows)
        self.confluence = self._combined(votes)

    def _combined(self, votes: list[object]) -> ConfluenceResult:
        """Confluence of the current rows, reusing the last result when no vote changed.

        Confluence reads only each strategy's trigger (action), confidence and stance
        (docs/strategies.md), so equal votes under the same mode give an equal result.
        """
        key = (self._mode, votes)
        if key == self._last_votes and self.confluence is not None:
            return self.confluence
        self._last_votes = key
        return self._combine({row.name: row.signal for row in self.rows}, self._mode)


# eleven rows a tick: filled slot by slot rather than through the frozen __init__ (the
# type checker reads the class, whose keywords the maker takes)
if TYPE_CHECKING:
    _make_row = StrategyRow
else:
    _make_row = keyword_constructor(StrategyRow)
