"""Start-up: how long `cryptoai-tui --exchange sim` takes to draw the Lab's first frame.

The app runs unmodified, as a user runs it, in a pseudo-terminal of 120x40 that this script
reads: the clock stops when the Lab's title ("Strategy Lab") has been written to the
terminal, which Textual does in its first full-screen refresh, and the app's process group
is then ended. No hook in product code, no environment switch: what is timed is exactly the
process a user starts, with its bytecode cached as an installed package has it
(PYTHONDONTWRITEBYTECODE is dropped from the environment).

On a shared machine one figure means little, so each trial also times
`python -c "import textual.app"` (the floor any Textual app pays) back to back, and the
report gives the medians and their ratio.

Prints JSON: first_frame_s (median and every trial), import_textual_app_s (same),
ratio (median first frame / median textual import), target_s (0.45) and the load average.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = b"Strategy Lab"
TRIALS = 7
TIMEOUT_S = 20.0
TARGET_S = 0.45
SIZE = (40, 120)  # rows, columns


def app_command() -> list[str]:
    script = Path(sys.executable).with_name("cryptoai-tui")
    if script.exists():
        return [str(script), "--exchange", "sim"]
    return [sys.executable, "-m", "cryptoai_tui", "--exchange", "sim"]


def first_frame(command: list[str]) -> float:
    """Seconds from spawning `command` in a fresh pty to MARKER appearing on its screen."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[0], SIZE[1], 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(SIZE[1]), LINES=str(SIZE[0]))
    # PYTHONDONTWRITEBYTECODE (set in some shells and CI) would make every run compile the
    # package from source, which an installed app never does, and defeat the warm-up run.
    for name in ("TEXTUAL", "TEXTUAL_DRIVER", "PYTEST_CURRENT_TEST", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env,
        start_new_session=True, close_fds=True,
    )
    os.close(slave)
    seen = b""
    try:
        while True:
            left = TIMEOUT_S - (time.perf_counter() - started)
            if left <= 0:
                raise RuntimeError(f"no first frame within {TIMEOUT_S:g} s; output: {seen[-400:]!r}")
            ready, _, _ = select.select([master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the app exited and the pty closed
                raise RuntimeError(f"the app exited before drawing; output: {seen[-400:]!r}")
            seen += chunk
            if MARKER in seen:
                return time.perf_counter() - started
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
        os.close(master)


def import_textual_app() -> float:
    started = time.perf_counter()
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", "import textual.app"], check=True, cwd=ROOT, env=env)
    return time.perf_counter() - started


def main() -> int:
    command = app_command()
    load = [round(x, 2) for x in os.getloadavg()]
    first_frame(command)  # warm the file cache and the .pyc files; not counted
    frames, imports = [], []
    for _ in range(TRIALS):
        imports.append(import_textual_app())
        frames.append(first_frame(command))
    frame_s, import_s = statistics.median(frames), statistics.median(imports)
    print(json.dumps({
        "command": " ".join(Path(command[0]).name if i == 0 else part
                            for i, part in enumerate(command)),
        "trials": TRIALS,
        "first_frame_s": {"median": round(frame_s, 3), "all": [round(x, 3) for x in frames]},
        "import_textual_app_s": {"median": round(import_s, 3),
                                 "all": [round(x, 3) for x in imports]},
        "ratio": round(frame_s / import_s, 2),
        "target_s": TARGET_S,
        "within_target": frame_s <= TARGET_S,
        "load_average": load,
    }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
