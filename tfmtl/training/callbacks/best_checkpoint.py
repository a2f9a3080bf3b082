"""Keeping the checkpoint with the best reference dev score."""

from __future__ import annotations

from tfmtl import config as config_lib
from tfmtl.training.callbacks import CALLBACKS, Callback


@CALLBACKS.register("best_checkpoint")
class BestCheckpoint(Callback):
    """After each evaluation, saves the model to ``workdir/best`` when the reference
    task's main dev metric improved (or when it has no dev set: the latest is the
    best known), and counts evaluations without a gain in ``state.bad_evals``."""

    built_in = True

    def on_eval_end(self, run, results):
        reference = config_lib.reference_task(run.config)
        metric = run.experiment.task_by_name[reference].main_metric
        value = results.get(reference, {}).get(metric)
        state = run.state
        if value is None:
            state.best_step.assign(run.step)
            run.checkpoints.save_best(run.step)
        elif value > state.best_value.numpy():
            state.best_value.assign(value)
            state.best_step.assign(run.step)
            state.bad_evals.assign(0)
            run.checkpoints.save_best(run.step)
        else:
            state.bad_evals.assign_add(1)
