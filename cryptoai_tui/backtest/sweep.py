"""Parameter sweeps: every combination of the ranges given, each one a plain backtest.

Syntax: `--sweep "rsi:period=7..21:7,lower=20..30:5;macd:fast=8..12:2"`: strategies separated
by `;`, each `name:key=range,...`, a range `start..stop:step` with the stop included (a
plain value is a range of one). Swept strategies replace the same-named ones of
`--strategies`; the others run with their given parameters in every combination.

Each combination is turned into the `--strategies` text a user would type and run through
`runner.run_backtest`, the function `backtest` itself calls, so a row is by construction
what a plain backtest with those parameters reports. Where they run: local processes
(`concurrent.futures`, one per core by default; the candles go to each worker once, at its
start) or Ray tasks on a cluster (the candles put in the object store once and passed by
reference). The order of completion never shows: rows are sorted by the rank figure, ties
by the combination's order.
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from cryptoai_tui.backtest.engine import TradeModel
from cryptoai_tui.market.series import OHLCV

RANK_FIGURES = (
    "total_return", "annualised_return", "sharpe", "profit_factor", "win_rate", "max_drawdown",
    "exposure", "trades",
)
LOWER_IS_BETTER = frozenset({"max_drawdown"})
MAX_COMBINATIONS = 100_000
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Combination:
    """One point of the sweep: the strategies text to run and the swept values, by
    `strategy.param` name."""

    index: int
    strategies: str
    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SweepRow:
    combination: Combination
    summary: Mapping[str, Any]  # Summary.as_json()


def parse_range(text: str, where: str) -> list[Any]:
    """`7..21:7` -> [7, 14, 21]; `0.5..1:0.25` -> [0.5, 0.75, 1.0]; `close` -> ['close']."""
    value = text.strip()
    if ".." not in value:
        return [value]
    bounds, _, step_text = value.partition(":")
    start_text, _, stop_text = bounds.partition("..")
    try:
        numbers = [float(start_text), float(stop_text), float(step_text or "1")]
    except ValueError:
        raise ValueError(
            f"Cannot read the range {text!r} of {where}: write start..stop:step, e.g. 7..21:7."
        ) from None
    start, stop, step = numbers
    if not all(math.isfinite(x) for x in numbers) or step <= 0 or stop < start:
        raise ValueError(
            f"The range {text!r} of {where} needs start <= stop and a step above 0, e.g. 7..21:7."
        )
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    whole = all(float(x).is_integer() for x in numbers) and "." not in value.replace("..", "")
    values = [start + k * step for k in range(count)]
    if whole:
        return [int(round(v)) for v in values]
    return [round(v, 12) for v in values]


def parse_sweep(text: str) -> list[tuple[str, list[tuple[str, list[Any]]]]]:
    """(strategy, [(param, values)]) in the order written; ValueError with a sentence."""
    from cryptoai_tui.strategies.registry import STRATEGIES, create_strategy

    out: list[tuple[str, list[tuple[str, list[Any]]]]] = []
    for segment in (s.strip() for s in text.split(";")):
        if not segment:
            continue
        name, colon, rest = segment.partition(":")
        name = name.strip().lower()
        if name not in STRATEGIES:
            create_strategy(name)  # raises the registry's sentence (close matches listed)
        if not colon or not rest.strip():
            raise ValueError(
                f"--sweep {segment!r} names no parameter range: write e.g. '{name}:period=7..21:7'."
            )
        params: list[tuple[str, list[Any]]] = []
        for item in (i.strip() for i in rest.split(",")):
            if not item:
                continue
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq or not key or not value.strip():
                raise ValueError(f"Cannot read {item!r} in --sweep: write key=start..stop:step.")
            if key not in STRATEGIES[name].defaults:
                create_strategy(name, **{key: STRATEGIES[name].defaults.get(key, 0)})
            params.append((key, parse_range(value, f"{name} {key}")))
        out.append((name, params))
    if not out:
        raise ValueError("--sweep is empty: give e.g. 'rsi:period=7..21:7'.")
    return out


def combinations(sweep_text: str, strategies_text: str | None) -> list[Combination]:
    """Every combination, each as its `--strategies` text; each is built by the registry
    once here, so a bad value fails before any work starts."""
    from cryptoai_tui.strategies.registry import parse_strategy_spec

    swept = parse_sweep(sweep_text)
    swept_names = {name for name, _ in swept}
    base: list[str] = []
    if strategies_text:
        for strategy in parse_strategy_spec(strategies_text):
            if strategy.name in swept_names:
                continue
            given = {k: v for k, v in strategy.params.items() if v != strategy.defaults[k]}
            base.append(_spec(strategy.name, given))
    axes: list[tuple[str, str, list[Any]]] = [
        (name, key, values) for name, params in swept for key, values in params
    ]
    total = math.prod(len(values) for _, _, values in axes)
    if total > MAX_COMBINATIONS:
        raise ValueError(
            f"--sweep gives {total} combinations, more than {MAX_COMBINATIONS}; use larger steps."
        )
    out: list[Combination] = []
    for index, point in enumerate(itertools.product(*(values for _, _, values in axes))):
        chosen: dict[str, dict[str, Any]] = {name: {} for name, _ in swept}
        labelled: dict[str, Any] = {}
        for (name, key, _), value in zip(axes, point):
            chosen[name][key] = value
            labelled[f"{name}.{key}"] = value
        spec = ";".join(base + [_spec(name, chosen[name]) for name, _ in swept])
        try:
            parse_strategy_spec(spec)
        except ValueError as error:
            raise ValueError(f"The sweep combination {spec!r} is not valid: {error}") from None
        out.append(Combination(index, spec, labelled))
    return out


def _spec(name: str, params: Mapping[str, Any]) -> str:
    if not params:
        return name
    return name + ":" + ",".join(f"{key}={value}" for key, value in params.items())


# --- running ------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(arrays: tuple[np.ndarray, ...], settings: tuple[str, TradeModel, int, int]) -> None:
    """Per process, once: the candles and the settings every task of the sweep shares."""
    _WORKER["data"] = OHLCV(*arrays)
    _WORKER["settings"] = settings


def run_one(data: OHLCV, strategies: str, settings: tuple[str, TradeModel, int, int]) -> dict[str, Any]:
    """The summary a plain backtest of `strategies` reports (runner.run_backtest)."""
    from cryptoai_tui.backtest.runner import run_backtest

    mode, model, interval_ms, window = settings
    return run_backtest(data, strategies, mode, model, interval_ms, window=window).summary.as_json()


def _task(strategies: str) -> dict[str, Any]:
    return run_one(_WORKER["data"], strategies, _WORKER["settings"])


def run_local(
    data: OHLCV,
    combos: Sequence[Combination],
    settings: tuple[str, TradeModel, int, int],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[SweepRow]:
    """The sweep over local processes (`workers`, default the number of cores)."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    count = workers or os.cpu_count() or 1
    results: dict[int, dict[str, Any]] = {}
    if count <= 1:
        for combo in combos:
            results[combo.index] = run_one(data, combo.strategies, settings)
            if progress is not None:
                progress(len(results), len(combos))
    else:
        arrays = tuple(np.ascontiguousarray(a) for a in data)
        with ProcessPoolExecutor(count, initializer=_init_worker, initargs=(arrays, settings)) as pool:
            futures = {pool.submit(_task, combo.strategies): combo.index for combo in combos}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                if progress is not None:
                    progress(len(results), len(combos))
    return [SweepRow(combo, results[combo.index]) for combo in combos]


RAY_MISSING = (
    "--ray needs the Ray extra, which is not installed: pip install \"cryptoai-tui[ray]\" "
    "(or pip install ray), then run again."
)


def run_ray(
    data: OHLCV,
    combos: Sequence[Combination],
    settings: tuple[str, TradeModel, int, int],
    *,
    address: str | None,
    progress: Progress | None = None,
) -> list[SweepRow]:
    """The sweep as Ray tasks: the candles put once in the object store, each task handed
    the reference. Connects to `address` (or RAY_ADDRESS) unless Ray is already up."""
    try:
        import ray
    except ImportError:
        raise RuntimeError(RAY_MISSING) from None
    if not ray.is_initialized():
        target = address or os.environ.get("RAY_ADDRESS") or None
        try:
            ray.init(address=target, ignore_reinit_error=True, log_to_driver=False)
        except Exception as error:  # Ray raises ConnectionError, RuntimeError, ValueError...
            raise RuntimeError(
                f"Cannot reach the Ray cluster at {target or 'a local Ray'}: {error}. Check the "
                "address (ray://host:10001 or host:6379), or drop --ray to use local processes."
            ) from None
    arrays = ray.put(tuple(np.ascontiguousarray(a) for a in data))
    remote = ray.remote(_ray_task)
    pending = {remote.remote(arrays, combo.strategies, settings): combo.index for combo in combos}
    results: dict[int, dict[str, Any]] = {}
    waiting = list(pending)
    while waiting:
        done, waiting = ray.wait(waiting, num_returns=1)
        for ref in done:
            results[pending[ref]] = ray.get(ref)
        if progress is not None:
            progress(len(results), len(combos))
    return [SweepRow(combo, results[combo.index]) for combo in combos]


def _ray_task(arrays: tuple[np.ndarray, ...], strategies: str, settings: tuple[str, TradeModel, int, int]) -> dict[str, Any]:
    return run_one(OHLCV(*arrays), strategies, settings)


def ranked(rows: Sequence[SweepRow], rank_by: str) -> list[SweepRow]:
    """Best first by `rank_by` (lowest first for max_drawdown); a missing figure last; ties
    keep the combinations' order."""
    if rank_by not in RANK_FIGURES:
        raise ValueError(f"--rank-by {rank_by!r} is not a figure: use one of {', '.join(RANK_FIGURES)}.")
    sign = 1.0 if rank_by in LOWER_IS_BETTER else -1.0

    def key(row: SweepRow) -> tuple[int, float, int]:
        value = row.summary.get(rank_by)
        if value is None:
            return (1, 0.0, row.combination.index)
        return (0, sign * float(value), row.combination.index)

    return sorted(rows, key=key)


def iter_csv_rows(rows: Sequence[SweepRow]) -> Iterator[list[Any]]:
    """Header, then one row per combination: rank, strategies, each swept value, every figure."""
    if not rows:
        return
    params = list(rows[0].combination.params)
    figures = list(rows[0].summary)
    yield ["rank", "strategies", *params, *figures]
    for rank, row in enumerate(rows, 1):
        yield [rank, row.combination.strategies, *(row.combination.params[p] for p in params),
               *("" if row.summary[f] is None else row.summary[f] for f in figures)]


def table_text(rows: Sequence[SweepRow], rank_by: str, limit: int = 20) -> str:
    """The best `limit` rows as an aligned table for a terminal."""
    if not rows:
        return "no combinations"
    params = list(rows[0].combination.params)
    shown = ["total_return", "annualised_return", "max_drawdown", "sharpe", "win_rate", "trades"]
    if rank_by not in shown:
        shown.insert(0, rank_by)
    header = ["#", *params, *shown]
    body: list[list[str]] = []
    for rank, row in enumerate(rows[:limit], 1):
        cells = [str(rank), *(str(row.combination.params[p]) for p in params)]
        for figure in shown:
            value = row.summary.get(figure)
            if value is None:
                cells.append("n/a")
            elif figure == "trades":
                cells.append(str(value))
            elif figure in ("sharpe", "profit_factor"):
                cells.append(f"{value:.2f}")
            elif figure in ("max_drawdown", "win_rate", "exposure"):
                cells.append(f"{value * 100:.2f}%")
            else:
                cells.append(f"{value * 100:+.2f}%")
        body.append(cells)
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(line, widths)) for line in [header, *body]]
    more = f"\n... {len(rows) - limit} more (all in --results CSV)" if len(rows) > limit else ""
    return "\n".join(lines) + more
