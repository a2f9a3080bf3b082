r"""Loss weightings and gradient surgery side by side on real data, through the run store.

    ud              configs/weighting_ud.py  UD English-EWT's UPOS, XPOS, DEPREL and FEATS
                    (one corpus, four heads, every step all four), and each task alone
                    (single_upos, ...: the Δm baselines)
    classification  configs/weighting_classification.py  MR, SUBJ and SST binary on their
                    deduplicated split (written first by tfmtl-data split into
                    --split_dir), every step a batch of each; alone: mr, subj, sst (the
                    single-task runs of bench/sharing.py, the same runs)

    python bench/weighting.py --bench=ud --seeds=0 [--variants=equal,pcgrad]
        [--runs_dir=runs/store] [--workers=2] [--out=runs/bench_weighting]

Every variant is a weighting (``equal``, ..., ``nash_mtl``) or a gradient weighting in the
representation mode (``mgda_rep``, ...), at the budget of its single-task runs (every task
as many updates). Screen every variant with one seed, then rerun ``equal`` and the three
best on dev Δm with --seeds=0,1,2: runs in the store or in the results archives are not
trained again. Prints the table, best dev Δm first: each task's test score at the run's
best dev checkpoint (mean ± sd over seeds), Δm on test and on dev against the mean of the
single-task runs over the same seeds (Maninis et al. 2019, tfmtl.metrics.delta_m), and
the paired bootstrap interval of the mean score's difference to single-task (each task's
test set drawn on its own); writes the sweep's report under --out/BENCH.
"""

import importlib.util
import json
import os
import statistics
import sys

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # (Loaded by path: tests.)
from bench_sweep import (  # noqa: E402
    REPO,
    SHARED,
    execute_sweep,
    mean_sd,
    prepare_split,
    results_path,
)

BENCHMARKS = {
    # name: (config, tasks, their single-task variants, data folder under the shared data
    # or None (the deduplicated split), metric)
    "ud": ("weighting_ud.py", ("upos", "xpos", "deprel", "feats"),
           ("single_upos", "single_xpos", "single_deprel", "single_feats"), "ud_english_ewt",
           "accuracy"),
    "classification": ("weighting_classification.py", ("mr", "subj", "sst"),
                       ("mr", "subj", "sst"), None, "accuracy"),
}

_BENCH = flags.DEFINE_enum("bench", None, list(BENCHMARKS), "The benchmark.")
_SHARED = flags.DEFINE_string(
    "shared_data", os.environ.get("TFMTL_SHARED_DATA", SHARED), "The folder of the shared "
    "corpora (default $TFMTL_SHARED_DATA, else ../shared/data beside the repository).")
_SEEDS = flags.DEFINE_list("seeds", ["0"], "Seeds.")
_VARIANTS = flags.DEFINE_list("variants", [], "Variants (default: every weighting, each "
                              "representation-mode one and the single-task runs).")
_OVERRIDES = flags.DEFINE_multi_string("override", [], "Extra KEY=VALUE for every run.")
_OUT = flags.DEFINE_string("out", "runs/bench_weighting", "Folder for the reports.")
_SPLIT_DIR = flags.DEFINE_string("split_dir", "runs/sentiment_split",
                                 "classification: where tfmtl-data split writes the split.")
_RUNS_DIR = flags.DEFINE_string("runs_dir", os.path.join("runs", "store"), "The run store.")
_EXECUTOR = flags.DEFINE_enum("executor", "local", ["local", "ray"], "Where runs execute.")
_WORKERS = flags.DEFINE_integer("workers", 2, "local: runs at a time.", lower_bound=1)
_RAY_ADDRESS = flags.DEFINE_string("ray_address", "", "ray: the cluster (\"\": a local Ray).")
_BOOTSTRAP = flags.DEFINE_integer("bootstrap", 1000, "Bootstrap resamples.", lower_bound=1)
_RESULTS = flags.DEFINE_string(
    "results", None, "Results archive (tfmtl.runs.results_archive; committed; default "
    "bench/results/weighting_<bench>.jsonl.xz): its runs, and those of the other archives "
    "in its folder, are not trained again, and each finished run is added to it (\"\": "
    "none, train what the store lacks).")
flags.mark_flag_as_required("bench")


def config_path(bench: str) -> str:
    return os.path.join(REPO, "configs", BENCHMARKS[bench][0])


def variants_of(bench: str) -> tuple[str, ...]:
    """The benchmark config's variants: the single-task ones first."""
    spec = importlib.util.spec_from_file_location(f"_weighting_{bench}", config_path(bench))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    singles = BENCHMARKS[bench][2]
    return (*singles, *(v for v in module.variants() if v not in singles))


def build_sweep(bench: str, seeds, variants, data_dir: str, overrides=()):
    from tfmtl.runs import RunsError, Sweep, Variant

    config = config_path(bench)
    known = variants_of(bench)
    variants = list(variants) or list(known)
    unknown = sorted(set(variants) - set(known))
    if unknown:
        raise RunsError(f"--variants: unknown variant {unknown[0]!r} of {bench}; use "
                        f"{', '.join(known)}")
    return Sweep(config, [Variant(v, config=f"{config}:{v}") for v in variants], seeds=seeds,
                 overrides=[f"data_dir={data_dir}", *overrides])


def weighting_table(result, bench: str, resamples: int = 1000) -> tuple[str, dict]:
    """The markdown table of a sweep (a row per multi-task variant, best dev Δm first, and
    the single-task row) and the same as JSON."""
    from tfmtl.metrics.delta_m import delta_m
    from tfmtl.runs.paired_bootstrap import paired_bootstrap_mean

    _, tasks, singles, _, metric = BENCHMARKS[bench]
    store = result.store
    runs: dict[str, dict[int, str]] = {}
    for e in result.entries:
        if e.status == "finished":
            runs.setdefault(e.variant, {})[e.seed] = e.run_id
    alone = dict(zip(tasks, singles, strict=True))

    def score(run_id, task, split):
        return store.metrics(run_id)[split][task][metric]

    single_seeds = sorted(set.intersection(*[set(runs.get(v, {})) for v in singles]))
    base = {split: {t: statistics.mean(score(runs[alone[t]][s], t, split)
                                       for s in single_seeds) for t in tasks}
            for split in ("dev", "test")} if single_seeds else None
    cache: dict[str, dict] = {}

    def predictions(run_id):
        if run_id not in cache:
            cache[run_id] = store.predictions(run_id)
        return cache[run_id]

    rows = {}
    if single_seeds:
        rows["single-task"] = {"seeds": single_seeds, "test": {
            t: [score(runs[alone[t]][s], t, "test") for s in single_seeds] for t in tasks}}
    for variant, by_seed in runs.items():
        if variant in singles:
            continue
        seeds = sorted(by_seed)
        row = {"seeds": seeds, "test": {t: [score(by_seed[s], t, "test") for s in seeds]
                                        for t in tasks}}
        if base is not None:
            for split in ("dev", "test"):
                row[f"delta_m_{split}"] = [delta_m({t: score(by_seed[s], t, split)
                                                    for t in tasks}, base[split]).value
                                           for s in seeds]
            sides = [([predictions(by_seed[s])[t] for s in seeds],
                      [predictions(runs[alone[t]][s])[t] for s in single_seeds])
                     for t in tasks]
            row["vs_single_task"] = paired_bootstrap_mean(sides, metric,
                                                          resamples=resamples).to_json()
        rows[variant] = row
    order = sorted((v for v in rows if v != "single-task"),
                   key=lambda v: -statistics.mean(rows[v].get("delta_m_dev", [0.0])))
    header = ["variant", "seeds", *(f"{t} test" for t in tasks), "Δm test (%)", "Δm dev (%)",
              f"Δ mean {metric} vs single-task (95% CI)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for variant in ["single-task", *order] if "single-task" in rows else order:
        row = rows[variant]
        cells = [variant, str(len(row["seeds"])),
                 *(mean_sd(row["test"][t]) for t in tasks),
                 mean_sd(row.get("delta_m_test", [])), mean_sd(row.get("delta_m_dev", []))]
        b = row.get("vs_single_task")
        cells.append(f"{b['difference']:+.2f} [{b['low']:+.2f}, {b['high']:+.2f}]" if b else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines), rows


def main(argv):
    del argv
    from tfmtl.runs import RunsError, sweep_report, write_report

    bench = _BENCH.value
    shared = os.path.abspath(_SHARED.value)
    folder = BENCHMARKS[bench][3]
    data_dir = (prepare_split(_SPLIT_DIR.value, shared) if folder is None
                else os.path.join(shared, folder))
    try:
        sweep = build_sweep(bench, [int(s) for s in _SEEDS.value], _VARIANTS.value,
                            os.path.abspath(data_dir), _OVERRIDES.value)
    except RunsError as e:
        sys.exit(f"weighting.py: error: {e}")
    result = execute_sweep(sweep, results_path(f"weighting_{bench}", _RESULTS.value),
                           runs_dir=_RUNS_DIR.value, executor=_EXECUTOR.value,
                           workers=_WORKERS.value, ray_address=_RAY_ADDRESS.value)
    out = os.path.join(_OUT.value, bench)
    write_report(sweep_report(result, resamples=_BOOTSTRAP.value), out)
    table, rows = weighting_table(result, bench, _BOOTSTRAP.value)
    with open(os.path.join(out, "weighting.json"), "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=1)
    print("\n" + table)
    print(f"report: {out}")
    if result.failed:
        sys.exit(1)


if __name__ == "__main__":
    app.run(main)
