"""tfmtl-evaluate: scores a trained workdir's tasks on a split.

    tfmtl-evaluate --workdir=runs/quickstart [--split=test] [--checkpoint=best]

Prints one line per task and writes eval_{split}.json into the workdir.
"""

from tfmtl.cli.common import quiet_tensorflow, run_main

quiet_tensorflow()

from absl import app, flags  # noqa: E402

_WORKDIR = flags.DEFINE_string("workdir", None, "A workdir written by tfmtl-train.")
_SPLIT = flags.DEFINE_enum("split", "test", ["train", "dev", "test"], "Split to score.")
_CHECKPOINT = flags.DEFINE_enum("checkpoint", "best", ["best", "latest"], "Weights to score.")
_TASKS = flags.DEFINE_list("tasks", None, "Tasks to score (default: all).")
flags.mark_flag_as_required("workdir")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")

    def body():
        from tfmtl.training.evaluation import evaluate_workdir, format_metrics

        results = evaluate_workdir(_WORKDIR.value, _SPLIT.value, _CHECKPOINT.value, _TASKS.value)
        if not results:
            raise ValueError(f"no task has {_SPLIT.value} data in {_WORKDIR.value}")
        print(format_metrics(results, _SPLIT.value))

    run_main("tfmtl-evaluate", body)


def run():
    app.run(main)


if __name__ == "__main__":
    run()
