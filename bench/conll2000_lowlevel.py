r"""Low-level supervision on CoNLL-2000: chunking alone vs with POS at the top vs at layer 1.

Trains every variant of configs/conll2000_pos_chunk.py with several seeds under
the same budget (same steps over the same chunking batches) and reports test
chunk F1 at the best dev checkpoint (the last 500 training sentences are dev):

    python bench/conll2000_lowlevel.py --data_dir=../shared/data/conll2000 \
        --out=runs/bench_conll2000 --seeds=0,1,2 --variants=alone,top,layer1,labels

A sweep through the run store (tfmtl.runs, as tfmtl-sweep): a run another
benchmark or sweep already trained with the same config is not trained again,
and a killed benchmark resumes where it stopped. Prints the README's table
(with a paired bootstrap interval of each variant's gain over chunking alone)
and writes the sweep's whole report (report.md, report.json) under --out.
"""

import os
import sys

from absl import app, flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "configs", "conll2000_pos_chunk.py")
VARIANTS = ("alone", "top", "layer1", "labels")
LABELS = {"alone": "chunking alone", "top": "+ POS at the top layer",
          "layer1": "+ POS at layer 1",
          "labels": "+ POS at layer 1, its labels fed upwards (`:labels`)"}

_DATA_DIR = flags.DEFINE_string("data_dir", os.path.join(REPO, "..", "shared", "data",
                                                         "conll2000"), "CoNLL-2000 folder.")
_OUT = flags.DEFINE_string("out", "runs/bench_conll2000", "Folder for the report.")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds.")
_VARIANTS = flags.DEFINE_list("variants", list(VARIANTS[:3]), "Variants to run: "
                              f"{', '.join(VARIANTS)}.")
_OVERRIDES = flags.DEFINE_multi_string("override", [], "Extra KEY=VALUE for every run.")
_RUNS_DIR = flags.DEFINE_string("runs_dir", os.path.join("runs", "store"), "The run store.")
_EXECUTOR = flags.DEFINE_enum("executor", "local", ["local", "ray"], "Where runs execute.")
_WORKERS = flags.DEFINE_integer("workers", 2, "local: runs at a time.", lower_bound=1)
_CPUS_PER_RUN = flags.DEFINE_integer("cpus_per_run", 0, "Cores per run (0: local, the cores "
                                     "divided by --workers; ray, 1).", lower_bound=0)
_RAY_ADDRESS = flags.DEFINE_string("ray_address", "", "ray: the cluster (\"\": a local Ray).")
_BOOTSTRAP = flags.DEFINE_integer("bootstrap", 1000, "Bootstrap resamples.", lower_bound=1)
_RESULTS = flags.DEFINE_string(
    "results", os.path.join(REPO, "bench", "results", "conll2000_lowlevel.jsonl.xz"),
    "Results archive (tfmtl.runs.results_archive; committed): its runs, and those of the "
    "other archives in its folder, are not trained again, and every finished run is added "
    "to it (\"\": none, train what the store lacks).")


def build_sweep(data_dir: str, seeds, variants, overrides=()):
    """The benchmark as a sweep: one variant per config argument, chunking alone the
    baseline when it is run."""
    from tfmtl.runs import RunsError, Sweep, Variant

    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise RunsError(f"--variants: unknown variant {unknown[0]!r}; use {', '.join(VARIANTS)}")
    return Sweep(
        CONFIG, [Variant(v, config=f"{CONFIG}:{v}") for v in variants], seeds=seeds,
        overrides=[f"data_dir={os.path.abspath(data_dir)}", *overrides],
        baseline="alone" if "alone" in variants else None)


def table(report: dict) -> str:
    """The README's table: test chunk F1 mean ± sd, per seed, gain over the baseline with
    its paired bootstrap interval, mean dev F1."""
    test = report["metrics"]["test/chunk/f1"]
    dev = report["metrics"].get("dev/chunk/f1")
    seeds = report["sweep"]["seeds"]
    baseline = report["baseline"]
    lines = [f"| variant | test chunk F1 (mean ± sd, {len(seeds)} seeds) | per seed | "
             f"Δ vs {baseline} [95% CI] | dev F1 (mean) |", "|---|---|---|---|---|"]
    for variant, stats in test["variants"].items():
        values = [stats["per_seed"].get(str(s)) for s in seeds]
        mean = "n/a" if stats["mean"] is None else f"{stats['mean']:.2f}"
        if stats["sd"] is not None:
            mean += f" ± {stats['sd']:.2f}"
        delta = ""
        comparison = test["vs_baseline"].get(variant)
        if comparison and comparison["difference"] is not None:
            delta = f"{comparison['difference']:+.2f}"
            if "bootstrap" in comparison:
                b = comparison["bootstrap"]
                delta += f" [{b['low']:+.2f}, {b['high']:+.2f}]"
        dev_mean = dev["variants"][variant]["mean"] if dev else None
        lines.append(
            f"| {LABELS.get(variant, variant)} | {mean} | "
            f"{', '.join('failed' if v is None else f'{v:.2f}' for v in values)} | {delta} | "
            f"{'n/a' if dev_mean is None else f'{dev_mean:.2f}'} |")
    return "\n".join(lines)


def main(argv):
    del argv
    from tfmtl.runs import (
        LocalExecutor,
        RayExecutor,
        RunsError,
        RunStore,
        sweep_report,
        write_report,
    )

    try:
        sweep = build_sweep(_DATA_DIR.value, [int(s) for s in _SEEDS.value], _VARIANTS.value,
                            _OVERRIDES.value)
    except RunsError as e:
        sys.exit(f"conll2000_lowlevel.py: error: {e}")
    if _EXECUTOR.value == "ray":
        executor = RayExecutor(_RAY_ADDRESS.value, cpus_per_run=_CPUS_PER_RUN.value or 1)
    else:
        executor = LocalExecutor(_WORKERS.value, cpus_per_run=_CPUS_PER_RUN.value)
    from tfmtl.runs.results_archive import sibling_archives

    result = sweep.execute(RunStore(_RUNS_DIR.value), executor, results=_RESULTS.value,
                           also_from=sibling_archives(_RESULTS.value) if _RESULTS.value else ())
    report = sweep_report(result, resamples=_BOOTSTRAP.value)
    markdown, _ = write_report(report, _OUT.value)
    compute = report["compute"]
    print(f"\n{table(report)}\n\n{compute['runs']} runs ({compute['trained']} trained now, "
          f"{compute['cached']} from the store, {compute['failed']} failed), "
          f"{compute['steps']} steps, {compute['run_wall_s'] / 3600:.2f} h of run time; "
          f"every metric: {markdown}")
    if result.failed:
        sys.exit(1)


if __name__ == "__main__":
    app.run(main)
