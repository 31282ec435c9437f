from __future__ import annotations

from cryptoai_tui.exchanges.redact import mask_secrets, mask_url


def test_mask_url_hides_the_password_and_keeps_user_host_and_path() -> None:
    assert mask_url("http://user:password@127.0.0.1:8765/api") == "http://user:***@127.0.0.1:8765/api"
    assert mask_url("wss://alice:s3cr%40t@proxy.example/ws?x=1") == "wss://alice:***@proxy.example/ws?x=1"


def test_mask_url_hides_a_lone_token_in_the_user_part() -> None:
    assert mask_url("tgram://123456:ABCDEF@telegram/") == "tgram://123456:***@telegram/"
    assert mask_url("https://ghp_token@host/x") == "https://***@host/x"


def test_mask_url_leaves_urls_without_credentials_alone() -> None:
    assert mask_url("https://api.binance.com/api/v3") == "https://api.binance.com/api/v3"
    assert mask_url("not a url") == "not a url"


def test_mask_secrets_masks_every_url_inside_free_text() -> None:
    text = "Could not reach http://u:pw@10.0.0.1:9/x (refused); retrying wss://t0k@h/ws"
    masked = mask_secrets(text)
    assert "pw" not in masked and "t0k" not in masked
    assert masked == "Could not reach http://u:***@10.0.0.1:9/x (refused); retrying wss://***@h/ws"
