r"""Low-level supervision on CoNLL-2000: chunking alone vs with POS at the top vs at layer 1.

Trains every variant of configs/conll2000_pos_chunk.py with several seeds under
the same budget (same steps over the same chunking batches) and reports test
chunk F1 at the best dev checkpoint (the last 500 training sentences are dev):

    python bench/conll2000_lowlevel.py --data_dir=../shared/data/conll2000 \
        --out=runs/bench_conll2000 --seeds=0,1,2

Each run is a `tfmtl-train` process with its own workdir under --out, so a
killed benchmark resumes where it stopped. Prints a table and writes
results.json under --out.
"""

import json
import os
import statistics
import subprocess
import sys

from absl import app, flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "configs", "conll2000_pos_chunk.py")
VARIANTS = ("alone", "top", "layer1", "labels")
LABELS = {"alone": "chunking alone", "top": "+ POS at the top layer",
          "layer1": "+ POS at layer 1",
          "labels": "+ POS at layer 1, its labels fed upwards"}

_DATA_DIR = flags.DEFINE_string("data_dir", os.path.join(REPO, "..", "shared", "data",
                                                         "conll2000"), "CoNLL-2000 folder.")
_OUT = flags.DEFINE_string("out", "runs/bench_conll2000", "Folder for the runs.")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds.")
_VARIANTS = flags.DEFINE_list("variants", list(VARIANTS[:3]), "Variants to run: "
                              f"{', '.join(VARIANTS)}.")
_OVERRIDES = flags.DEFINE_multi_string("override", [], "Extra --config.KEY=VALUE for every run.")


def run_variant(variant: str, seed: int) -> dict:
    workdir = os.path.join(_OUT.value, f"{variant}_seed{seed}")
    metrics_path = os.path.join(workdir, "metrics.json")
    if not os.path.exists(metrics_path):
        command = [sys.executable, "-m", "tfmtl.cli.train", f"--config={CONFIG}:{variant}",
                   f"--workdir={workdir}", f"--config.data_dir={os.path.abspath(_DATA_DIR.value)}",
                   f"--config.seed={seed}", *[f"--config.{o}" for o in _OVERRIDES.value]]
        print(" ".join(command), flush=True)
        subprocess.run(command, check=True)
    with open(metrics_path, encoding="utf-8") as f:
        return json.load(f)


def main(argv):
    del argv
    seeds = [int(s) for s in _SEEDS.value]
    results = {}
    for variant in _VARIANTS.value:
        for seed in seeds:
            metrics = run_variant(variant, seed)
            results.setdefault(variant, []).append({
                "seed": seed,
                "test_f1": metrics["test"]["chunk"]["f1"],
                "dev_f1": metrics["dev"]["chunk"]["f1"],
                "best_step": metrics["best_step"],
            })
    os.makedirs(_OUT.value, exist_ok=True)
    with open(os.path.join(_OUT.value, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    base = statistics.mean(r["test_f1"] for r in results["alone"]) if "alone" in results else None
    print(f"\n| variant | test chunk F1 (mean ± sd over {len(seeds)} seeds) | per seed | "
          "Δ vs alone | dev F1 (mean) |")
    print("|---|---|---|---|---|")
    for variant, runs in results.items():
        f1 = [r["test_f1"] for r in runs]
        sd = statistics.stdev(f1) if len(f1) > 1 else 0.0
        delta = f"{statistics.mean(f1) - base:+.2f}" if base is not None else "n/a"
        dev = statistics.mean(r["dev_f1"] for r in runs)
        print(f"| {LABELS[variant]} | {statistics.mean(f1):.2f} ± {sd:.2f} | "
              f"{', '.join(f'{x:.2f}' for x in f1)} | {delta} | {dev:.2f} |")


if __name__ == "__main__":
    app.run(main)
