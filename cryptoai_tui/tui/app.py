"""The Textual app and its one factory.

`make_app` is the only way an app is built: the CLI calls it with the real collaborators,
tests call it with real ones aimed at a replay or the simulator (posting's `make_posting`).
Nothing in here parses argv or reads the environment.
"""

from __future__ import annotations

import asyncio
import signal
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

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
    journal_and_alert_hooks,
    load_exchange_symbols,
)
from cryptoai_tui.tui.session import AppConfig, LabChoices, LabStep, LiveSession

if TYPE_CHECKING:
    from cryptoai_tui.config import LastChoices, Settings
    from cryptoai_tui.tui.screens.asset_picker import FavouriteToggled
    from cryptoai_tui.tui.screens.lab import LabChoicesChanged
    from cryptoai_tui.tui.screens.live import LiveSessionStarted

THEME = "textual-dark"


def last_choices(choice: LiveSession | LabChoices) -> LastChoices:
    """A choice as the config file remembers it (`--strategies` spelling, mode name)."""
    from cryptoai_tui.config import LastChoices

    return LastChoices(
        exchange=choice.exchange, symbol=choice.symbol, interval=choice.interval,
        strategies=";".join(str(spec) for spec in choice.strategies) or None, mode=choice.mode.value,
    )


class CryptoAIApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "cryptoai-tui"
    BINDINGS = [Binding("q", "quit", "Quit", tooltip="quit (Ctrl+Q works everywhere, even while typing)")]

    def __init__(
        self, config: AppConfig, services: Services, *, sim_speed: float | None = None,
        settings: Settings | None = None,
    ) -> None:
        """`sim_speed`: how much faster than real time the in-app simulator runs (known
        before the engine can measure it, so the candle countdown is right from the start).
        `settings`: the config file's favourites, last choices and theme (None: nothing is
        remembered, as in tests and screenshots)."""
        super().__init__()
        self.config = config
        self.services = services
        self.sim_speed = sim_speed
        if settings is None:
            from cryptoai_tui.config import Settings

            settings = Settings(None)
        self.settings = settings
        self._theme_restored = False  # the remembered theme is being applied, not chosen

    def on_mount(self) -> None:
        # Set here rather than left to TEXTUAL_THEME, so screenshots do not depend on the shell.
        remembered = self.settings.theme
        self.theme = remembered if remembered in self.available_themes else THEME
        self._theme_restored = True
        self._handle_sigterm(True)
        if self.settings.warning:
            self.notify(self.settings.warning, title="Config file", severity="warning", timeout=12, markup=False)

    def watch_theme(self, theme: str) -> None:
        """A theme chosen in the command palette is the theme of the next run too."""
        if self._theme_restored:
            self.settings.set_theme(theme)
            self._say_save_error()

    def on_live_session_started(self, message: LiveSessionStarted) -> None:
        self.settings.remember(last_choices(message.session))
        self._say_save_error()

    def on_lab_choices_changed(self, message: LabChoicesChanged) -> None:
        self.settings.remember(last_choices(message.choices))
        self._say_save_error()

    def on_favourite_toggled(self, message: FavouriteToggled) -> None:
        self.settings.toggle_favourite(message.symbol)
        self._say_save_error()

    def _say_save_error(self) -> None:
        error = self.settings.save_error
        if error:
            self.settings.save_error = None
            self.notify(error, title="Config file", severity="error", timeout=8, markup=False)

    def on_unmount(self) -> None:
        self._handle_sigterm(False)

    def _handle_sigterm(self, install: bool) -> None:
        """SIGTERM (a `kill`, a closing terminal multiplexer, systemd) exits like q: the live
        screen unmounts, the engine stops (close frames sent) and the terminal is restored,
        instead of the process dying with the screen in the alternate buffer and the socket
        unclosed; the exit status is still 143, so a script sees it was terminated."""
        try:
            loop = asyncio.get_running_loop()
            if install:
                loop.add_signal_handler(signal.SIGTERM, self._terminated)
            else:
                loop.remove_signal_handler(signal.SIGTERM)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # no signal handlers here (Windows, or not the main thread): nothing to undo

    def _terminated(self) -> None:
        # 128 + 15, as a shell reports a process SIGTERM stopped, like `stream` and `signals`
        self.exit(return_code=128 + signal.SIGTERM)

    def action_open_journal(self) -> None:
        """The Journal screen (j on the Lab and the live screen)."""
        from cryptoai_tui.tui.screens.journal import JournalScreen

        self.push_screen(JournalScreen(self.services.journal_path))

    def action_open_alerts(self) -> None:
        """The Alerts screen (a on the Lab and the live screen)."""
        from cryptoai_tui.tui.screens.alerts import AlertsScreen

        self.push_screen(AlertsScreen(self.services.config_path, self.services.journal_path))

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
            yield SystemCommand("Live: change the asset", "Switch this screen to another symbol", screen.action_switch_asset)
            yield SystemCommand("Live: change the strategies", "Restart the engine on other strategies",
                                screen.action_switch_strategies)
            yield SystemCommand("Live: change the timeframe", "Switch this screen to another interval",
                                screen.action_switch_timeframe)
            if screen.session.exchange != SIM_EXCHANGE:
                yield SystemCommand(
                    "Live: use the simulated exchange", "Restart this session on the built-in simulator",
                    screen.action_switch_to_sim,
                )


def make_app(
    config: AppConfig,
    *,
    journal_path: Path | None = None,
    config_path: Path | None = None,
    symbols_loader: SymbolsLoader | None = None,
    engine_factory: EngineFactory | None = None,
    clock: Clock = time.time,
    catalogue: Catalogue | None = None,
    sim_speed: float | None = None,
    settings: Settings | None = None,
) -> CryptoAIApp:
    """Build the app. The defaults talk to real exchanges (or start the simulator for "sim",
    as `config.simulator` says).

    `journal_path`: where live sessions journal their confirmed signals and the Journal
    screen reads (None: no journal); `config_path`: the config whose alert rules sessions
    fire and the Alerts screen edits (None: no alerts). The CLI passes both.

    `sim_speed` is the in-app simulator's speed; default: `config.simulator`'s
    (`--sim-speed`), else the speed the wiring starts the simulator with.
    """
    from cryptoai_tui.wiring import DEMO_SIM_SPEED

    if sim_speed is None:
        sim_speed = config.simulator.speed if config.simulator is not None else DEMO_SIM_SPEED
    services = Services(
        catalogue=catalogue if catalogue is not None else default_catalogue(),
        symbols=SymbolDirectory(symbols_loader or partial(load_exchange_symbols, simulator=config.simulator)),
        engine_factory=engine_factory or partial(engine_for_session, simulator=config.simulator),
        clock=clock,
        frame_rate=config.frame_rate,
        journal_path=journal_path,
        config_path=config_path,
        session_hooks=journal_and_alert_hooks(journal_path, config_path)
        if journal_path is not None or config_path is not None else None,
    )
    return CryptoAIApp(config, services, sim_speed=sim_speed, settings=settings)
