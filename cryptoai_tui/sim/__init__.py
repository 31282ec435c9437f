"""The built-in simulated exchange: Binance and Bybit wire protocols over real loopback
sockets, a seeded market (or a replayed CSV), and faults as knobs.

Import the server lazily (`from cryptoai_tui.sim.server import SimExchange`): this package
is light on purpose so `cryptoai_tui.sim.config` can be imported on the start-up path.
"""
