"""The Kafka sink against librdkafka's built-in mock cluster (no broker to install): a
real Kafka protocol server on loopback, reached by the sink and by a consumer as any
cluster would be. Every line is produced once, in order per key; a broker that goes away
is reported; the `signals` command publishes exactly the lines it would print."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

kafka = pytest.importorskip("confluent_kafka")

from cryptoai_tui.sinks import open_sink, sink_key  # noqa: E402

CANDLES = Path(__file__).resolve().parents[1] / "data" / "candles"


class MockCluster:
    """A mock cluster lives inside the client that asked for it; this one only holds it."""

    def __init__(self, brokers: int = 3) -> None:
        self._holder = kafka.Producer({"test.mock.num.brokers": brokers, "bootstrap.servers": "unused:1",
                                       "log_level": 0})
        metadata = self._holder.list_topics(timeout=10)
        self.bootstrap = ",".join(f"{b.host}:{b.port}" for b in metadata.brokers.values())

    def stop(self) -> None:
        """Destroying the holding client takes every broker away."""
        self._holder = None


@pytest.fixture
def cluster() -> Iterator[MockCluster]:
    holder = MockCluster()
    yield holder
    holder.stop()


def consume(bootstrap: str, topic: str, count: int, limit_s: float = 60.0) -> list[tuple[str, str, int]]:
    """(key, value, partition) of the first `count` messages; the limit only stops a hang."""
    consumer = kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "test", "auto.offset.reset": "earliest",
                               "log_level": 0})
    consumer.subscribe([topic])
    got: list[tuple[str, str, int]] = []
    deadline = time.monotonic() + limit_s
    try:
        while len(got) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            got.append((message.key().decode(), message.value().decode(), message.partition()))
        # anything extra (a duplicate) would arrive now
        extra = consumer.poll(1.0)
        while extra is not None:
            if not extra.error():
                got.append((extra.key().decode(), extra.value().decode(), extra.partition()))
            extra = consumer.poll(0.5)
    finally:
        consumer.close()
    return got


def test_every_line_is_produced_once_in_order_per_key(cluster: MockCluster) -> None:
    err = io.StringIO()
    sink = open_sink(f"kafka://{cluster.bootstrap}/candles", err=err)
    out = sink.text()  # keyed by each line's own exchange, symbol and interval (the stream command's lines)
    symbols = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT")
    sent = []
    for seq in range(400):
        symbol = symbols[seq * 7 % len(symbols)]
        line = json.dumps({"exchange": "sim", "symbol": symbol, "interval": "1m", "seq": seq})
        sent.append(line)
        out.write(line + "\n")
        out.flush()
    assert sink.close() == 0, err.getvalue()
    got = consume(cluster.bootstrap, "candles", len(sent))
    assert sorted(value for _, value, _ in got) == sorted(sent)  # every line once, none twice
    by_key: dict[str, list[int]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    for key, value, partition in got:
        item = json.loads(value)
        assert key == sink_key(item["exchange"], item["symbol"], item["interval"])
        by_key[key].append(item["seq"])
        partitions[key].add(partition)
    for key, seqs in by_key.items():
        assert seqs == sorted(seqs), f"{key} out of order"
        assert len(partitions[key]) == 1  # one stream, one partition
    assert len(by_key) == len(symbols)
    assert err.getvalue() == ""


def test_a_broker_that_goes_away_is_reported(cluster: MockCluster) -> None:
    err = io.StringIO()
    sink = open_sink(f"kafka://{cluster.bootstrap}/signals?message.timeout.ms=1500", err=err)
    key = sink_key("sim", "BTCUSDT", "1m")
    sink.write('{"n": 1}', key)
    assert consume(cluster.bootstrap, "signals", 1)  # delivered while the brokers are up
    cluster.stop()
    for n in range(2, 5):
        sink.write(f'{{"n": {n}}}', key)
    undelivered = sink.close()
    said = err.getvalue()
    assert undelivered == 3
    assert "3 of 4 lines were not delivered to kafka://" in said
    assert "not delivered" in said and "brokers are down" in said  # each failure and the broker trouble, said


def test_signals_publishes_exactly_the_lines_it_prints(cluster: MockCluster, tmp_path: Path) -> None:
    csv = CANDLES / "BTCUSDT-1h.csv"
    base = [sys.executable, "-m", "cryptoai_tui", "signals", "--symbol", "BTCUSDT", "--interval", "1h",
            "--strategies", "rsi,macd,ema_cross", "--mode", "any", "--replay", str(csv)]
    printed = subprocess.run(base, capture_output=True, text=True, timeout=300, check=True).stdout.splitlines()
    assert len(printed) > 100
    published = subprocess.run(base + ["--sink", f"kafka://{cluster.bootstrap}/signals"],
                               capture_output=True, text=True, timeout=300)
    assert published.returncode == 0, published.stderr
    assert published.stdout == ""  # the lines went to Kafka instead
    got = consume(cluster.bootstrap, "signals", len(printed))
    assert [value for _, value, _ in got] == printed  # one key: every line, once, in order
    assert {key for key, _, _ in got} == {"replay:BTCUSDT:1h"}


async def test_stream_publishes_every_candle_keyed_by_its_stream_and_flushes_on_ctrl_c(cluster: MockCluster) -> None:
    """Two symbols from the simulator over loopback into the mock cluster; Ctrl+C flushes."""
    import asyncio
    import signal

    from cryptoai_tui.sim.config import SimConfig
    from cryptoai_tui.sim.server import SimExchange

    async with SimExchange(SimConfig(speed=600, seed=21)) as sim:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cryptoai_tui", "stream", "BTCUSDT", "ETHUSDT", "--interval", "1m",
            "--history", "5", "--exchange", "binance", "--ws-url", sim.ws_url, "--rest-url", sim.rest_url,
            "--sink", f"kafka://{cluster.bootstrap}/candles",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None
        seen = b""
        while b"Live" not in seen and b"live" not in seen:  # the feed says it is streaming
            line = await asyncio.wait_for(process.stderr.readline(), 30)
            assert line, f"stream ended early: {seen.decode()}"
            seen += line
        await asyncio.sleep(1.5)  # a few candles close meanwhile (a 1m candle every 0.1 s)
        process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 130, err.decode()
    assert out == b""  # every candle went to Kafka
    got = await asyncio.to_thread(consume, cluster.bootstrap, "candles", 12)
    assert len(got) >= 12
    closes: dict[str, list[int]] = defaultdict(list)
    for key, value, _ in got:
        item = json.loads(value)
        assert key == f"binance:{item['symbol']}:1m"
        closes[key].append(item["open_time"])
    assert set(closes) == {"binance:BTCUSDT:1m", "binance:ETHUSDT:1m"}
    for key, times in closes.items():
        assert times == sorted(set(times)), f"{key}: a candle twice or out of order"
