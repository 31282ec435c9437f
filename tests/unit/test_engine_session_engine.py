"""The TUI's SessionEngine: the engine plus how to open its source, started and stopped as one."""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

from cryptoai_tui.engine import RealtimeStrategyEngine
from cryptoai_tui.feed.status import ConnectionState
from cryptoai_tui.tui.services import SessionEngine
from tests.unit.engine_doubles import Gate, Recorder, Watch, bar, event


async def test_start_opens_the_source_runs_the_engine_and_stop_closes_both() -> None:
    gate = Gate()
    opened: list[str] = []

    @contextlib.asynccontextmanager
    async def open_source() -> AsyncIterator[Gate]:
        opened.append("open")
        try:
            yield gate
        finally:
            opened.append("closed")

    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder()], "any")
    watch = Watch(engine)
    session = SessionEngine(engine, open_source)
    run = asyncio.create_task(session.start())
    gate.push(event(bar(0)))
    await watch.confirmed_signals(1)
    assert session.snapshot is engine.snapshot
    await session.stop()
    await run
    assert opened == ["open", "closed"]
    assert session.snapshot.state is ConnectionState.STOPPED


async def test_stop_while_the_source_is_still_opening_cancels_the_opening() -> None:
    never = asyncio.Event()
    closed: list[bool] = []

    @contextlib.asynccontextmanager
    async def slow_source() -> AsyncIterator[Gate]:
        try:
            await never.wait()  # an exchange that does not answer
            yield Gate()
        finally:
            closed.append(True)

    engine = RealtimeStrategyEngine("BTCUSDT", "1m", [Recorder()], "any")
    session = SessionEngine(engine, slow_source)
    run = asyncio.create_task(session.start())
    await asyncio.sleep(0)
    await session.stop()
    assert run.done() and closed == [True]
    assert not engine.running
