"""Sampling in proportion to training-set size."""

import numpy as np

from tfmtl.training.samplers import SAMPLERS, Sampler, _capped


@SAMPLERS.register("proportional")
class Proportional(Sampler):
    """p_i proportional to n_i, the task's training sentences (capped by ``cap``)."""

    def probabilities(self) -> np.ndarray:
        return _capped(self.sizes, self.config.cap)
