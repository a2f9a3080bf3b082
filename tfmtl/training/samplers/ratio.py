"""Mixing ratios relative to a reference task (Luong et al. 2015)."""

import numpy as np

from tfmtl.training.samplers import SAMPLERS, Sampler


@SAMPLERS.register("ratio")
class MixingRatio(Sampler):
    """Each task is trained with probability proportional to its mixing ratio.

    A task's ``mixing_ratio`` is read relative to the reference task's: with
    the reference at 1.0 and POS at 0.5, POS batches come half as often as
    reference batches.

    Reference:
        Luong, Le, Sutskever, Vinyals and Kaiser, "Multi-task sequence to
        sequence learning", ICLR 2016 (arXiv 1511.06114).
    """

    reads_task_keys = ("mixing_ratio",)

    def probabilities(self) -> np.ndarray:
        reference = self.tasks[self.reference].mixing_ratio
        if reference <= 0:
            raise ValueError(
                f"config.tasks.{self.reference}.mixing_ratio: the reference task's ratio must be "
                f"> 0, got {reference}"
            )
        return np.array([self.tasks[n].mixing_ratio / reference for n in self.names])
