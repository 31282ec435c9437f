"""AlertSession on a real engine: price rules judged on forming updates too, each closed
candle judged once, signal and trigger rules on confirmed candles only, and the in-app
callback told of every fire (no network: rules without targets)."""

from __future__ import annotations

from cryptoai_tui.alerts.book import Alert
from cryptoai_tui.alerts.live import AlertSession
from cryptoai_tui.alerts.rules import AlertRule, Frequency, parse_condition
from cryptoai_tui.engine import RealtimeStrategyEngine
from cryptoai_tui.market.interval import Interval
from cryptoai_tui.feed.status import ConnectionState, FeedStatus
from tests.unit.engine_doubles import bar, event, paced

LIVE = FeedStatus(ConnectionState.LIVE, "Streaming.", "BTCUSDT", "1m")
BOOT = FeedStatus(ConnectionState.BOOTSTRAPPING, "Loading history.", "BTCUSDT", "1m")


def _engine() -> RealtimeStrategyEngine:
    return RealtimeStrategyEngine("BTCUSDT", "1m", "rsi", "any", "test")


async def test_a_forming_update_fires_a_price_rule_and_the_close_does_not_fire_it_twice() -> None:
    engine = _engine()
    fired: list[tuple[str, str]] = []
    rules = [
        AlertRule("up", "BTCUSDT", parse_condition("price crosses above 150"), frequency=Frequency.EVERY),
        AlertRule("sig", "BTCUSDT", parse_condition("signal any")),
        AlertRule("other", "ETHUSDT", parse_condition("price above 1")),
    ]
    session = AlertSession(rules, symbol="BTCUSDT", interval=Interval.parse("1m"),
                           on_alert=lambda alert, rule: fired.append((rule.id, alert.text)))
    assert [r.id for r in session.rules] == ["up", "sig"]  # ETHUSDT's rule is not this session's
    session.attach(engine)
    closes = [140.0 + (3 if i % 2 else 0) for i in range(30)]  # enough for rsi to warm up and trigger
    items: list[object] = [LIVE, *(event(bar(i, c)) for i, c in enumerate(closes))]
    # candle 30 forms at 149, then 151 (the crossing, mid-candle), then closes at 152
    items += [event(bar(30, 149.0, closed=False)), event(bar(30, 151.0, closed=False)),
              event(bar(30, 152.0))]
    await engine.run(paced([[item] for item in items]))  # type: ignore[list-item]
    await session.close(5.0)
    ups = [text for rule_id, text in fired if rule_id == "up"]
    assert ups == ["BTCUSDT price crosses above 150: 151"]  # on the forming update, once
    assert all(alert.rule_id != "other" for alert in session.fired)


async def test_signal_rules_fire_on_each_confirmed_buy_or_sell_only() -> None:
    from tests.conftest import load_candles

    engine = RealtimeStrategyEngine("BTCUSDT", "1h", "rsi,macd,ema_cross", "any", "test")
    session = AlertSession([AlertRule("sig", "BTCUSDT", parse_condition("signal any"), frequency=Frequency.EVERY),
                            AlertRule("rsi", "BTCUSDT", parse_condition("trigger rsi BUY"), frequency=Frequency.EVERY)],
                           symbol="BTCUSDT", interval=Interval.parse("1h"))
    session.attach(engine)
    actions: dict[int, str] = {}
    rsi_buys: set[int] = set()

    def seen(signal: object) -> None:
        actions[signal.open_time] = signal.confluence.action.value  # type: ignore[attr-defined]
        if any(r.name == "rsi" and r.signal.action.value == "BUY" for r in signal.rows):  # type: ignore[attr-defined]
            rsi_buys.add(signal.open_time)  # type: ignore[attr-defined]

    engine.add_listener(on_confirmed=seen)
    candles = load_candles("BTCUSDT-1h.csv", limit=400)
    await engine.run(paced([[LIVE]] + [[event(c, interval="1h")] for c in candles]))  # type: ignore[list-item]
    await session.close(5.0)
    fired: list[Alert] = session.fired
    want = sorted(t for t, action in actions.items() if action in ("BUY", "SELL"))
    assert [a.candle_open_time for a in fired if a.rule_id == "sig"] == want and want
    assert {a.candle_open_time for a in fired if a.rule_id == "rsi"} == rsi_buys and rsi_buys


async def test_start_up_history_primes_the_rules_and_fires_nothing() -> None:
    engine = _engine()
    rules = [AlertRule("up", "BTCUSDT", parse_condition("price crosses above 150"), frequency=Frequency.EVERY),
             AlertRule("once", "BTCUSDT", parse_condition("price above 100"), frequency=Frequency.ONCE)]
    session = AlertSession(rules, symbol="BTCUSDT", interval=Interval.parse("1m"))
    session.attach(engine)
    # history crosses 150 (at candle 2) while bootstrapping; live, the price is already above
    history = [event(bar(i, c), backfilled=True) for i, c in enumerate([140.0, 145.0, 155.0, 156.0])]
    live = [event(bar(4, 157.0)), event(bar(5, 149.0)), event(bar(6, 151.0))]
    await engine.run(paced([[item] for item in [BOOT, *history, LIVE, *live]]))  # type: ignore[list-item]
    await session.close(5.0)
    # nothing about the past; live: "once" fires on the first live close, "up" only at the
    # live crossing 149 -> 151 (not 156 -> 157, which was judged against primed history)
    assert [(a.rule_id, a.price) for a in session.fired] == [("once", 157.0), ("up", 151.0)]
