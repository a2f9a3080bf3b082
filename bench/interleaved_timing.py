"""Timing several step functions side by side in one process (bench/sharing_speed.py,
bench/weighting_speed.py)."""

import statistics
import time


def median_ms_per_step(steppers: dict, steps: int, rounds: int, warmup: int) -> dict:
    """``{name: median ms per step}``: each ``steppers[name](i)`` (the i-th step) first run
    `warmup` steps untimed (tracing), then timed for `steps` steps in each of `rounds`
    interleaved rounds, so that a change of machine load hits every stepper alike."""
    counters = {}
    for name, step in steppers.items():
        for i in range(warmup):
            step(i)
        counters[name] = warmup
    times = {name: [] for name in steppers}
    for _ in range(rounds):
        for name, step in steppers.items():
            start = time.perf_counter()
            for _ in range(steps):
                step(counters[name])
                counters[name] += 1
            times[name].append((time.perf_counter() - start) * 1000 / steps)
    return {name: statistics.median(values) for name, values in times.items()}
