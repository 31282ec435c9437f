"""Signal rates: how often each confluence mode fires on real candles, all 11 strategies.

For every CSV in tests/data/candles (BTC and ETH 1h), runs the history path (each closed
candle through the live 1000-candle window, as the engine sees it) and counts the confirmed
BUY and SELL verdicts of ANY, MAJORITY, ALL and "at least k" for k = 2..11. The issue's
bands: MAJORITY between once per 5 and once per 100 candles, ALL at least once per 1,000.

Prints JSON: per file, per mode: candles, buys, sells, signals, per_candle, one_in; and, per
strategy, how often its trigger fires and how its stance splits (bullish/bearish/neutral).

    .venv/bin/python benchmarks/signal_rates.py
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptoai_tui.market import Interval  # noqa: E402
from cryptoai_tui.replay import read_candles_csv  # noqa: E402
from cryptoai_tui.strategies.rates import default_rules, signal_rates  # noqa: E402
from cryptoai_tui.strategies.registry import parse_strategy_spec  # noqa: E402

# The one place this script names the history path (it may move to engine/).
from cryptoai_tui.engine.history import history_signals as run_history  # noqa: E402

CANDLES_DIR = ROOT / "tests" / "data" / "candles"
WINDOW = 1000


def measure(path: Path) -> dict[str, object]:
    candles = read_candles_csv(path, Interval.parse("1h"))
    strategies = parse_strategy_spec("all")
    rows = run_history(strategies, candles, window=WINDOW)
    rates = signal_rates(rows, default_rules(len(strategies)))
    per_strategy: dict[str, object] = {}
    for strategy in strategies:
        signals = [row[strategy.name] for row in rows]
        stances = Counter(s.stance.value for s in signals)
        triggers = sum(1 for s in signals if s.trigger is not None)
        per_strategy[strategy.name] = {
            "triggers": triggers,
            "stance_share": {k: round(v / len(rows), 3) for k, v in sorted(stances.items())},
        }
    return {
        "candles": len(rows),
        "modes": {
            value: {
                "buys": rate.buys,
                "sells": rate.sells,
                "signals": rate.signals,
                "per_candle": round(rate.per_candle, 5),
                "one_in": None if rate.one_in is None else round(rate.one_in, 1),
            }
            for value, rate in rates.items()
        },
        "strategies": per_strategy,
    }


def main() -> None:
    report = {path.name: measure(path) for path in sorted(CANDLES_DIR.glob("*.csv"))}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
