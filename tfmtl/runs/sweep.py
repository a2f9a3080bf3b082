"""A sweep: the cross product of variants and seeds, executed through the run store."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from tfmtl.runs._core import RunsError
from tfmtl.runs.local_executor import LocalExecutor
from tfmtl.runs.results_archive import pack, unpack
from tfmtl.runs.run import Run, RunSpec, resolve_run
from tfmtl.runs.run_store import FAILED, FINISHED, RunStore
from tfmtl.runs.sweep_progress import SweepProgress


@dataclasses.dataclass(frozen=True)
class Variant:
    """One arm of a sweep: overrides on the sweep's config, or its own config file.

    Attributes:
        name: how reports name it.
        overrides: ``KEY=VALUE`` strings, applied after the sweep's own.
        config: ``PATH[:ARG]`` to use instead of the sweep's config (None: the sweep's).
    """

    name: str
    overrides: tuple[str, ...] = ()
    config: str | None = None


def parse_grid(grid: Sequence[str]) -> list[Variant]:
    """``["KEY=V1,V2", "KEY2=W1,W2"]`` -> the cross product as variants named ``KEY=V1,KEY2=W1``.

    Raises:
        RunsError: a malformed entry, naming it.
    """
    axes = []
    for entry in grid:
        key, sep, values = entry.partition("=")
        key = key.strip().removeprefix("config.")
        items = [v.strip() for v in values.split(",")]
        if not sep or not key or not values or any(not v for v in items):
            raise RunsError(f"--grid: {entry!r} is not KEY=V1,V2,...")
        if key in (k for k, _ in axes):
            raise RunsError(f"--grid: key {key} given twice")
        if len(set(items)) != len(items):
            raise RunsError(f"--grid: {entry!r} repeats a value")
        axes.append((key, items))
    if not axes:
        return []
    variants = []
    for values in itertools.product(*(items for _, items in axes)):
        pairs = [f"{key}={value}" for (key, _), value in zip(axes, values, strict=True)]
        variants.append(Variant(name=",".join(pairs), overrides=tuple(pairs)))
    return variants


def check_grid(config: str, grid: Sequence[str], cwd: str | None = None) -> None:
    """Checks that every ``--grid`` key names a value of `config` (before anything resolves).

    Raises:
        RunsError: ``--grid=ENTRY: config.KEY: unknown key ...``.
    """
    from tfmtl.runs import _core

    spec = RunSpec.create(config, cwd=cwd)
    loaded = _core.load_config(spec.config)
    for entry in grid:
        key = entry.partition("=")[0].strip().removeprefix("config.")
        _core.check_override_key(loaded, key, f"--grid={entry}")


def _override_value(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return value
    raise RunsError(f"{where}: expected a string, number or boolean, got {json.dumps(value)}")


def read_variants_file(path: str, default_config: str | None = None
                       ) -> tuple[list[Variant], str | None]:
    """Reads a variants file; returns the variants and the baseline it names (or None).

    The file is JSON::

        {"baseline": "alone",
         "variants": {
             "alone": {"config": "configs/conll2000_pos_chunk.py:alone"},
             "layer1": {"config": ":layer1", "overrides": {"training.steps": 2000}},
             "wide": {"overrides": {"model.encoders.shared.units": 256}}}}

    A variant's ``config`` is a config file (relative to the variants file's
    folder), ``:ARG`` (the sweep's ``--config`` file with that argument), or
    absent (the sweep's ``--config``); ``overrides`` maps config keys to values.

    Raises:
        RunsError: naming the file and the entry at fault.
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise RunsError(f"--variants: {path}: no such file") from None
    except json.JSONDecodeError as e:
        raise RunsError(f"--variants: {path}: not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise RunsError(f"--variants: {path}: expected an object with \"variants\"")
    unknown = sorted(set(data) - {"baseline", "variants"})
    if unknown:
        raise RunsError(f"--variants: {path}: unknown key {unknown[0]!r}; "
                        "known keys: baseline, variants")
    entries = data.get("variants")
    if not isinstance(entries, dict) or not entries:
        raise RunsError(f"--variants: {path}: \"variants\" must be a non-empty object of "
                        "name -> {\"config\", \"overrides\"}")
    folder = os.path.dirname(os.path.abspath(path))
    variants = []
    for name, entry in entries.items():
        where = f"--variants: {path}: variants.{name}"
        if not name or not isinstance(entry, dict):
            raise RunsError(f"{where}: expected an object with \"config\" and/or \"overrides\"")
        unknown = sorted(set(entry) - {"config", "overrides"})
        if unknown:
            raise RunsError(f"{where}: unknown key {unknown[0]!r}; known keys: config, "
                            "overrides")
        config = entry.get("config")
        if config is not None:
            if not isinstance(config, str) or not config:
                raise RunsError(f"{where}.config: expected PATH[:ARG] or :ARG")
            if config.startswith(":"):
                if default_config is None:
                    raise RunsError(f"{where}.config: {config!r} needs --config")
                config = default_config.partition(":")[0] + config
            else:
                config = os.path.join(folder, os.path.expanduser(config))
        overrides = entry.get("overrides", {})
        if not isinstance(overrides, dict):
            raise RunsError(f"{where}.overrides: expected an object of KEY: VALUE")
        pairs = tuple(f"{str(key).removeprefix('config.')}="
                      f"{_override_value(value, f'{where}.overrides.{key}')}"
                      for key, value in overrides.items())
        variants.append(Variant(name=name, overrides=pairs, config=config))
    baseline = data.get("baseline")
    if baseline is not None and baseline not in entries:
        raise RunsError(f"--variants: {path}: baseline {baseline!r} is not a variant; "
                        f"variants: {', '.join(entries)}")
    return variants, baseline


def combine(variants: Sequence[Variant], grid: Sequence[Variant]) -> list[Variant]:
    """Every variant with every grid point (either list alone when the other is empty)."""
    if not variants:
        return list(grid)
    if not grid:
        return list(variants)
    return [Variant(name=f"{v.name},{g.name}", overrides=v.overrides + g.overrides,
                    config=v.config) for v in variants for g in grid]


@dataclasses.dataclass(frozen=True)
class SweepRun:
    """One cell of a sweep: a variant, a seed and the run they resolve to."""

    variant: str
    seed: int
    run: Run


@dataclasses.dataclass
class SweepEntry:
    """What became of one cell.

    Attributes:
        status: ``finished`` or ``failed``.
        cached: it was finished in the store before this sweep started.
        error: the recorded error of a failed run.
        record: the run's record (``run.json``).
    """

    variant: str
    seed: int
    run_id: str
    status: str
    cached: bool
    error: str | None
    record: dict


@dataclasses.dataclass
class SweepResult:
    """The outcome of :meth:`Sweep.execute`, what the report is built from."""

    sweep: Sweep
    store: RunStore
    entries: list[SweepEntry]
    trained: int
    cached: int
    failed: int
    wall_s: float
    executor: str


class Sweep:
    """The cross product of variants and seeds of one config.

    Every cell is resolved (config file, overrides, validation) when the
    sweep is made, so a bad key or value stops it before anything trains.

    Args:
        config: ``PATH[:ARG]``, the sweep's config.
        variants: its arms (default: one, ``base``, the config as it is).
        seeds: each variant runs once per seed (``--config.seed``).
        overrides: ``KEY=VALUE`` for every run, before the variants' own.
        baseline: the variant the others are compared to (default: the first).
        cwd: where relative paths resolve (default: the current folder).

    Raises:
        RunsError: naming the variant and the key or file at fault.
    """

    def __init__(self, config: str, variants: Sequence[Variant] = (), seeds: Sequence[int] = (0,),
                 overrides: Sequence[str] = (), baseline: str | None = None,
                 cwd: str | None = None):
        self.config = config
        self.variants = list(variants) or [Variant("base")]
        names = [v.name for v in self.variants]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise RunsError(f"variant {duplicates[0]!r} is defined twice")
        self.seeds = [int(s) for s in seeds]
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise RunsError(f"--seeds: expected distinct seeds, got {self.seeds}")
        self.overrides = tuple(overrides)
        for where, values in [("--config", self.overrides)] + [
                (f"variant {v.name!r}", v.overrides) for v in self.variants]:
            for override in values:
                key = override.partition("=")[0].strip()
                if key.removeprefix("config.") == "seed":
                    raise RunsError(f"{where}: {override!r}: a sweep sets each run's seed "
                                    "from --seeds (it would override this one); use --seeds")
        if baseline is not None and baseline not in names:
            raise RunsError(f"--baseline: {baseline!r} is not a variant; variants: "
                            f"{', '.join(names)}")
        self.baseline = baseline or names[0]
        self.cwd = os.path.abspath(cwd or os.getcwd())
        self.runs: list[SweepRun] = []
        for variant in self.variants:
            spec = RunSpec.create(variant.config or config, (), cwd=self.cwd)
            for seed in self.seeds:
                where = f"variant {variant.name!r}" if len(self.variants) > 1 else "--config"
                cell = spec.with_overrides([*self.overrides, *variant.overrides, f"seed={seed}"])
                self.runs.append(SweepRun(variant.name, seed, resolve_run(cell, where=where)))

    def unique_runs(self) -> list[Run]:
        """The distinct runs of the sweep (cells resolving to one identity share it)."""
        seen: dict[str, Run] = {}
        for cell in self.runs:
            seen.setdefault(cell.run.id, cell.run)
        return list(seen.values())

    def plan(self, store: RunStore) -> tuple[list[Run], list[Run]]:
        """``(cached, to_run)``: the distinct runs already finished in `store`, and the rest."""
        cached, to_run = [], []
        for run in self.unique_runs():
            (cached if store.is_finished(run.id) else to_run).append(run)
        return cached, to_run

    def execute(self, store: RunStore, executor=None, *, progress: bool = True,
                stream: TextIO | None = None, results: str | None = None,
                also_from: Sequence[str] = ()) -> SweepResult:
        """Executes every run not finished in `store`, then collects every cell's outcome.

        Failed runs are recorded and reported; the others go on. A failed run is
        tried again by the next sweep that asks for it.

        Args:
            store: the run store.
            executor: a :class:`LocalExecutor` (default: one worker) or
                :class:`tfmtl.runs.RayExecutor`.
            progress: show the progress bar.
            stream: where progress lines go (default: stdout).
            results: a results archive (:mod:`tfmtl.runs.results_archive`): its runs
                of this sweep are put into `store` first (and count as cached); each run
                is added to it as soon as it finishes, and at the end every finished run
                of the sweep it lacks (runs the store had before); a failure to write it
                is a warning: the sweep goes on.
            also_from: more results archives (another benchmark's) whose runs of this
                sweep are put into `store` first, so a baseline another table trained is
                not trained again; only `results` is written.
        """
        executor = executor or LocalExecutor()
        start = time.monotonic()
        wanted = [run.id for run in self.unique_runs()]
        for path in [*also_from, *([results] if results else [])]:
            unpack(store, path, wanted)
        cached, to_run = self.plan(store)
        for run in self.unique_runs():
            store.prepare(run.id, run.identity.payload)
        labels: dict[str, list[str]] = {}
        for cell in self.runs:
            labels.setdefault(cell.run.id, []).append(f"{cell.variant}, seed {cell.seed}")
        bar = SweepProgress(len(to_run), cached=len(cached), stream=stream, bar=progress,
                            slots=getattr(executor, "slots_at_once", None))
        def archive(run_ids) -> None:
            try:
                pack(store, run_ids, results)
            except (OSError, RunsError) as e:  # Never stops the sweep's trainings.
                print(f"tfmtl-sweep: warning: could not add to {results}: {e}",
                      file=sys.stderr)

        def on_event(kind: str, run_id: str) -> None:
            bar.event(kind, run_id, "; ".join(labels[run_id]))
            if results and kind == "finished":  # Archived at once: a killed sweep keeps it.
                archive([run_id])

        try:
            outcomes = executor.execute(store, to_run, on_event)
        finally:
            bar.close()
            if results:
                archive([run.id for run in self.unique_runs()])
        cached_ids = {run.id for run in cached}
        cached_ids.update(run_id for run_id, o in outcomes.items() if o == "cached")
        entries = []
        for cell in self.runs:
            record = store.record(cell.run.id) or {}
            finished = store.is_finished(cell.run.id)
            entries.append(SweepEntry(
                variant=cell.variant, seed=cell.seed, run_id=cell.run.id,
                status=FINISHED if finished else FAILED, cached=cell.run.id in cached_ids,
                error=None if finished else (record.get("error") or "did not finish"),
                record=record))
        return SweepResult(
            sweep=self, store=store, entries=entries,
            trained=sum(1 for o in outcomes.values() if o == "finished"),
            cached=len(cached_ids),
            failed=len({e.run_id for e in entries if e.status == FAILED}),
            wall_s=time.monotonic() - start, executor=getattr(executor, "name", "custom"))

    def describe(self) -> dict[str, Any]:
        """The sweep as JSON: config, seeds, variants, baseline."""
        return {
            "config": self.config, "seeds": self.seeds, "overrides": list(self.overrides),
            "baseline": self.baseline,
            "variants": {v.name: {"config": v.config, "overrides": list(v.overrides)}
                         for v in self.variants},
        }
