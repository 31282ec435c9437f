"""Tuning knobs of a live feed, gathered in one value so tests can shrink every timeout."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """How patient a KlineFeed is, and how hard it may push an exchange.

    The defaults suit real exchanges: Binance pushes a kline every 2 s, so 30 s of silence
    means a dead or stalled socket, not a quiet market. Tests against the simulator use
    short timeouts and a fixed `seed` so the jittered delays are reproducible.
    """

    #: no frame at all on a connection for this long -> STALLED, then reconnect
    stall_timeout_s: float = 30.0
    #: reconnect delays: full jitter in [0, min(cap, base * 2**failures)]
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 60.0
    #: a connection that delivered valid klines and stayed up this long was healthy: the
    #: failure count resets and the next attempt is immediate (issue 9 §4; <= 10 s)
    backoff_reset_after_s: float = 1.0
    #: seed of the jitter; None draws from the system
    seed: int | None = None
    connect_timeout_s: float = 10.0
    #: a feed that has not connected once gives up after this many failed attempts in a
    #: row (NeverConnectedError; about 3.5 s of backoff at the defaults), so a command aimed
    #: at a dead address ends instead of retrying forever; None keeps trying (the app, which
    #: shows the countdown and offers the simulator). Once connected, a feed keeps trying.
    connect_attempts: int | None = 4
    rest_timeout_s: float = 10.0
    #: REST requests in flight at once (bootstrap of many streams, gap repairs)
    rest_concurrency: int = 4
    #: after a region block (HTTP 451/403) try again this rarely: it rarely fixes itself
    region_block_retry_s: float = 300.0
    #: wait this long after a jump in open_time before asking REST: a reordered frame
    #: usually fills the hole by itself within a few messages
    gap_grace_s: float = 0.25
    #: REST may lag the socket by a moment; re-ask this many times before accepting
    #: that the exchange itself has no candles in a range (maintenance holes exist)
    hole_retries: int = 2
    hole_retry_delay_s: float = 1.0
    #: use this share of the exchange's incoming-message budget for our frames, leaving
    #: room for pongs the WebSocket library sends on its own
    send_rate_share: float = 0.8
    #: longest WebSocket URL we build; streams that do not fit are subscribed by message
    max_url_length: int = 2000
    #: reconnect this long before the exchange's forced lifetime (Binance: 24 h) ends
    lifetime_margin_s: float = 600.0
    #: override the exchange's forced connection lifetime (tests); None uses the exchange's
    max_connection_lifetime_s: float | None = None
    #: seconds between client heartbeats where the exchange wants them (Bybit); None uses
    #: the exchange's recommendation (20 s)
    ping_interval_s: float | None = None
    #: during a planned reconnect the old socket keeps reading this long after the new one
    #: is subscribed, so no update falls between them (duplicates are dropped)
    handover_overlap_s: float = 2.0
    #: refused frames and rows are said once per reason at once, then summed up this often
    refusal_summary_s: float = 60.0
    #: a kline opening more than this many intervals after the exchange's clock is refused
    future_intervals: int = 3
    #: a bootstrap whose REST history is malformed this many times in a row goes live on
    #: the WebSocket without it (and says so) instead of waiting forever
    bootstrap_malformed_tries: int = 3
    #: ... and retries that history in the background, first after this long, the delay
    #: doubling up to `history_retry_cap_s`; when it arrives the stream restarts with it
    #: (FeedStatus.reset) so strategies do not warm up from live candles for hours
    history_retry_base_s: float = 5.0
    history_retry_cap_s: float = 60.0
