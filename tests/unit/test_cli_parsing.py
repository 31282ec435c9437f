"""The command line reads what the user means and says a mistake in one sentence."""

from __future__ import annotations

import pytest

from cryptoai_tui.cli import build_parser, main


def parse(*argv: str):  # type: ignore[no-untyped-def]
    return build_parser().parse_args(list(argv))


def refusal(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(list(argv))
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


def test_choices_are_case_insensitive() -> None:
    args = parse("--mode", "ALL", "--exchange", "Binance")
    assert (args.mode, args.exchange) == ("all", "binance")
    args = parse("signals", "--symbol", "BTCUSDT", "--strategies", "rsi", "--mode", "Majority", "--exchange", "SIM")
    assert (args.mode, args.exchange) == ("majority", "sim")
    assert parse("stream", "BTCUSDT", "--format", "CSV").format == "csv"


def test_mode_takes_a_positive_k_as_text_for_the_engine() -> None:
    assert parse("--mode", "2").mode == "2"
    assert parse("signals", "--symbol", "BTCUSDT", "--strategies", "rsi,macd", "--mode", "3").mode == "3"


def test_a_bad_choice_is_one_sentence_with_the_valid_values_not_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    err = refusal(capsys, "--exchange", "kraken")
    assert err.count("\n") == 1 and "usage:" not in err
    assert err.startswith("cryptoai-tui: --exchange 'kraken' is not an exchange. Valid values: binance,")
    assert "sim" in err
    err = refusal(capsys, "signals", "--symbol", "BTCUSDT", "--strategies", "rsi", "--mode", "most")
    assert err.count("\n") == 1 and "usage:" not in err
    assert "--mode 'most' is not a confluence mode. Valid values: all, any, majority" in err
    err = refusal(capsys, "--mode", "0")
    assert "--mode '0' is not a confluence mode" in err


@pytest.mark.parametrize("argv,option", [
    (("--symbol", ""), "--symbol"),
    (("--interval", " "), "--interval"),
    (("--strategies", ""), "--strategies"),
    (("stream", ""), "SYMBOL"),
    (("signals", "--symbol", "", "--strategies", "rsi"), "--symbol"),
    (("sim", "--host", ""), "--host"),
])
def test_empty_values_are_refused(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], option: str) -> None:
    err = refusal(capsys, *argv)
    assert f"{option} is empty" in err and err.count("\n") == 1


@pytest.mark.parametrize("argv,fragment", [
    (("stream", "BTCUSDT", "--ws-url", "notaurl"), "--ws-url 'notaurl' must start with ws:// or wss://"),
    (("stream", "BTCUSDT", "--ws-url", "http://127.0.0.1:8765"), "must start with ws:// or wss://"),
    (("--rest-url", "ws://127.0.0.1:8765"), "--rest-url 'ws://127.0.0.1:8765' must start with http://"),
    (("signals", "--symbol", "BTCUSDT", "--strategies", "rsi", "--rest-url", "http://u:secret@"),
     "--rest-url 'http://u:***@' names no host"),
])
def test_a_url_that_can_never_connect_is_refused_before_anything_starts(
        capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], fragment: str) -> None:
    err = refusal(capsys, *argv)
    assert fragment in err and "secret" not in err


def test_sim_options_parse_and_are_refused_off_the_simulator(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse("stream", "BTCUSDT", "--exchange", "sim", "--seed", "12", "--sim-speed", "1")
    assert (args.seed, args.sim_speed) == (12, 1.0)
    assert "--sim-speed must be a number above 0" in refusal(capsys, "--sim-speed", "0")
    assert main(["stream", "BTCUSDT", "--seed", "3"]) == 2
    assert "--seed only applies to the built-in simulator; add --exchange sim" in capsys.readouterr().err


def test_a_user_facing_error_never_prints_a_url_password(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["stream", "BTCUSDT", "--history", "-1", "--rest-url", "http://u:hunter2@127.0.0.1:9"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("cryptoai-tui: --history must be between") and "hunter2" not in err


def test_the_sim_warns_when_other_machines_can_reach_it() -> None:
    from cryptoai_tui.commands.sim import exposure_warning

    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"):
        assert exposure_warning(host) is None, host
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.org"):
        warning = exposure_warning(host)
        assert warning is not None and f"listening on {host}" in warning and "--host 127.0.0.1" in warning


def test_python_dash_m_cli_prints_one_sentence_too() -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "cryptoai_tui.cli", "--interval", "7x", "--exchange", "BINANCE"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("cryptoai-tui: '7x' is not a timeframe Binance offers.")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
