"""Sampling in proportion to training-set size."""

import numpy as np

from tfmtl.config import positive
from tfmtl.training.samplers import SAMPLERS, Sampler, _capped


@SAMPLERS.register("proportional")
class Proportional(Sampler):
    """p_i proportional to n_i, the task's training sentences (capped by ``cap``)."""

    reads = ("cap",)

    @classmethod
    def check_config(cls, section, key):
        positive(section.cap, f"{key}.cap", allow_zero=True)

    def probabilities(self) -> np.ndarray:
        return _capped(self.sizes, self.config.cap)
