"""Logging set-up shared by the CLI and training runs."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str | int = "INFO", file: str | Path | None = None) -> logging.Logger:
    """Configure the root logger once: stderr, and optionally a log file (appended).

    Calling it again replaces the handlers, so repeated CLI calls in one process
    (tests) do not duplicate lines.
    """
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if file is not None:
        Path(file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(file, encoding="utf-8"))
    for h in handlers:
        h.setFormatter(logging.Formatter(FORMAT, datefmt="%H:%M:%S"))
        root.addHandler(h)
    root.setLevel(level if isinstance(level, int) else level.upper())
    # Third-party chatter stays at WARNING unless we debug.
    for noisy in ("PIL", "matplotlib", "urllib3", "ultralytics"):
        logging.getLogger(noisy).setLevel(max(root.level, logging.WARNING))
    return root
