"""`cryptoai-tui stream` end to end: a real subprocess reading the simulator over loopback."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import signal
import sys
from pathlib import Path

from cryptoai_tui.market import Candle
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.server import SimExchange

ROOT = Path(__file__).resolve().parents[2]
JSON_FIELDS = {"exchange", "symbol", "interval", "open_time", "close_time", "open", "high", "low", "close", "volume"}


async def start_stream(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cryptoai_tui", "stream", *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def read_lines(process: asyncio.subprocess.Process, count: int, timeout: float = 20.0) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []

    async def read() -> None:
        while len(lines) < count:
            line = await process.stdout.readline()  # type: ignore[union-attr]
            if not line:
                return
            lines.append(line.decode().rstrip("\n"))

    await asyncio.wait_for(read(), timeout)
    return lines


async def interrupt(process: asyncio.subprocess.Process) -> tuple[int, str]:
    """Ctrl+C, as a user would; returns the exit code and what went to stderr."""
    process.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode is not None
    return process.returncode, err.decode()


def same_candle(line: dict[str, object], truth: Candle) -> bool:
    return (line["open_time"], line["close_time"], line["open"], line["high"], line["low"], line["close"],
            line["volume"]) == (truth.open_time, truth.close_time, truth.open, truth.high, truth.low, truth.close,
                                truth.volume)


async def test_stream_prints_history_then_live_closed_candles_as_json_lines() -> None:
    async with SimExchange(SimConfig(speed=600, seed=21)) as sim:
        process = await start_stream("BTCUSDT", "eth/usdt", "--interval", "1m", "--history", "5",
                                     "--exchange", "binance", "--ws-url", sim.ws_url, "--rest-url", sim.rest_url)
        lines = await read_lines(process, 30)
        code, err = await interrupt(process)
        rows = [json.loads(line) for line in lines]
        assert code == 130  # 128 + SIGINT, as shells report Ctrl+C
        assert "Traceback" not in err and "cryptoai-tui: Live" in err
        assert all(JSON_FIELDS <= set(row) for row in rows)
        assert all(isinstance(row["close"], float) and isinstance(row["open_time"], int) for row in rows)
        for symbol in ("BTCUSDT", "ETHUSDT"):
            mine = [row for row in rows if row["symbol"] == symbol]
            assert len(mine) >= 10, f"{symbol}: {len(mine)} lines"
            assert {row["exchange"] for row in mine} == {"binance"} and {row["interval"] for row in mine} == {"1m"}
            opens = [row["open_time"] for row in mine]
            assert opens == list(range(opens[0], opens[0] + 60_000 * len(opens), 60_000)), "gap or repeat"
            truth = sim.closed_candles(symbol, "1m", opens[0], opens[-1])
            assert all(same_candle(row, candle) for row, candle in zip(mine, truth, strict=True))


async def test_stream_with_the_in_process_simulator_writes_csv() -> None:
    process = await start_stream("SOLUSDT", "--exchange", "sim", "--history", "3", "--format", "csv")
    lines = await read_lines(process, 4)
    code, err = await interrupt(process)
    assert code == 130, err
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    assert len(rows) == 3
    assert JSON_FIELDS <= set(rows[0])
    assert {row["symbol"] for row in rows} == {"SOLUSDT"}
    opens = [int(row["open_time"]) for row in rows]
    assert opens[1] - opens[0] == opens[2] - opens[1] == 60_000
    assert all(float(row["low"]) <= float(row["close"]) <= float(row["high"]) for row in rows)


async def test_unknown_symbol_is_one_line_and_exit_2() -> None:
    process = await start_stream("BTCUSDX", "--exchange", "sim")
    out, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 2
    assert out == b""
    message = err.decode().strip()
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith("cryptoai-tui: Unknown symbol 'BTCUSDX'") and "BTCUSDT" in message


async def test_unknown_interval_lists_the_valid_ones_and_exits_2() -> None:
    process = await start_stream("BTCUSDT", "--interval", "7m", "--exchange", "sim")
    _, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 2
    message = err.decode().strip()
    assert message.startswith("cryptoai-tui: Invalid interval '7m'") and "1m, 3m, 5m" in message
