"""Sampling in proportion to training-set size."""

import ml_collections
import numpy as np

from tfmtl.config import positive
from tfmtl.training.samplers import SAMPLERS, Sampler, _capped


@SAMPLERS.register("proportional")
class Proportional(Sampler):
    """p_i proportional to n_i, the task's training sentences (capped by ``cap``)."""

    @classmethod
    def default_config(cls):
        c = ml_collections.ConfigDict()
        c.cap = 0  # Cap on n_i (0 = none).
        return c

    @classmethod
    def check_config(cls, section, key):
        positive(section.cap, f"{key}.cap", allow_zero=True)

    def probabilities(self) -> np.ndarray:
        return _capped(self.sizes, self.config.cap)
