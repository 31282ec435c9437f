"""A 300-symbol watchlist fits the exchanges' connection rules (exchanges.md §0): Binance
spot carries up to 1,024 streams on one connection with SUBSCRIBE frames paced under 5/s;
Bybit batches topics per its per-request limit."""

from __future__ import annotations

import json

from cryptoai_tui.exchanges.binance import BinanceSpot
from cryptoai_tui.exchanges.bybit import BybitLinear, BybitSpot
from cryptoai_tui.feed.config import FeedConfig
from cryptoai_tui.feed.planning import SendPacer, plan_connection
from cryptoai_tui.sim.symbols import listing_of

NAMES = listing_of(300)


def test_binance_puts_300_streams_on_one_connection() -> None:
    protocol = BinanceSpot()
    streams = [protocol.stream_name(name, "1m") for name in NAMES]
    assert len(streams) <= protocol.limits.max_streams_per_connection == 1024
    plan = plan_connection(protocol, streams, FeedConfig().max_url_length)
    assert len(plan.url) <= FeedConfig().max_url_length
    assert set(plan.url_streams) | set(plan.subscribe_streams) == set(streams)
    frames = protocol.subscribe_messages(plan.subscribe_streams)
    assert len(frames) == 1  # the rest in one SUBSCRIBE, not one frame a stream
    assert json.loads(frames[0])["params"] == list(plan.subscribe_streams)


def test_subscribe_frames_are_paced_under_five_a_second() -> None:
    protocol = BinanceSpot()
    pacer = SendPacer(protocol.limits.max_incoming_messages_per_second * FeedConfig().send_rate_share)
    slots = [pacer.reserve(0.0) for _ in range(20)]  # 20 frames asked for at once
    for window_start in slots:
        inside = [slot for slot in slots if window_start <= slot < window_start + 1.0]
        assert len(inside) < 5


def test_bybit_batches_topics_per_request() -> None:
    spot, linear = BybitSpot(), BybitLinear()
    spot_frames = spot.subscribe_messages([spot.stream_name(name, "1m") for name in NAMES])
    assert len(spot_frames) == 30 and all(len(json.loads(f)["args"]) <= 10 for f in spot_frames)
    topics = [linear.stream_name(name, "1m") for name in NAMES]
    assert len(topics) <= linear.limits.max_streams_per_connection
    [frame] = linear.subscribe_messages(topics)
    assert len(json.loads(frame)["args"]) == 300 and len(frame) < 21_000  # its args character cap
