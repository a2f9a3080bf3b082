r"""tfmtl-group: which tasks of a config to train together, under a budget of networks.

    tfmtl-group --config=configs/quickstart.py --workdir=runs/group --budget=1,2,3 \
        [--method=exhaustive|hoa|esa|tag|all] [--fraction=0.2] [--score=loss|metric] \
        [--half_size] [--retrain] [--runs_dir=runs/store] [--executor=local|ray] \
        [--workers=N] [--ray_address=ADDR] [--affinity_every=10] [--config.KEY=VALUE ...]

Standley et al. 2019 (exhaustive, HOA, ESA) and Fifty et al. 2021 (TAG): every network a
method needs is a tfmtl-train of the config's tasks in that group on the ``all`` step, as
many steps as the config says whatever the group's size, its checkpoint chosen on the
mean of its members' dev losses each divided by the member's single-task dev loss, each
member scored there (its dev loss, or its main dev metric with --score=metric). The
networks go through the run store: a search killed and started again with the same
command trains nothing that finished; a failed network is reported with its error, the
search goes on and the methods that needed it are marked incomplete. Writes into
--workdir: groups.json, report.md (a table per budget), networks.json (every network's
run), pairs.png (each task's score change in each pair, and TAG's affinities) and
budget.png (total score against budget per method). Exits with 1 when a network failed,
2 on a bad request.
"""

import os

from tfmtl.cli.common import config_flags_parser, override_string, quiet_tensorflow, run_main

quiet_tensorflow()

from absl import app, flags  # noqa: E402
from ml_collections import config_flags  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "The config whose tasks to group (FILE or FILE:ARG); --config.KEY=VALUE "
    "overrides apply to every network.", lock_config=False)
_WORKDIR = flags.DEFINE_string("workdir", None, "Folder for the report, tables and plots.")
_BUDGET = flags.DEFINE_list("budget", None, "Budgets in full-size networks (1, 2.5, ...): "
                            "the search's answer for each.")
_METHOD = flags.DEFINE_string("method", "hoa", "exhaustive, hoa, esa, tag, a comma-separated "
                              "list of them, or all.")
_FRACTION = flags.DEFINE_float("fraction", 0.2, "esa: the fraction of the steps its networks "
                               "train.")
_SCORE = flags.DEFINE_enum("score", "loss", ["loss", "metric"], "What a member scores: its "
                           "dev loss (Standley et al.) or its main dev metric.")
_HALF = flags.DEFINE_bool("half_size", False, "Also half-size single-task networks (the "
                          "encoders' units halved; cost 0.5).")
_RETRAIN = flags.DEFINE_bool("retrain", False, "Train each chosen set of networks at full "
                             "length and report its test scores beside the estimate, and "
                             "those of all-in-one and all-separate.")
_AFFINITY = flags.DEFINE_integer("affinity_every", 10, "tag: steps between measurements.",
                                 lower_bound=1)
_SOLVER = flags.DEFINE_enum("solver", "branch_and_bound", ["branch_and_bound", "milp"],
                            "The exact search's solver.")
_RUNS_DIR = flags.DEFINE_string("runs_dir", os.path.join("runs", "store"), "The run store.")
_EXECUTOR = flags.DEFINE_enum("executor", "local", ["local", "ray"], "Where networks train.")
_WORKERS = flags.DEFINE_integer("workers", 1, "local: networks at a time.", lower_bound=1)
_RAY_ADDRESS = flags.DEFINE_string(
    "ray_address", "", "ray: the cluster (\"\": the one RAY_ADDRESS or `ray start` names, "
    "else a local Ray).")
_PROGRESS = flags.DEFINE_bool("progress", True, "Show the progress bars.")
flags.mark_flags_as_required(["config", "workdir", "budget"])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")

    def body():
        import sys

        from tfmtl.grouping.search_run import GroupingRequest, run_grouping

        config = config_flags.get_config_filename(flags.FLAGS["config"])
        overrides = [f"{key}={override_string(value)}" for key, value in
                     config_flags.get_override_values(flags.FLAGS["config"]).items()]
        request = GroupingRequest(
            config=config, overrides=overrides, workdir=_WORKDIR.value,
            budgets=_BUDGET.value, methods=_METHOD.value, fraction=_FRACTION.value,
            score=_SCORE.value, half_size=_HALF.value, retrain=_RETRAIN.value,
            affinity_every=_AFFINITY.value, solver=_SOLVER.value, runs_dir=_RUNS_DIR.value,
            executor=_EXECUTOR.value, workers=_WORKERS.value,
            ray_address=_RAY_ADDRESS.value, progress=_PROGRESS.value,
            seed=int(_CONFIG.value.get("seed", 0)))
        outcome = run_grouping(request)
        print(outcome.tables)
        print(f"report: {outcome.paths}")
        if outcome.incomplete:
            sys.exit(1)

    run_main("tfmtl-group", body)


def run():
    app.run(main, flags_parser=config_flags_parser("tfmtl-group"))


if __name__ == "__main__":
    run()
