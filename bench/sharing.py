r"""Sharing schemes side by side on real data, through the run store.

    classification  configs/sharing_classification.py  MR, SUBJ and SST binary on their
                    deduplicated split (written first by tfmtl-data split into
                    --split_dir): single-task (mr, subj, sst: one run each), hard,
                    soft, cross_stitch, sluice, private (shared-private without its
                    losses), adversarial (with them), and the adversarial variants
                    adversarial_raw, adversarial_norm, adversarial_std, private_all,
                    adversarial_all (configs/sharing_classification.py says what each
                    changes); each task's test accuracy and the mean error
    tagging         configs/sharing_tagging.py  CoNLL-2000 chunking with UD English EWT
                    UPOS (another corpus): alone (chunking), hard, soft, cross_stitch,
                    sluice, private, adversarial (and adversarial_raw, _norm, _std);
                    test chunk F1

    python bench/sharing.py --bench=classification --seeds=0 [--variants=hard,soft]
        [--runs_dir=runs/store] [--workers=2] [--out=runs/bench_sharing]

Screen with one seed, then rerun single-task, hard and the two best schemes (on
dev) with --seeds=0,1,2: runs in the store or the results archive are not
trained again. Prints the table (test scores at each run's best dev checkpoint,
mean ± sd over seeds; the paired bootstrap interval of each variant's
difference to single-task, each task's test set drawn on its own) and writes
the sweep's report under --out/BENCH.
"""

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

SCHEMES = ("hard", "soft", "cross_stitch", "sluice", "private", "adversarial",
           "adversarial_raw", "adversarial_norm", "adversarial_std", "private_all",
           "adversarial_all")
BENCHMARKS = {
    # name: (config, single-task variants (one per task), data_dir or None, metric)
    "classification": ("sharing_classification.py", ("mr", "subj", "sst"), None, "accuracy"),
    "tagging": ("sharing_tagging.py", ("alone",), SHARED, "f1"),
}

_BENCH = flags.DEFINE_enum("bench", None, list(BENCHMARKS), "The benchmark.")
_SHARED = flags.DEFINE_string(
    "shared_data", os.environ.get("TFMTL_SHARED_DATA", SHARED), "The folder of the shared "
    "corpora (default $TFMTL_SHARED_DATA, else ../shared/data beside the repository).")
_SEEDS = flags.DEFINE_list("seeds", ["0"], "Seeds.")
_VARIANTS = flags.DEFINE_list("variants", [], "Variants (default: all of the benchmark's).")
_OVERRIDES = flags.DEFINE_multi_string("override", [], "Extra KEY=VALUE for every run.")
_OUT = flags.DEFINE_string("out", "runs/bench_sharing", "Folder for the reports.")
_SPLIT_DIR = flags.DEFINE_string("split_dir", "runs/sentiment_split",
                                 "classification: where tfmtl-data split writes the split.")
_RUNS_DIR = flags.DEFINE_string("runs_dir", os.path.join("runs", "store"), "The run store.")
_EXECUTOR = flags.DEFINE_enum("executor", "local", ["local", "ray"], "Where runs execute.")
_WORKERS = flags.DEFINE_integer("workers", 2, "local: runs at a time.", lower_bound=1)
_RAY_ADDRESS = flags.DEFINE_string("ray_address", "", "ray: the cluster (\"\": a local Ray).")
_BOOTSTRAP = flags.DEFINE_integer("bootstrap", 1000, "Bootstrap resamples.", lower_bound=1)
_PROBE = flags.DEFINE_list(
    "probe", ["hard", "private", "adversarial", "adversarial_norm", "adversarial_std",
              "private_all", "adversarial_all"], "Variants whose frozen "
    "shared features a fresh probe learns to tell the corpora apart from (\"\": none); "
    "results kept by run id in sharing_probe_<bench>.json beside the results archive.")
_RESULTS = flags.DEFINE_string(
    "results", None, "Results archive (tfmtl.runs.results_archive; committed; default "
    "bench/results/sharing_<bench>.jsonl.xz): its runs, and those of the other archives "
    "in its folder, are not trained again, and each finished run is added to it (\"\": "
    "none, train what the store lacks).")
flags.mark_flag_as_required("bench")


def variants_of(bench: str) -> tuple[str, ...]:
    """The benchmark config's variants (its VARIANTS: the single-task ones, then the
    schemes it defines), in SCHEMES' order."""
    import importlib.util

    path = os.path.join(REPO, "configs", BENCHMARKS[bench][0])
    spec = importlib.util.spec_from_file_location(f"_sharing_{bench}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return (*BENCHMARKS[bench][1], *(s for s in SCHEMES if s in module.VARIANTS))


def build_sweep(bench: str, seeds, variants, data_dir: str, overrides=()):
    from tfmtl.runs import RunsError, Sweep, Variant

    config = os.path.join(REPO, "configs", BENCHMARKS[bench][0])
    known = variants_of(bench)
    variants = list(variants) or list(known)
    unknown = sorted(set(variants) - set(known))
    if unknown:
        raise RunsError(f"--variants: unknown variant {unknown[0]!r} of {bench}; use "
                        f"{', '.join(known)}")
    return Sweep(config, [Variant(v, config=f"{config}:{v}") for v in variants], seeds=seeds,
                 overrides=[f"data_dir={data_dir}", *overrides])


def sharing_table(result, bench: str, resamples: int = 1000) -> tuple[str, dict]:
    """The markdown table of a sweep: per variant (single-task: each task's own runs), each
    task's test metric, their mean (error, for classification), and the paired bootstrap
    interval of its difference to single-task; and the same as JSON."""
    from tfmtl.runs.paired_bootstrap import paired_bootstrap, paired_bootstrap_mean

    _, singles, _, metric = BENCHMARKS[bench]
    store = result.store
    runs: dict[str, dict[int, str]] = {}
    for e in result.entries:
        if e.status == "finished":
            runs.setdefault(e.variant, {})[e.seed] = e.run_id
    tasks = list(singles) if bench == "classification" else ["chunk"]
    # Per task, the single-task variant that trains it alone.
    alone = dict(zip(tasks, singles, strict=True))
    cache: dict[str, dict] = {}

    def predictions(run_id):
        if run_id not in cache:
            cache[run_id] = store.predictions(run_id)
        return cache[run_id]

    def metric_of(run_id, task, split="test"):
        return store.metrics(run_id)[split][task][metric]

    rows = {}
    single_seeds = set.intersection(*[set(runs.get(v, {})) for v in singles])
    variant_cells = {"single-task": {s: {t: runs[alone[t]][s] for t in tasks}
                                     for s in sorted(single_seeds)}}
    for variant in SCHEMES:
        if variant in runs:
            variant_cells[variant] = {s: dict.fromkeys(tasks, r)
                                      for s, r in sorted(runs[variant].items())}
    for variant, cells in variant_cells.items():
        if not cells:
            continue
        per_task = {t: [metric_of(c[t], t) for c in cells.values()] for t in tasks}
        dev = [statistics.mean(metric_of(c[t], t, "dev") for t in tasks) for c in cells.values()]
        means = [statistics.mean(per_task[t][i] for t in tasks) for i in range(len(cells))]
        row = {"seeds": sorted(cells), "test": per_task, "dev_mean": dev, "test_mean": means}
        if variant != "single-task" and variant_cells["single-task"]:
            base = variant_cells["single-task"]
            sides = [([predictions(c[t])[t] for c in cells.values()],
                      [predictions(c[t])[t] for c in base.values()]) for t in tasks]
            if len(tasks) > 1:
                interval = paired_bootstrap_mean(sides, metric, resamples=resamples)
            else:
                interval = paired_bootstrap(*sides[0], metric, resamples=resamples)
            row["vs_single_task"] = interval.to_json()
        rows[variant] = row
    sign = -1 if bench == "classification" else 1  # Mean error: lower is better.
    label = "mean error" if sign < 0 else f"{tasks[0]} {metric}"
    header = ["variant", "seeds", *(f"{t} test {metric}" for t in tasks)] if len(tasks) > 1 \
        else ["variant", "seeds"]
    header += [f"test {label}", "dev mean", "Δ vs single-task (95% CI)", "p"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for variant, row in rows.items():
        shown = ([100 - m for m in row["test_mean"]] if sign < 0 else row["test_mean"])
        cells = [variant, str(len(row["seeds"]))]
        if len(tasks) > 1:
            cells += [mean_sd(row["test"][t]) for t in tasks]
        cells += [mean_sd(shown), mean_sd(row["dev_mean"])]
        b = row.get("vs_single_task")
        if b:
            d, lo, hi = (sign * b["difference"], sign * b["low"], sign * b["high"])
            lo, hi = min(lo, hi), max(lo, hi)
            p = "< 0.001" if b["p_value"] < 0.001 else f"{b['p_value']:.3f}"
            cells += [f"{d:+.2f} [{lo:+.2f}, {hi:+.2f}]", p]
        else:
            cells += ["", ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines), rows


def shared_features(workdir: str, task_splits):
    """The mean-pooled top layer of the shared encoder (``shared``) of a run's best
    checkpoint, frozen, on each (task, split) of `task_splits`: a list of float arrays."""
    import keras
    import numpy as np

    from tfmtl.data.pipeline import make_dataset
    from tfmtl.experiment import Experiment, restore_model
    from tfmtl.layers.masked_pooling import MaskedPooling

    experiment = Experiment.restore(workdir)
    model = experiment.build_model(restoring=True)
    restore_model(workdir, model.model, "best")
    layers = experiment.config.model.encoders.shared.layers
    top = model.model.get_layer(f"shared_{layers}_dropout").output
    mask = keras.ops.not_equal(model.inputs["words"], 0)
    probe = keras.Model(model.model.inputs, MaskedPooling("mean")(top, mask=mask))
    names = experiment.featurizer.input_names()
    features = []
    for task, split in task_splits:
        rows = []
        for batch in make_dataset(experiment.examples(task, split), batch_size=256):
            rows.append(np.asarray(probe({n: batch[n] for n in names}, training=False)))
        features.append(np.concatenate(rows))
    return features


def probe_corpora(workdir: str, tasks, seed: int = 0, per_task: int = 3000) -> dict:
    """How well a fresh classifier tells the tasks' corpora apart from a run's frozen
    shared features: trained on (up to `per_task` of) each task's training sentences,
    scored on their dev sentences; a linear (softmax) probe and a one-hidden-layer MLP,
    beside the majority-class rate and the features' mean L2 norm (features that
    collapsed towards zero fool a probe too)."""
    import keras
    import numpy as np

    train = shared_features(workdir, [(t, "train") for t in tasks])
    dev = shared_features(workdir, [(t, "dev") for t in tasks])
    rng = np.random.default_rng(seed)
    train = [x[rng.permutation(len(x))[:per_task]] for x in train]
    x = np.concatenate(train)
    y = np.concatenate([np.full(len(f), i) for i, f in enumerate(train)])
    dx = np.concatenate(dev)
    dy = np.concatenate([np.full(len(f), i) for i, f in enumerate(dev)])
    norm = float(np.linalg.norm(dx, axis=1).mean())  # Collapsed features have none.
    mean, scale = x.mean(0), x.std(0) + 1e-6
    x, dx = (x - mean) / scale, (dx - mean) / scale
    result = {"majority": float(np.bincount(dy).max() / len(dy)) * 100,
              "dev_sentences": int(len(dy)), "feature_norm": norm}
    for name, hidden in (("linear", 0), ("mlp", 128)):
        keras.utils.set_random_seed(seed)
        layers = [keras.Input((x.shape[1],))]
        if hidden:
            layers.append(keras.layers.Dense(hidden, activation="relu"))
        layers.append(keras.layers.Dense(len(tasks)))
        model = keras.Sequential(layers)
        model.compile(keras.optimizers.Adam(1e-3),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        model.fit(x, y, batch_size=64, epochs=30, verbose=0, validation_split=0.1,
                  shuffle=True, callbacks=[keras.callbacks.EarlyStopping(
                      patience=3, restore_best_weights=True)])
        predicted = np.argmax(model.predict(dx, batch_size=512, verbose=0), -1)
        result[name] = float(np.mean(predicted == dy)) * 100
    return result


def probe_table(result, bench: str, variants, path: str) -> str:
    """Probes every finished run of `variants` (cached by run id in `path`) and renders
    their mean corpus-probe accuracies next to the mean dev score of the main metric."""
    singles = BENCHMARKS[bench][1]
    tasks = list(singles) if bench == "classification" else ["chunk", "upos"]
    cached = {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            cached = json.load(f)
    lines = ["| variant | seeds | probe linear | probe MLP | majority | feature norm | dev mean |",
             "|---|---|---|---|---|---|---|"]
    metric = BENCHMARKS[bench][3]
    for variant in variants:
        entries = [e for e in result.entries if e.variant == variant and e.status == "finished"]
        if not entries:
            continue
        rows = []
        for e in entries:
            if e.run_id not in cached:
                workdir = result.store.workdir(e.run_id)
                if not os.path.isdir(os.path.join(workdir, "best")):
                    print(f"probe: run {e.run_id} ({variant}) has no workdir here; skipped")
                    continue
                cached[e.run_id] = {"variant": variant, "seed": e.seed,
                                    **probe_corpora(workdir, tasks, seed=e.seed)}
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path + ".tmp", "w", encoding="utf-8") as f:
                    json.dump(cached, f, indent=1, sort_keys=True)
                os.replace(path + ".tmp", path)
            metrics = result.store.metrics(e.run_id)["dev"]
            rows.append((cached[e.run_id], statistics.mean(
                metrics[t][metric] for t in tasks if t in metrics)))
        if rows:
            lines.append("| " + " | ".join([
                variant, str(len(rows)), mean_sd([r["linear"] for r, _ in rows]),
                mean_sd([r["mlp"] for r, _ in rows]), f"{rows[0][0]['majority']:.2f}",
                # (Probes cached before the norm was recorded have none.)
                mean_sd([r["feature_norm"] for r, _ in rows if "feature_norm" in r]),
                mean_sd([d for _, d in rows])]) + " |")
    return "\n".join(lines)


def main(argv):
    del argv
    from tfmtl.runs import RunsError, sweep_report, write_report

    bench = _BENCH.value
    shared = os.path.abspath(_SHARED.value)
    data_dir = shared if BENCHMARKS[bench][2] else prepare_split(_SPLIT_DIR.value, shared)
    try:
        sweep = build_sweep(bench, [int(s) for s in _SEEDS.value], _VARIANTS.value,
                            os.path.abspath(data_dir), _OVERRIDES.value)
    except RunsError as e:
        sys.exit(f"sharing.py: error: {e}")
    results = results_path(f"sharing_{bench}", _RESULTS.value)
    result = execute_sweep(sweep, results, runs_dir=_RUNS_DIR.value, executor=_EXECUTOR.value,
                           workers=_WORKERS.value, ray_address=_RAY_ADDRESS.value)
    out = os.path.join(_OUT.value, bench)
    write_report(sweep_report(result, resamples=_BOOTSTRAP.value), out)
    table, rows = sharing_table(result, bench, _BOOTSTRAP.value)
    with open(os.path.join(out, "sharing.json"), "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=1)
    print("\n" + table)
    probed = [v for v in _PROBE.value if v in {e.variant for e in result.entries}]
    if probed:
        # Beside the results archive (committed: a run restored from the archive has no
        # workdir to probe), or in the report folder without one.
        path = (os.path.join(os.path.dirname(results), f"sharing_probe_{bench}.json")
                if results else os.path.join(out, "probe.json"))
        print("\nfrozen shared features -> corpus (dev accuracy, %):\n"
              + probe_table(result, bench, probed, path))
    print(f"report: {out}")
    if result.failed:
        sys.exit(1)


if __name__ == "__main__":
    app.run(main)
