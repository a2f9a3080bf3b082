"""The progress line printed while training."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping


def _duration(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


class Progress:
    """A progress bar with per-task loss and speed.

    On a terminal the bar redraws in place; otherwise (logs, CI) each update
    is one line.

    Args:
        total: the run's last step.
        start: the step the run starts (or resumes) at.
        stream: where to print.
    """

    def __init__(self, total: int, start: int = 0, stream=None):
        self.total = total
        self.start = start
        self.stream = stream or sys.stderr
        self.interactive = getattr(self.stream, "isatty", lambda: False)()
        self.started = time.monotonic()

    def update(self, step: int, losses: Mapping[str, float]) -> None:
        elapsed = time.monotonic() - self.started
        rate = (step - self.start) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - step) / rate if rate > 0 else 0.0
        width = 24
        done = int(width * step / self.total)
        bar = "=" * done + (">" if done < width else "") + " " * max(width - done - 1, 0)
        parts = " ".join(f"{name} {value:.4f}" for name, value in losses.items())
        line = (f"[{bar}] {step}/{self.total} | loss {parts} | {rate:.1f} steps/s, "
                f"eta {_duration(eta)}")
        if self.interactive:
            self.stream.write("\r" + line + "\033[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """Prints a line (e.g. dev metrics) without breaking the bar."""
        self.stream.write(("\r\033[K" if self.interactive else "") + text + "\n")
        self.stream.flush()
