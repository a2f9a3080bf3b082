"""A progress bar over the runs of a sweep: done, running, failed, cached, and an ETA."""

from __future__ import annotations

import sys
from typing import TextIO


def _progbar(total: int):
    """A ``keras.utils.Progbar`` over runs that shows counts as integers and estimates the
    time per run as elapsed time over runs ended (runs end in bunches when several run at
    once, which Keras' time since its first step would read as a few seconds per run)."""
    import keras

    class RunsBar(keras.utils.Progbar):
        def show(self, ended: int, counts: dict[str, int]) -> None:
            # Progbar prints a value that is not a running mean ([sum, count]) as it is.
            self._values_order = list(counts)
            self._values = dict(counts)
            self.update(ended, finalize=ended >= self.target)

        def _estimate_step_duration(self, current, now):
            return (now - self._start) / current if current else 0

    return RunsBar(total, unit_name="run", interval=0.0)


class SweepProgress:
    """Counts the runs of a sweep as they start and end, on a ``keras.utils.Progbar``.

    The bar's target is the runs to execute (cached runs are counted apart, so
    they do not make the ETA look shorter than it is); its ETA is the time per
    ended run so far times the runs left.

    Args:
        total: runs to execute.
        cached: runs found finished in the store before the sweep started.
        stream: where one line per ended run goes (the bar is Keras' own output).
        bar: show the bar (False: only the lines).
    """

    def __init__(self, total: int, cached: int = 0, stream: TextIO | None = None,
                 bar: bool = True):
        self.total = total
        self.counts = {"done": 0, "running": 0, "failed": 0, "cached": cached}
        self.stream = stream or sys.stdout
        self._running: set[str] = set()
        self._bar = None
        if bar and total:
            self._bar = _progbar(total)
            self._update()

    def _update(self) -> None:
        if self._bar is not None and self.total > 0:
            self._bar.show(self.counts["done"] + self.counts["failed"], self.counts)

    def event(self, kind: str, run_id: str, label: str = "") -> None:
        """Counts a run's ``started``, ``finished``, ``failed``, or ``cached`` (another
        process finished it while this sweep waited for it)."""
        if kind == "started":
            self._running.add(run_id)
        else:
            self._running.discard(run_id)
            if kind == "cached":
                self.counts["cached"] += 1
                self.total -= 1
                if self._bar is not None and self.total > 0:
                    self._bar.target = self.total
            else:
                self.counts["done" if kind == "finished" else "failed"] += 1
            # Keras redraws its bar in place on a terminal: end that line first.
            newline = "\n" if getattr(self._bar, "_dynamic_display", False) else ""
            self.stream.write(f"{newline}run {run_id}{f' ({label})' if label else ''}: {kind}\n")
            self.stream.flush()
        self.counts["running"] = len(self._running)
        self._update()
