"""Every fault knob of the simulator, observed from the client's side of a real socket."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from cryptoai_tui.exchanges.base import KlineMessage, retry_after_seconds
from cryptoai_tui.exchanges.binance import BinanceSpot
from cryptoai_tui.exchanges.errors import MalformedMessageError
from cryptoai_tui.sim.config import SimConfig
from cryptoai_tui.sim.faults import FaultConfig
from cryptoai_tui.sim.server import SimExchange

START = 1_700_000_000_000
PROTOCOL = BinanceSpot()


def config(**faults: Any) -> SimConfig:
    return SimConfig(speed=600, start_ms=START, push_interval_s=0.02, faults=FaultConfig(**faults))


async def frames_for(ws: Any, seconds: float) -> list[tuple[float, str | bytes]]:
    """(arrival time, frame) for `seconds`, or until the server closes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    out: list[tuple[float, str | bytes]] = []
    try:
        while (left := deadline - loop.time()) > 0:
            out.append((loop.time(), await asyncio.wait_for(ws.recv(), left)))
    except (TimeoutError, ConnectionClosed):
        pass
    return out


def klines(frames: list[tuple[float, str | bytes]]) -> list[KlineMessage]:
    out = []
    for _, frame in frames:
        try:
            out += [m for m in PROTOCOL.parse_ws_message(frame) if isinstance(m, KlineMessage)]
        except MalformedMessageError:
            pass
    return out


async def test_drop_aborts_the_connection_without_a_close_frame() -> None:
    async with SimExchange(config(drop_every_s=0.2)) as sim:
        loop = asyncio.get_running_loop()
        opened = loop.time()
        async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as ws:
            await frames_for(ws, 3)
            lived = loop.time() - opened
        # Dropped (no close frame) on its period, not at once; frames_for's window ends the
        # wait, so no upper time bound is needed here.
        assert ws.close_code == 1006 and lived > 0.15
        assert sim.stats().drops == 1


async def test_drop_1008_closes_with_policy_violation() -> None:
    async with SimExchange(config(drop_1008_every_s=0.2)) as sim:
        async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as ws:
            await frames_for(ws, 3)
        assert (ws.close_code, ws.close_reason) == (1008, "Too many requests")


async def test_stall_keeps_the_socket_open_but_silent_and_loses_what_closed_meanwhile() -> None:
    async with SimExchange(config(stall_every_s=0.2, stall_s=0.5)) as sim:
        async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as ws:
            frames = await frames_for(ws, 1.0)
            assert ws.close_code is None  # still open
        gaps = [b[0] - a[0] for a, b in zip(frames, frames[1:])]
        assert max(gaps) > 0.4 and sorted(gaps)[len(gaps) // 2] < 0.1
        finals = [m.candle.open_time for m in klines(frames) if m.candle.closed]
        assert any(b - a > 60_000 for a, b in zip(finals, finals[1:]))  # a hole to backfill
        assert sim.stats().stalls >= 1


async def test_malformed_frames_are_mixed_in_without_losing_candles() -> None:
    async with SimExchange(config(malformed_rate=0.3)) as sim:
        async with websockets.connect(f"{sim.ws_url}/ws/ethusdt@kline_1m") as ws:
            frames = await frames_for(ws, 0.6)
    bad = 0
    for _, frame in frames:
        try:
            PROTOCOL.parse_ws_message(frame)
        except MalformedMessageError:
            bad += 1
    assert 2 <= bad <= sim.stats().malformed  # the server may have sent more after we stopped reading
    finals = [m.candle.open_time for m in klines(frames) if m.candle.closed]
    assert finals == list(range(finals[0], finals[0] + 60_000 * len(finals), 60_000))


async def test_duplicates_repeat_a_message_verbatim() -> None:
    async with SimExchange(config(duplicate_rate=0.4)) as sim:
        async with websockets.connect(f"{sim.ws_url}/ws/ethusdt@kline_1m") as ws:
            frames = [f for _, f in await frames_for(ws, 0.5)]
    repeats = sum(a == b for a, b in zip(frames, frames[1:]))
    assert repeats >= 2 and sim.stats().duplicates >= repeats


async def test_reorder_delivers_an_older_kline_after_a_newer_one() -> None:
    async with SimExchange(config(reorder_rate=0.3)) as sim:
        async with websockets.connect(f"{sim.ws_url}/ws/ethusdt@kline_1m") as ws:
            messages = klines(await frames_for(ws, 0.6))
    times = [m.event_time for m in messages]
    assert any(b < a for a, b in zip(times, times[1:]))
    assert sim.stats().reordered >= 1


async def test_missing_final_leaves_a_candle_unconfirmed() -> None:
    async with SimExchange(config(missing_final_rate=0.5)) as sim:
        async with websockets.connect(f"{sim.ws_url}/ws/ethusdt@kline_1m") as ws:
            messages = klines(await frames_for(ws, 0.8))
    seen = sorted({m.candle.open_time for m in messages})[:-1]  # the last may still be forming
    confirmed = {m.candle.open_time for m in messages if m.candle.closed}
    assert set(seen) - confirmed and sim.stats().finals_skipped >= 1


async def test_rest_429_carries_a_fractional_retry_after_on_binance_and_a_reset_on_bybit() -> None:
    async with SimExchange(config(rest_429_rate=1.0, retry_after_s=0.05)) as sim, httpx.AsyncClient() as http:
        binance = await http.get(f"{sim.rest_url}/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1m"})
        assert binance.status_code == 429 and binance.json()["code"] == -1003
        assert retry_after_seconds(binance.headers) == pytest.approx(0.05)
        bybit = await http.get(f"{sim.rest_url}/v5/market/kline",
                               params={"category": "spot", "symbol": "BTCUSDT", "interval": "1"})
        body = bybit.json()
        assert bybit.status_code == 200 and body["retCode"] == 10006
        assert int(bybit.headers["X-Bapi-Limit-Reset-Timestamp"]) - body["time"] == 50
        assert sim.stats().rest_rate_limited == 2


async def test_rest_418_bans_until_the_ban_ends() -> None:
    async with SimExchange(config(rest_418_rate=1.0, ban_s=1.0)) as sim, httpx.AsyncClient() as http:
        first = await http.get(f"{sim.rest_url}/api/v3/time")
        assert first.status_code == 418 and "IP banned until" in first.json()["msg"]
        assert first.json()["code"] == -1003
        sim.set_faults(FaultConfig())  # the ban outlives the fault that caused it
        await asyncio.sleep(0.02)
        second = await http.get(f"{sim.rest_url}/api/v3/time")
        assert second.status_code == 418
        assert retry_after_seconds(second.headers) < retry_after_seconds(first.headers) <= 1.0
        await asyncio.sleep(1.0)
        assert (await http.get(f"{sim.rest_url}/api/v3/time")).status_code == 200


async def test_rest_5xx_answers_503() -> None:
    async with SimExchange(config(rest_5xx_rate=1.0)) as sim, httpx.AsyncClient() as http:
        response = await http.get(f"{sim.rest_url}/api/v3/exchangeInfo")
        assert response.status_code == 503 and sim.stats().rest_unavailable == 1


async def test_rest_faults_repeat_with_the_seed() -> None:
    async def statuses(seed: int) -> list[int]:
        cfg = SimConfig(seed=seed, start_ms=START, faults=FaultConfig(rest_429_rate=0.5))
        async with SimExchange(cfg) as sim, httpx.AsyncClient() as http:
            return [(await http.get(f"{sim.rest_url}/api/v3/ping")).status_code for _ in range(16)]

    first = await statuses(7)
    assert first == await statuses(7)
    assert first != await statuses(8)
    assert {200, 429} == set(first)


async def test_restart_drops_everyone_closes_the_port_then_comes_back() -> None:
    async with SimExchange(config()) as sim:
        port = sim.port
        async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as ws:
            restart = asyncio.create_task(sim.restart(down_s=1.0))
            await frames_for(ws, 1)
            assert ws.close_code == 1006
            with pytest.raises(OSError):
                await websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m")
            await restart
        assert sim.port == port
        async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as again:
            assert json.loads(await asyncio.wait_for(again.recv(), 2))["e"] == "kline"
        assert sim.stats().restarts == 1


async def test_restart_on_a_period() -> None:
    async with SimExchange(config(restart_every_s=0.2, restart_down_s=0.05)) as sim:
        # Wait for the events rather than a fixed time, so a loaded machine cannot starve it.
        for _ in range(200):
            if sim.stats().restarts >= 2:
                break
            await asyncio.sleep(0.05)
        assert sim.stats().restarts >= 2


async def test_faults_switch_on_at_runtime_and_can_be_triggered_on_demand() -> None:
    async with SimExchange(config()) as sim:
        async with websockets.connect(f"{sim.ws_url}/ws/btcusdt@kline_1m") as ws:
            calm = [f for _, f in await frames_for(ws, 0.2)]
            assert not any(a == b for a, b in zip(calm, calm[1:]))
            sim.set_faults(FaultConfig(duplicate_rate=1.0))
            noisy = [f for _, f in await frames_for(ws, 0.2)]
            assert sum(a == b for a, b in zip(noisy, noisy[1:])) >= 3
            sim.set_faults(FaultConfig())
            stalled_at = asyncio.get_running_loop().time()
            assert sim.stall_connections(0.4) == 1
            times = [stalled_at] + [t for t, _ in await frames_for(ws, 0.7)]
            assert max(b - a for a, b in zip(times, times[1:])) > 0.3
            assert sim.drop_connections(close_code=1008) == 1
            await frames_for(ws, 2)
        assert ws.close_code == 1008
