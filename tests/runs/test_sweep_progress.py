"""The progress bar over a sweep's runs: counts, lines, the ETA, terminal and log output."""

import io
import subprocess
import sys

import pytest

from tfmtl.runs.sweep_progress import SweepProgress, format_duration


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_counts_and_lines():
    stream = io.StringIO()
    progress = SweepProgress(3, cached=1, stream=stream, bar=False)
    progress.event("started", "a")
    progress.event("started", "b")
    assert progress.counts == {"done": 0, "running": 2, "failed": 0, "cached": 1}
    progress.event("finished", "a", "base, seed 0")
    progress.event("failed", "b", "broken, seed 0")
    progress.event("started", "c")
    progress.event("cached", "c")  # Another sweep finished it meanwhile.
    assert progress.counts == {"done": 1, "running": 0, "failed": 1, "cached": 2}
    assert progress.total == 2
    assert stream.getvalue().splitlines() == [
        "run a: started", "run b: started", "run a (base, seed 0): finished",
        "run b (broken, seed 0): failed", "run c: started", "run c: cached"]


def test_the_eta_spreads_the_work_left_over_the_slots():
    clock = Clock()
    progress = SweepProgress(4, stream=io.StringIO(), slots=2, clock=clock)
    progress.event("started", "a")
    progress.event("started", "b")
    clock.now += 100
    assert progress.eta() is None and progress.line().endswith("1:40 elapsed - ETA ?")
    progress.event("finished", "a")
    # b is due now; c and d take 100 s each, side by side: 100 s, not 3 runs x 100 s.
    assert progress.eta() == pytest.approx(100.0)
    progress.event("started", "c")
    clock.now += 10
    progress.event("finished", "b")  # Mean duration 105 s; c has run 10 s of it.
    progress.event("started", "d")
    assert progress.eta() == pytest.approx(105.0)  # d, just started, ends last.
    clock.now += 95
    progress.event("failed", "c")
    clock.now += 20
    assert progress.eta() == pytest.approx(0.0)  # d is overdue: no negative times.
    progress.event("finished", "d")
    assert progress.line() == ("[####################] 4/4 runs - done 3 - running 0 - "
                               "failed 1 - cached 0 - 3:45 elapsed - ETA 0s")


def test_without_slots_the_most_runs_seen_at_once_count():
    clock = Clock()
    progress = SweepProgress(5, stream=io.StringIO(), clock=clock)
    for run in "abc":
        progress.event("started", run)
    clock.now += 60
    progress.event("finished", "a")
    # b and c are due; d and e take 60 s each over the 3 runs seen at once.
    assert progress.eta() == pytest.approx(40.0)


def test_a_log_gets_whole_lines():
    stream = io.StringIO()
    progress = SweepProgress(2, cached=1, stream=stream, clock=Clock())
    progress.event("started", "a", "base, seed 0")
    progress.event("finished", "a", "base, seed 0")
    progress.close()
    text = stream.getvalue()
    assert "\r" not in text and "\b" not in text and "\x1b" not in text
    assert text.splitlines() == [
        "[....................] 0/2 runs - done 0 - running 0 - failed 0 - cached 1 - "
        "0s elapsed - ETA ?",
        "run a (base, seed 0): started",
        "[....................] 0/2 runs - done 0 - running 1 - failed 0 - cached 1 - "
        "0s elapsed - ETA ?",
        "run a (base, seed 0): finished",
        "[##########..........] 1/2 runs - done 1 - running 0 - failed 0 - cached 1 - "
        "0s elapsed - ETA 0s",
    ]


def test_a_terminal_gets_one_line_redrawn():
    stream = Terminal()
    progress = SweepProgress(2, stream=stream, clock=Clock())
    progress.event("started", "a")
    progress.event("finished", "a")
    progress.close()
    text = stream.getvalue()
    assert text.endswith("\n") and text.count("\n") == 2  # The run's line, then the bar's end.
    assert text.split("\r\x1b[K")[-1].startswith("[##########..........] 1/2 runs - done 1")
    assert "run a: finished\n" in text


def test_no_bar_for_an_empty_sweep():
    stream = io.StringIO()
    SweepProgress(0, cached=4, stream=stream).close()
    assert stream.getvalue() == ""


def test_durations():
    assert [format_duration(s) for s in (None, 0.4, 59, 60, 187, 3723)] == [
        "?", "0s", "59s", "1:00", "3:07", "1:02:03"]


def test_the_bar_loads_no_keras():
    """The sweep's driver process draws the bar; it needs no Keras (nor its terminal
    detection, which takes every Linux stream for a terminal)."""
    code = ("import sys, tfmtl.runs.sweep_progress\n"
            "sys.exit(int(any(m == 'keras' or m.startswith('keras.') for m in sys.modules)))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
