"""The Textual app and its one factory.

`make_app` is the only way an app is built: the CLI calls it with the real collaborators,
tests call it with real ones aimed at a replay or the simulator (posting's `make_posting`).
Nothing in here parses argv or reads the environment.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from cryptoai_tui.tui.catalogue import Catalogue, default_catalogue
from cryptoai_tui.tui.screens.lab import LabScreen
from cryptoai_tui.tui.services import (
    Clock,
    EngineFactory,
    Services,
    SymbolDirectory,
    SymbolsLoader,
    engine_for_session,
    load_exchange_symbols,
)
from cryptoai_tui.tui.session import AppConfig, LabStep

THEME = "textual-dark"


class CryptoAIApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "cryptoai-tui"
    BINDINGS = [Binding("q", "quit", "Quit")]

    def __init__(self, config: AppConfig, services: Services) -> None:
        super().__init__()
        self.config = config
        self.services = services

    def on_mount(self) -> None:
        # Set here rather than left to TEXTUAL_THEME, so screenshots do not depend on the shell.
        self.theme = THEME

    def get_default_screen(self) -> LabScreen:
        return LabScreen(self.config, self.services)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The screen's own steps and keys, findable by name in the command palette."""
        from cryptoai_tui.tui.screens.live import SIM_EXCHANGE, LiveScreen

        yield from super().get_system_commands(screen)
        if isinstance(screen, LabScreen):
            for step in LabStep:
                yield SystemCommand(
                    f"Lab: {step.value} {step.title}", f"Open the {step.title.lower()} step",
                    partial(screen.action_open_step, step.value),
                )
        elif isinstance(screen, LiveScreen):
            yield SystemCommand("Live: back to the Lab", "Stop the feed and return", screen.action_back)
            yield SystemCommand("Live: pause or resume", "Stop or restart drawing", screen.action_pause)
            yield SystemCommand("Live: next confluence mode", "ALL → ANY → MAJORITY", screen.action_cycle_mode)
            yield SystemCommand("Live: show or hide the chart", "Toggle the candle chart", screen.action_toggle_chart)
            if screen.session.exchange != SIM_EXCHANGE:
                yield SystemCommand(
                    "Live: use the simulated exchange", "Restart this session on the built-in simulator",
                    screen.action_switch_to_sim,
                )


def make_app(
    config: AppConfig,
    *,
    symbols_loader: SymbolsLoader = load_exchange_symbols,
    engine_factory: EngineFactory = engine_for_session,
    clock: Clock = time.time,
    catalogue: Catalogue | None = None,
) -> CryptoAIApp:
    """Build the app. The defaults talk to real exchanges (or start the simulator for "sim")."""
    services = Services(
        catalogue=catalogue if catalogue is not None else default_catalogue(),
        symbols=SymbolDirectory(symbols_loader),
        engine_factory=engine_factory,
        clock=clock,
        frame_rate=config.frame_rate,
    )
    return CryptoAIApp(config, services)
