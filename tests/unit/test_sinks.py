"""`--sink` values: stdout by default, kafka:// parsed into brokers and topic, and every
mistake (or a missing [kafka] extra) one sentence."""

from __future__ import annotations

import io
import sys

import pytest

from cryptoai_tui.errors import UserFacingError
from cryptoai_tui.sinks import LineSplitter, StdoutSink, key_of_line, open_sink, sink_key


def test_no_sink_is_stdout_as_before() -> None:
    for url in (None, "", "-", "stdout"):
        assert isinstance(open_sink(url), StdoutSink)
    out = io.StringIO()
    sink = StdoutSink(out)
    assert sink.text() is out
    sink.write('{"a":1}', "k")
    assert out.getvalue() == '{"a":1}\n' and sink.close() == 0


@pytest.mark.parametrize("url, words", [
    ("http://127.0.0.1:9092/t", "is not a sink this version knows"),
    ("kafka://127.0.0.1:9092", "needs brokers and one topic"),
    ("kafka:///signals", "needs brokers and one topic"),
    ("kafka://h:1/a/b", "needs brokers and one topic"),
])
def test_bad_sink_urls_are_one_sentence(url: str, words: str) -> None:
    with pytest.raises(UserFacingError, match=words):
        open_sink(url)


def test_without_the_extra_kafka_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "confluent_kafka", None)  # import fails as if not installed
    monkeypatch.delitem(sys.modules, "cryptoai_tui.sinks.kafka", raising=False)
    with pytest.raises(UserFacingError) as info:
        open_sink("kafka://127.0.0.1:9092/signals")
    assert 'pip install "cryptoai-tui[kafka]"' in str(info.value)


def test_lines_are_keyed_by_their_stream() -> None:
    assert sink_key("binance", "BTCUSDT", "1m") == "binance:BTCUSDT:1m"
    assert key_of_line('{"exchange":"sim","symbol":"ETHUSDT","interval":"5m","close":1}') == "sim:ETHUSDT:5m"
    with pytest.raises(ValueError, match="needs exchange, symbol and interval"):
        key_of_line('{"close": 1}')


class _Recorder:
    description = "recorder"

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def write(self, line: str, key: str) -> None:
        self.lines.append((line, key))


def test_the_splitter_sends_each_complete_line_once() -> None:
    recorder = _Recorder()
    out = LineSplitter(recorder, "k")  # type: ignore[arg-type]
    out.write('{"n":1}\n{"n"')
    out.write(':2}\n')
    out.flush()
    assert recorder.lines == [('{"n":1}', "k"), ('{"n":2}', "k")]
