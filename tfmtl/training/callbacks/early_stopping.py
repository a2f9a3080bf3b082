"""Stopping a run whose reference dev score stopped improving."""

from __future__ import annotations

from tfmtl.training.callbacks import CALLBACKS, Callback
from tfmtl.training.callbacks.best_checkpoint import dev_score
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
        _, what = dev_score(run, {})
        message(f"early stop at step {run.step}: no {what} gain in "
                f"{patience} evaluations (best {state.best_value.numpy():.2f} at step "
                f"{state.best_step.numpy()})")
