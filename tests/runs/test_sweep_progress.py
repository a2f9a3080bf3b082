"""The progress bar over a sweep's runs."""

import io

from tfmtl.runs.sweep_progress import SweepProgress


def test_counts_and_lines():
    stream = io.StringIO()
    progress = SweepProgress(3, cached=1, stream=stream, bar=True)
    progress.event("started", "a")
    progress.event("started", "b")
    assert progress.counts == {"done": 0, "running": 2, "failed": 0, "cached": 1}
    progress.event("finished", "a", "base, seed 0")
    progress.event("failed", "b", "broken, seed 0")
    progress.event("started", "c")
    progress.event("cached", "c")  # Another sweep finished it meanwhile.
    assert progress.counts == {"done": 1, "running": 0, "failed": 1, "cached": 2}
    assert progress.total == 2
    assert [line for line in stream.getvalue().splitlines() if line] == [
        "run a (base, seed 0): finished", "run b (broken, seed 0): failed", "run c: cached"]
