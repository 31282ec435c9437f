"""Publishing JSON lines to Kafka with confluent-kafka (librdkafka), never silently.

Each line is one message keyed by `exchange:symbol:interval`. The producer is idempotent
(acks from all in-sync replicas, retries without duplicates or reordering), so every line
is written once and the lines of one key stay in order in their partition. The partitioner
is murmur2, the Java client's default, so any other producer keying the same way lands on
the same partitions.

Delivery reports and client errors arrive on the calling thread when the producer is
polled (after each line and at close); each failure is counted, and the first few are said
on stderr with a summary at close. `close` waits for the broker (FLUSH_TIMEOUT_S) and
counts whatever is still unsent as undelivered.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from confluent_kafka import KafkaError, Message, Producer

from cryptoai_tui.errors import UserFacingError
from cryptoai_tui.sinks import LineOutput, LineSplitter

FLUSH_TIMEOUT_S = 15.0
ERRORS_SAID = 5  # individual failures said on stderr; the rest are counted in the summary


class KafkaSink:
    def __init__(
        self, brokers: str, topic: str, *, options: Mapping[str, str] | None = None, err: TextIO | None = None,
        flush_timeout_s: float = FLUSH_TIMEOUT_S,
    ) -> None:
        self.topic = topic
        self.description = f"kafka://{brokers}/{topic}"
        self._err = err
        self._flush_timeout_s = flush_timeout_s
        self.produced = 0
        self.delivered = 0
        self.failed = 0
        self._said = 0
        self._broker_errors: list[str] = []
        config: dict[str, Any] = {
            "bootstrap.servers": brokers,
            "enable.idempotence": True,
            "partitioner": "murmur2_random",
            "linger.ms": 5,
            "log_level": 0,  # librdkafka's own log lines would bypass this module's sentences
            "error_cb": self._on_error,
        }
        config.update(options or {})
        try:
            self._producer = Producer(config)
        except Exception as error:  # KafkaException for an unknown or bad option
            raise UserFacingError(f"Cannot open the Kafka sink {self.description}: {error}.") from None

    @property
    def err(self) -> TextIO:
        return self._err if self._err is not None else sys.stderr

    def write(self, line: str, key: str) -> None:
        data = line.encode("utf-8")
        while True:
            try:
                self._producer.produce(self.topic, value=data, key=key.encode("utf-8"), on_delivery=self._delivered)
                break
            except BufferError:  # the local queue is full: let the broker drain it, then retry
                self._producer.poll(0.1)
        self.produced += 1
        self._producer.poll(0)

    def text(self, key: str | None = None) -> LineOutput:
        return LineSplitter(self, key)

    def close(self) -> int:
        """Flush; returns how many lines were not delivered (each one already counted)."""
        left = self._producer.flush(self._flush_timeout_s)
        if left:
            self.failed += left
            self._say(f"{left} lines were still unsent after {self._flush_timeout_s:g} s and are lost")
        if self.failed:
            self._say(f"{self.failed} of {self.produced} lines were not delivered to {self.description}", always=True)
        return self.failed

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is None:
            self.delivered += 1
            return
        self.failed += 1
        self._say(f"a line for {self._key_of(message)} was not delivered to {self.description}: {error.str()}")

    def _on_error(self, error: KafkaError) -> None:
        """Client-level trouble (a broker down, all brokers down): said once per kind."""
        text = error.str()
        kind = error.name()
        if kind not in self._broker_errors:
            self._broker_errors.append(kind)
            self._say(f"Kafka: {text}", always=True)

    @property
    def broker_errors(self) -> tuple[str, ...]:
        """The kinds of client errors seen (e.g. _TRANSPORT, _ALL_BROKERS_DOWN)."""
        return tuple(self._broker_errors)

    @staticmethod
    def _key_of(message: Message) -> str:
        key = message.key()
        return key.decode("utf-8", "replace") if isinstance(key, bytes) else "?"

    def _say(self, sentence: str, *, always: bool = False) -> None:
        if not always:
            if self._said >= ERRORS_SAID:
                return
            self._said += 1
        print(f"cryptoai-tui: {sentence}.", file=self.err, flush=True)
