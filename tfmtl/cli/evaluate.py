"""tfmtl-evaluate: scores a trained workdir's tasks on a split.

    tfmtl-evaluate --workdir=runs/quickstart [--split=test] [--checkpoint=best]
        [--baselines=chunk=93.1,pos=96.0 | --baselines=baselines.json |
         --baselines=chunk=runs/chunk_alone,pos=runs/pos_alone]

Prints one line per task and writes eval_{split}.json into the workdir. With
--baselines, also the Δm over them (the mean relative gain over single-task
baselines, each task's main metric in its direction) and each task's change.
"""

from tfmtl.cli.common import quiet_tensorflow, run_main

quiet_tensorflow()

from absl import app, flags  # noqa: E402

_WORKDIR = flags.DEFINE_string("workdir", None, "A workdir written by tfmtl-train.")
_SPLIT = flags.DEFINE_enum("split", "test", ["train", "dev", "test"], "Split to score.")
_CHECKPOINT = flags.DEFINE_enum("checkpoint", "best", ["best", "latest"], "Weights to score.")
_TASKS = flags.DEFINE_list("tasks", None, "Tasks to score (default: all).")
_BASELINES = flags.DEFINE_string(
    "baselines", None,
    "Single-task baselines for Δm: task=VALUE,... or a JSON file {\"task\": VALUE}; a VALUE "
    "is the baseline's score of the task's main metric on --split, or its trained workdir "
    "(read from its metrics.json or eval_<split>.json). Every scored task that an export "
    "serves needs one.")
flags.mark_flag_as_required("workdir")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")

    def body():
        from tfmtl.training.evaluation import (
            evaluation_report,
            format_delta_m,
            format_metrics,
            read_baselines,
        )

        baselines = read_baselines(_BASELINES.value) if _BASELINES.value is not None else None
        report = evaluation_report(_WORKDIR.value, _SPLIT.value, _CHECKPOINT.value,
                                   _TASKS.value, baselines)
        if not report["metrics"]:
            raise ValueError(f"no task has {_SPLIT.value} data in {_WORKDIR.value}")
        print(format_metrics(report["metrics"], _SPLIT.value))
        if "delta_m" in report:
            print(format_delta_m(report["delta_m"], _SPLIT.value))

    run_main("tfmtl-evaluate", body)


def run():
    app.run(main)


if __name__ == "__main__":
    run()
