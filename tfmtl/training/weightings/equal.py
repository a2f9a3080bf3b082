"""Equal weighting: the sum of the tasks' losses."""

from tfmtl.training.weightings import WEIGHTINGS, Weighting


@WEIGHTINGS.register("equal")
class Equal(Weighting):
    """Every task's loss counts once (``loss_weight`` is ignored; see ``static``)."""

    def combine(self, losses):
        total = 0.0
        for name in self.task_names:
            if name in losses:
                total += losses[name]
        return total
