"""Where the JSON-line commands (`signals`, `stream`, `watch`) send their lines.

`open_sink(None)` is stdout, exactly as before; `open_sink("kafka://HOST:PORT/TOPIC")`
publishes each line to Kafka keyed by `exchange:symbol:interval`, so every stream stays in
order within its partition while symbols are spread over many machines and partitions.

The Kafka client (confluent-kafka, the optional `[kafka]` extra) is imported only when a
kafka:// sink is opened, so stdout runs never pay for it.

API for a command:

    sink = open_sink(args.sink)           # UserFacingError for a bad URL or a missing extra
    out = sink.text(key="sim:BTCUSDT:1m")  # a file-like object: write() lines, flush()
    ...                                   # or sink.write(line, sink_key(exchange, symbol, interval))
    undelivered = sink.close()            # flushed; failures already said on stderr
"""

from __future__ import annotations

import json
import sys
from typing import Protocol, TextIO
from urllib.parse import parse_qsl, urlsplit

from cryptoai_tui.errors import UserFacingError

KAFKA_EXTRA_HINT = 'pip install "cryptoai-tui[kafka]"'


def sink_key(exchange: str, symbol: str, interval: str) -> str:
    """The partition key of one stream: all its lines land in one partition, in order."""
    return f"{exchange}:{symbol}:{interval}"


class LineOutput(Protocol):
    """What a printer writes to: `sys.stdout`, or a sink's line splitter."""

    def write(self, text: str) -> int: ...

    def flush(self) -> None: ...


class Sink(Protocol):
    """A destination for JSON lines; `close` flushes and returns how many were not delivered."""

    @property
    def description(self) -> str: ...

    def write(self, line: str, key: str) -> None: ...

    def text(self, key: str | None = None) -> LineOutput: ...

    def close(self) -> int: ...


class StdoutSink:
    """Lines on stdout, as the commands always printed them (their writer flushes)."""

    description = "stdout"

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out

    @property
    def out(self) -> TextIO:
        return self._out if self._out is not None else sys.stdout

    def write(self, line: str, key: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def text(self, key: str | None = None) -> LineOutput:
        return self.out

    def close(self) -> int:
        self.out.flush()
        return 0


class LineSplitter:
    """A file-like front for a keyed sink: each complete line written becomes one message.

    `key` None takes the key from the line's own `exchange`, `symbol` and `interval` fields
    (the `stream` command's lines carry them); a line without them is refused loudly rather
    than sent under a made-up key.
    """

    def __init__(self, sink: Sink, key: str | None) -> None:
        self._sink = sink
        self._key = key
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if line:
                self._sink.write(line, self._key or key_of_line(line))
        return len(text)

    def flush(self) -> None:
        pass  # every complete line has been handed to the sink already


def key_of_line(line: str) -> str:
    try:
        item = json.loads(line)
        return sink_key(str(item["exchange"]), str(item["symbol"]), str(item["interval"]))
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"Cannot key this line for the sink (it needs exchange, symbol and interval): {line[:80]}") from None


def open_sink(url: str | None, *, err: TextIO | None = None) -> Sink:
    """The sink a `--sink` value names: None, "-" or "stdout" for stdout, or
    kafka://HOST:PORT[,HOST:PORT...]/TOPIC[?librdkafka.option=value&...]."""
    if url is None or url.strip() in ("", "-", "stdout"):
        return StdoutSink()
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme != "kafka":
        raise UserFacingError(
            f"--sink {text!r} is not a sink this version knows; use stdout or kafka://HOST:PORT/TOPIC."
        )
    brokers = parts.netloc
    topic = parts.path.strip("/")
    if not brokers or not topic or "/" in topic:
        raise UserFacingError(f"--sink {text!r} needs brokers and one topic, e.g. kafka://127.0.0.1:9092/signals.")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    try:
        from cryptoai_tui.sinks.kafka import KafkaSink
    except ImportError:
        raise UserFacingError(
            f"--sink kafka://... needs the Kafka client, which is not installed: {KAFKA_EXTRA_HINT}"
        ) from None
    return KafkaSink(brokers, topic, options=options, err=err)
