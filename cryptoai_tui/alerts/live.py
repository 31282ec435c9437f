"""Alerts in a running session: the engine's updates into the AlertBook, fired alerts out.

An `AlertSession` listens to one engine. Price and move rules are judged on every update
(the forming candle included, from the engine's Snapshots); signal, trigger and indicator
rules on confirmed candles only (from its confirmed signals). A closed candle is judged once,
at its close, so a crossing is always judged against the previous evaluated price (the
previous close on a replay).

The engine's listeners only *queue*: `Dispatcher.submit` appends to a per-target deque and
wakes that target's delivery task, and the in-app callback (a toast) is the front end's own
quick call. Nothing here waits on the network inside the engine's task. Every delivery
attempt goes to `ledger` with its target already masked.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, AsyncIterator, Callable, Sequence

from cryptoai_tui.alerts.book import Alert, AlertBook, ConfirmedCandle, PriceTick
from cryptoai_tui.alerts.dispatcher import Delivery, Dispatcher
from cryptoai_tui.alerts.notifiers import Target, parse_target
from cryptoai_tui.alerts.rules import AlertRule, RuleError
from cryptoai_tui.market.interval import Interval

if TYPE_CHECKING:
    from cryptoai_tui.engine import RealtimeStrategyEngine
    from cryptoai_tui.snapshot import ConfirmedSignal, Snapshot

log = logging.getLogger(__name__)

AlertCallback = Callable[[Alert, AlertRule], None]


def rules_for(rules: Sequence[AlertRule], symbol: str, interval: str) -> list[AlertRule]:
    """The rules a session on `symbol`/`interval` fires (a rule without an interval: any)."""
    return [r for r in rules if r.symbol == symbol and r.interval in (None, interval)]


def confirmed_candle(signal: ConfirmedSignal, symbol: str, interval: Interval) -> ConfirmedCandle:
    """What the AlertBook reads of a confirmed signal: the verdict, triggers and values."""
    return ConfirmedCandle(
        symbol=symbol, interval=interval.name, open_time=signal.open_time, close=signal.close,
        at_ms=_close_time(signal.open_time, interval), action=signal.confluence.action.value,
        mode=str(signal.confluence.mode.value),
        triggers={row.name: row.signal.action.value for row in signal.rows},
        values={row.name: dict(row.signal.values) for row in signal.rows},
    )


def _close_time(open_time: int, interval: Interval) -> int:
    return interval.next_open(open_time) - 1


class AlertSession:
    """Judges one stream's rules on its engine's updates and hands what fires to delivery."""

    def __init__(
        self, rules: Sequence[AlertRule], *, symbol: str, interval: Interval,
        ledger: Callable[[Delivery], None] | None = None, on_alert: AlertCallback | None = None,
        dispatcher: Dispatcher | None = None, history_fires: bool = False,
    ) -> None:
        """`history_fires`: judge every candle the engine confirms (a CSV replay run with
        --alerts); otherwise candles confirmed before the feed is live (its start-up
        history) only prime the rules and fire nothing."""
        self.symbol, self.interval = symbol, interval
        self._history_fires = history_fires
        self._live = False
        self.rules = rules_for(rules, symbol, interval.name)
        self.book = AlertBook(self.rules)
        self._targets: dict[str, list[Target]] = {}
        for rule in self.rules:
            targets = []
            for url in rule.notify:
                try:
                    targets.append(parse_target(url))
                except RuleError as error:  # a hand-edited config: say it, keep the other targets
                    log.warning("Alert %s: %s", rule.id, error)
            self._targets[rule.id] = targets
        self._dispatcher = dispatcher if dispatcher is not None else Dispatcher(ledger=ledger)
        self._on_alert = on_alert
        self._last_tick: tuple[int | None, float | None] = (None, None)
        self.fired: list[Alert] = []

    @property
    def dispatcher(self) -> Dispatcher:
        return self._dispatcher

    def attach(self, engine: RealtimeStrategyEngine) -> Callable[[], None]:
        return engine.add_listener(on_snapshot=self.on_snapshot, on_confirmed=self.on_confirmed)

    def on_snapshot(self, snapshot: Snapshot) -> None:
        """A forming update: price and move rules. Closed candles come through on_confirmed
        (a Snapshot after a close is not provisional) so they are judged once, not twice."""
        self._live = snapshot.state.value == "live"
        if not snapshot.provisional or snapshot.price is None or snapshot.candle_open_time is None:
            return
        if snapshot.symbol != self.symbol or not self.rules:
            return
        key = (snapshot.exchange_time, snapshot.price)
        if key == self._last_tick:  # a status change republished the same price
            return
        self._last_tick = key
        at = snapshot.exchange_time if snapshot.exchange_time is not None else snapshot.candle_open_time
        self._fire(self.book.on_price(PriceTick(
            self.symbol, self.interval.name, snapshot.price, snapshot.candle_open_time, at,
        )))

    def on_confirmed(self, signal: ConfirmedSignal) -> None:
        if not self.rules:
            return
        at = _close_time(signal.open_time, self.interval)
        tick = PriceTick(self.symbol, self.interval.name, signal.close, signal.open_time, at, closed=True)
        if not (self._live or self._history_fires):
            self.book.prime(tick)  # start-up history: remembered, never announced
            return
        alerts = self.book.on_price(tick)
        alerts += self.book.on_confirmed(confirmed_candle(signal, self.symbol, self.interval))
        self._fire(alerts)

    def _fire(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            self.fired.append(alert)
            rule = self.book.rules[alert.rule_id]
            targets = self._targets.get(alert.rule_id, [])
            if targets:
                self._dispatcher.submit(alert, targets)
            if self._on_alert is not None and rule.in_app:
                self._on_alert(alert, rule)

    async def close(self, timeout_s: float = 30.0) -> None:
        """Deliver what is queued (within `timeout_s`), then stop the delivery tasks."""
        await self._dispatcher.close(timeout_s)


@contextlib.asynccontextmanager
async def open_alert_session(
    engine: RealtimeStrategyEngine, rules: Sequence[AlertRule], *,
    ledger: Callable[[Delivery], None] | None = None, on_alert: AlertCallback | None = None,
    close_timeout_s: float = 30.0, history_fires: bool = False,
) -> AsyncIterator[AlertSession]:
    """Fire `rules` for `engine`'s stream while the block runs; on the way out, stop
    listening and deliver what is still queued (at most `close_timeout_s`)."""
    session = AlertSession(rules, symbol=engine.symbol, interval=engine.interval,
                           ledger=ledger, on_alert=on_alert, history_fires=history_fires)
    detach = session.attach(engine)
    try:
        yield session
    finally:
        detach()
        await session.close(close_timeout_s)
