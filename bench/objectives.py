r"""Auxiliary objectives (Ruder's catalogue) on real data, through the run store.

Three benchmarks, each a sweep of one config's variants against its baseline
(test metrics at the best dev checkpoint, mean ± sd over seeds, paired
bootstrap interval of each variant's difference to the baseline):

    conll2000  configs/conll2000_pos_chunk.py  layer1 (chunking + POS at layer 1, the
               baseline), lm (+ language model), lm_crf (+ language model + CRF output);
               test chunk F1
    ud         configs/ud_pos.py               alone (baseline), log_frequency, lm;
               test UPOS accuracy and OOV accuracy
    polarity   configs/polarity.py             alone (baseline), lexicon, lm; test accuracy
               on MR's deduplicated split (written first by tfmtl-data split, with
               the SST-train lexicon, into --split_dir)

    python bench/objectives.py --bench=conll2000 --seeds=0 [--variants=layer1,lm,lm_crf]
        [--runs_dir=runs/store] [--workers=2] [--out=runs/bench_objectives]

Screen with one seed, then rerun the baseline and the best variant (chosen on
dev) with --seeds=0,1,2: runs already in the store are not trained again (the
conll2000 baseline is bench/conll2000_lowlevel.py's layer1 row, the same runs).
Prints the table and writes the sweep's report under --out/BENCH.
"""

import os
import subprocess
import sys

from absl import app, flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # (Loaded by path: tests.)
from bench_sweep import REPO, SHARED, execute_sweep, prepare_split, results_path  # noqa: E402

BENCHMARKS = {
    # name: (config, variants, baseline, data_dir or None, metrics shown)
    "conll2000": ("conll2000_pos_chunk.py", ("layer1", "lm", "lm_crf"), "layer1",
                  os.path.join(SHARED, "conll2000"), ("test/chunk/f1",)),
    "ud": ("ud_pos.py", ("alone", "log_frequency", "lm"), "alone",
           os.path.join(SHARED, "ud_english_ewt"),
           ("test/upos/accuracy", "test/upos/oov_accuracy")),
    "polarity": ("polarity.py", ("alone", "lexicon", "lm"), "alone", None,
                 ("test/polarity/accuracy",)),
}

_BENCH = flags.DEFINE_enum("bench", None, list(BENCHMARKS), "The benchmark.")
_SHARED = flags.DEFINE_string(
    "shared_data", os.environ.get("TFMTL_SHARED_DATA", SHARED), "The folder of the shared "
    "corpora (conll2000/, ud_english_ewt/, sentence_polarity/, ...; default "
    "$TFMTL_SHARED_DATA, else ../shared/data beside the repository).")
_SEEDS = flags.DEFINE_list("seeds", ["0"], "Seeds.")
_VARIANTS = flags.DEFINE_list("variants", [], "Variants (default: all of the benchmark's).")
_OVERRIDES = flags.DEFINE_multi_string("override", [], "Extra KEY=VALUE for every run.")
_OUT = flags.DEFINE_string("out", "runs/bench_objectives", "Folder for the reports.")
_SPLIT_DIR = flags.DEFINE_string("split_dir", "runs/sentiment_split",
                                 "polarity: where tfmtl-data split writes the split.")
_RUNS_DIR = flags.DEFINE_string("runs_dir", os.path.join("runs", "store"), "The run store.")
_EXECUTOR = flags.DEFINE_enum("executor", "local", ["local", "ray"], "Where runs execute.")
_WORKERS = flags.DEFINE_integer("workers", 2, "local: runs at a time.", lower_bound=1)
_RAY_ADDRESS = flags.DEFINE_string("ray_address", "", "ray: the cluster (\"\": a local Ray).")
_BOOTSTRAP = flags.DEFINE_integer("bootstrap", 1000, "Bootstrap resamples.", lower_bound=1)
_RESULTS = flags.DEFINE_string(
    "results", None, "Results archive (tfmtl.runs.results_archive; committed; default "
    "bench/results/objectives_<bench>.jsonl.xz): its runs, and those of the other archives "
    "in its folder, are not trained again, and each finished run is added to it (\"\": "
    "none, train what the store lacks).")
flags.mark_flag_as_required("bench")


def prepare_polarity(split_dir: str, shared: str = SHARED) -> str:
    """Writes the deduplicated MR/SUBJ/SST split and the SST-train lexicon (once)."""
    prepare_split(split_dir, shared)
    lexicon = os.path.join(split_dir, "lexicon.tsv")
    if not os.path.isfile(lexicon):
        subprocess.run([sys.executable, "-m", "tfmtl.cli.data", "lexicon", f"--out={lexicon}",
                        os.path.join(shared, "sst", "train.txt")], check=True, cwd=REPO)
    return os.path.abspath(split_dir)


def build_sweep(bench: str, seeds, variants, data_dir: str, overrides=()):
    from tfmtl.runs import RunsError, Sweep, Variant

    config_name, known, baseline, _, _ = BENCHMARKS[bench]
    config = os.path.join(REPO, "configs", config_name)
    variants = list(variants) or list(known)
    unknown = sorted(set(variants) - set(known))
    if unknown:
        raise RunsError(f"--variants: unknown variant {unknown[0]!r} of {bench}; use "
                        f"{', '.join(known)}")
    return Sweep(config, [Variant(v, config=f"{config}:{v}") for v in variants], seeds=seeds,
                 overrides=[f"data_dir={data_dir}", *overrides],
                 baseline=baseline if baseline in variants else None)


def main(argv):
    del argv
    from tfmtl.runs import RunsError, report_markdown, sweep_report, write_report

    bench = _BENCH.value
    shared = os.path.abspath(_SHARED.value)
    folder = BENCHMARKS[bench][3]
    data_dir = (os.path.join(shared, os.path.relpath(folder, SHARED)) if folder
                else prepare_polarity(_SPLIT_DIR.value, shared))
    try:
        sweep = build_sweep(bench, [int(s) for s in _SEEDS.value], _VARIANTS.value,
                            os.path.abspath(data_dir), _OVERRIDES.value)
    except RunsError as e:
        sys.exit(f"objectives.py: error: {e}")
    result = execute_sweep(sweep, results_path(f"objectives_{bench}", _RESULTS.value),
                           runs_dir=_RUNS_DIR.value, executor=_EXECUTOR.value,
                           workers=_WORKERS.value, ray_address=_RAY_ADDRESS.value)
    report = sweep_report(result, resamples=_BOOTSTRAP.value)
    markdown, _ = write_report(report, os.path.join(_OUT.value, bench))
    print("\n" + report_markdown(report, metrics=BENCHMARKS[bench][4]))
    print(f"report: {markdown} (every metric)")
    if result.failed:
        sys.exit(1)


if __name__ == "__main__":
    app.run(main)
