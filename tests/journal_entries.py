"""Journal entries for tests: realistic values, one place to build them."""

from __future__ import annotations

from cryptoai_tui.journal.entry import JournalEntry, StrategyVerdict

HOUR_MS = 3_600_000
T0 = 1_700_000_000_000 - (1_700_000_000_000 % HOUR_MS)


def entry(
    n: int = 0,
    *,
    symbol: str = "BTCUSDT",
    action: str = "BUY",
    mode: str = "majority",
    close: float = 100.0,
    session: str = "s1",
    strategies: tuple[str, ...] = ("rsi", "ema_cross", "macd"),
    triggered_by: tuple[str, ...] = ("rsi",),
) -> JournalEntry:
    verdicts = {
        name: StrategyVerdict(
            "BUY" if name in triggered_by else "HOLD", "bullish", 0.5, {"value": float(n)}
        )
        for name in strategies
    }
    return JournalEntry(
        exchange="binance", symbol=symbol, interval="1h", open_time=T0 + n * HOUR_MS, close=close,
        mode=mode, action=action, confidence=0.75, reason=f"{triggered_by[0]} {action}, 2 of 3 bullish",
        triggered_by=triggered_by, confirmed_by=tuple(s for s in strategies if s not in triggered_by),
        opposed_by=(), strategies=verdicts, history=False, session_id=session, app_version="0.1.0",
    )
