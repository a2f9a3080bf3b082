r"""tfmtl-sweep: trains the cross product of variants and seeds through the run store.

    tfmtl-sweep --config=configs/quickstart.py --seeds=0,1,2 \
        [--grid=tasks.pos.mixing_ratio=0.5,1.0 ...] [--variants=FILE] [--baseline=NAME] \
        [--runs_dir=runs/store] [--executor=local|ray] [--workers=N] [--ray_address=ADDR] \
        [--report=DIR] [--config.KEY=VALUE ...]

Runs already finished in the store are not trained again; a killed sweep
started again resumes. Prints the report's main tables and writes the whole
report (every metric) as report.md and report.json into --report. Exits
with 1 when a run failed (the report lists it), 2 on a bad request.
"""

import os

from tfmtl.cli.common import config_flags_parser, override_string, quiet_tensorflow, run_main

quiet_tensorflow()

from absl import app, flags  # noqa: E402
from ml_collections import config_flags  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Config file (e.g. configs/quickstart.py, or FILE:ARG); --config.KEY=VALUE "
    "overrides apply to every run.", lock_config=False)
_SEEDS = flags.DEFINE_list("seeds", ["0"], "Seeds: every variant runs once per seed.")
_GRID = flags.DEFINE_multi_string(
    "grid", [], "KEY=V1,V2,...: a variant per value (several --grid: their cross product).")
_VARIANTS = flags.DEFINE_string(
    "variants", None, "JSON file of named variants (see tfmtl.runs.sweep.read_variants_file).")
_BASELINE = flags.DEFINE_string(
    "baseline", None, "Variant the others are compared to (default: the variants file's "
    "baseline, else the first variant).")
_RUNS_DIR = flags.DEFINE_string("runs_dir", os.path.join("runs", "store"), "The run store.")
_EXECUTOR = flags.DEFINE_enum("executor", "local", ["local", "ray"], "Where runs execute.")
_WORKERS = flags.DEFINE_integer("workers", 1, "local: runs at a time.", lower_bound=1)
_CPUS_PER_RUN = flags.DEFINE_integer(
    "cpus_per_run", 0, "Cores per run (0: local, the cores divided by --workers; ray, 1).",
    lower_bound=0)
_RAY_ADDRESS = flags.DEFINE_string(
    "ray_address", "", "ray: the cluster (auto, HOST:PORT, ray://HOST:PORT; \"\": the one "
    "RAY_ADDRESS or `ray start` on this machine names, else a local Ray for the sweep).")
_REPORT = flags.DEFINE_string(
    "report", "", "Folder for report.md and report.json (default: runs/sweeps/<sweep id> "
    "beside the run store).")
_BOOTSTRAP = flags.DEFINE_integer("bootstrap", 1000, "Bootstrap resamples.", lower_bound=1)
_CONFIDENCE = flags.DEFINE_float("confidence", 0.95, "Level of the bootstrap intervals.",
                                 lower_bound=0.5, upper_bound=0.999)
_METRICS = flags.DEFINE_list(
    "metrics", None, "Metrics to print, as SPLIT/TASK/METRIC (default: each task's test F1 "
    "or accuracy); the report files hold every metric.")
_RESULTS = flags.DEFINE_string(
    "results", "", "A results archive (.jsonl.xz; tfmtl.runs.results_archive): the sweep's "
    "runs it holds are put into the store as finished, and every finished run of the sweep "
    "is added to it after, so a sweep can be completed on machines that keep no run store.")
_PROGRESS = flags.DEFINE_bool("progress", True, "Show the progress bar.")
flags.mark_flag_as_required("config")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")

    def body():
        import hashlib
        import sys

        from tfmtl.runs import (
            LocalExecutor,
            RayExecutor,
            RunsError,
            RunStore,
            Sweep,
            parse_grid,
            read_variants_file,
            report_markdown,
            sweep_report,
            write_report,
        )
        from tfmtl.runs.sweep import check_grid, combine

        config = config_flags.get_config_filename(flags.FLAGS["config"])
        overrides = [f"{key}={override_string(value)}" for key, value in
                     config_flags.get_override_values(flags.FLAGS["config"]).items()]
        try:
            seeds = [int(s) for s in _SEEDS.value]
        except ValueError:
            raise RunsError(f"--seeds: expected integers, got {','.join(_SEEDS.value)}") from None
        check_grid(config, _GRID.value)
        variants, baseline = [], None
        if _VARIANTS.value:
            variants, baseline = read_variants_file(_VARIANTS.value, default_config=config)
        sweep = Sweep(config, combine(variants, parse_grid(_GRID.value)), seeds, overrides,
                      baseline=_BASELINE.value or baseline)
        store = RunStore(_RUNS_DIR.value)
        if _EXECUTOR.value == "ray":
            if flags.FLAGS["workers"].present:
                print("tfmtl-sweep: --workers is for --executor=local (ignored): Ray runs as "
                      "many runs at once as its CPUs allow, --cpus_per_run each",
                      file=sys.stderr)
            executor = RayExecutor(_RAY_ADDRESS.value, cpus_per_run=_CPUS_PER_RUN.value or 1)
        else:
            executor = LocalExecutor(_WORKERS.value, cpus_per_run=_CPUS_PER_RUN.value)
        result = sweep.execute(store, executor, progress=_PROGRESS.value,
                               results=_RESULTS.value)
        report = sweep_report(result, resamples=_BOOTSTRAP.value, confidence=_CONFIDENCE.value)
        shown = _METRICS.value or report["main_metrics"]
        unknown = [m for m in shown if m not in report["metrics"]]
        if unknown:
            raise RunsError(f"--metrics: no metric {unknown[0]!r}; metrics: "
                            f"{', '.join(report['metrics'])}")
        directory = _REPORT.value
        if not directory:
            cells = ",".join(f"{e.variant}:{e.seed}:{e.run_id}" for e in result.entries)
            sweep_id = hashlib.sha256(cells.encode()).hexdigest()[:12]
            directory = os.path.join(os.path.dirname(store.root), "sweeps", sweep_id)
        markdown, json_path = write_report(report, directory)
        print("\n" + report_markdown(report, metrics=shown))
        print(f"report: {markdown} (every metric), {json_path}")
        if result.failed:
            sys.exit(1)

    run_main("tfmtl-sweep", body)


def run():
    app.run(main, flags_parser=config_flags_parser("tfmtl-sweep"))


if __name__ == "__main__":
    run()
