"""Stopping a run whose reference dev score stopped improving."""

from __future__ import annotations

from tfmtl import config as config_lib
from tfmtl.training.callbacks import CALLBACKS, Callback
from tfmtl.training.callbacks.summaries import message


@CALLBACKS.register("early_stopping")
class EarlyStopping(Callback):
    """Stops after ``config.training.patience`` evaluations without a gain (0 = never);
    runs after :class:`BestCheckpoint`, which counts them."""

    built_in = True

    def on_eval_end(self, run, results):
        patience = run.config.training.patience
        state = run.state
        if not patience or state.bad_evals.numpy() < patience:
            return
        run.stop = True
        state.stopped.assign(True)
        reference = config_lib.reference_task(run.config)
        metric = run.experiment.task_by_name[reference].main_metric
        message(f"early stop at step {run.step}: no {reference} dev {metric} gain in "
                f"{patience} evaluations (best {state.best_value.numpy():.2f} at step "
                f"{state.best_step.numpy()})")
