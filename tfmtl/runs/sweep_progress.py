"""A progress bar over the runs of a sweep: done, running, failed, cached, and an ETA.

On a terminal the bar is one line redrawn in place (every second, and at every
event); anywhere else (a log file, CI) each ended run prints its line and then
the bar as a line of its own, so a log holds no carriage returns.

The ETA is estimated from the runs that ended: their mean duration (from
their start to their end) times the work left (the time still expected of
each running run, plus a whole run per run not started), spread over the
runs that execute at once (the executor's slots, else the most that ran at
once so far). Until a run has ended it shows ``ETA ?``.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

_WIDTH = 20


def format_duration(seconds: float | None) -> str:
    """``?``, ``42s``, ``3:07`` or ``1:02:03``."""
    if seconds is None:
        return "?"
    seconds = int(round(max(0.0, seconds)))
    if seconds < 60:
        return f"{seconds}s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class SweepProgress:
    """Counts the runs of a sweep as they start and end, and shows a bar with an ETA.

    The bar's target is the runs to execute (cached runs are counted apart, so
    they do not make the ETA look shorter than it is).

    Args:
        total: runs to execute.
        cached: runs found finished in the store before the sweep started.
        stream: where the bar and one line per ended run go (default: stdout).
        bar: show the bar (False: only the lines of ended runs).
        slots: runs that execute at once (None: the most seen running at once).
        clock: seconds, monotonic (tests pass a fake one).
    """

    def __init__(self, total: int, cached: int = 0, stream: TextIO | None = None,
                 bar: bool = True, slots: int | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.total = total
        self.counts = {"done": 0, "running": 0, "failed": 0, "cached": cached}
        self.stream = stream or sys.stdout
        self.slots = slots
        self._clock = clock
        self._start = clock()
        self._started: dict[str, float] = {}
        self._durations: list[float] = []
        self._most_running = 0
        self._bar = bar and total > 0
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = None
        if self._bar:
            self._draw()
            if self._tty:
                self._ticker = threading.Thread(target=self._tick, daemon=True)
                self._ticker.start()

    @property
    def ended(self) -> int:
        return self.counts["done"] + self.counts["failed"]

    def eta(self) -> float | None:
        """Seconds until the last run ends, or None before any run has ended."""
        if not self._durations:
            return None
        mean = sum(self._durations) / len(self._durations)
        now = self._clock()
        running = [max(0.0, mean - (now - t)) for t in self._started.values()]
        waiting = max(0, self.total - self.ended - len(running))
        parallel = max(1, self.slots or self._most_running or 1)
        spread = (sum(running) + waiting * mean) / parallel
        return max(spread, max(running, default=0.0))

    def line(self) -> str:
        """The bar: ``[#####...] 2/4 runs - done 2 - running 2 - failed 0 - cached 1 -
        1:10 elapsed - ETA 2:20``."""
        filled = _WIDTH * self.ended // self.total if self.total else _WIDTH
        counts = " - ".join(f"{k} {v}" for k, v in self.counts.items())
        return (f"[{'#' * filled}{'.' * (_WIDTH - filled)}] {self.ended}/{self.total} runs - "
                f"{counts} - {format_duration(self._clock() - self._start)} elapsed - "
                f"ETA {format_duration(0.0 if self.ended >= self.total else self.eta())}")

    def _draw(self, before: str = "") -> None:
        if self._tty:
            text = f"\r\x1b[K{before}"
            if self._bar:
                text += self.line()
        else:
            text = before + (self.line() + "\n" if self._bar else "")
        if text:
            self.stream.write(text)
            self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                self._draw()

    def event(self, kind: str, run_id: str, label: str = "") -> None:
        """Counts a run's ``started``, ``finished``, ``failed``, or ``cached`` (another
        process finished it while this sweep waited for it)."""
        with self._lock:
            now = self._clock()
            if kind == "started":
                self._started.setdefault(run_id, now)
                self._most_running = max(self._most_running, len(self._started))
                self.counts["running"] = len(self._started)
                if self._tty:
                    if self._bar:
                        self._draw()
                else:  # A log gets a line per run started too, so it shows what runs.
                    self._draw(f"run {run_id}{f' ({label})' if label else ''}: started\n")
                return
            began = self._started.pop(run_id, None)
            if kind == "cached":
                self.counts["cached"] += 1
                self.total -= 1
            else:
                self.counts["done" if kind == "finished" else "failed"] += 1
                if began is not None:
                    self._durations.append(now - began)
            self.counts["running"] = len(self._started)
            self._draw(f"run {run_id}{f' ({label})' if label else ''}: {kind}\n")

    def close(self) -> None:
        """Stops redrawing; on a terminal, ends the bar's line."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
            with self._lock:
                self._draw()
                self.stream.write("\n")
                self.stream.flush()
