"""Static weighting: the tasks' losses weighted by their ``loss_weight``."""

from tfmtl.training.weightings import WEIGHTINGS, Weighting


@WEIGHTINGS.register("static")
class Static(Weighting):
    """``sum_i loss_weight_i * L_i``, fixed weights from each task's config."""

    reads_loss_weight = True

    def combine(self, losses):
        total = 0.0
        for name in self.task_names:
            if name in losses:
                total += self.tasks[name].config.loss_weight * losses[name]
        return total

    def metrics(self):
        return {f"{name}/weight": self.tasks[name].config.loss_weight
                for name in self.task_names}
