"""Temperature-scaled size sampling."""

import ml_collections
import numpy as np

from tfmtl.config import positive
from tfmtl.training.samplers import SAMPLERS, Sampler, _capped


@SAMPLERS.register("temperature")
class Temperature(Sampler):
    """p_i proportional to min(n_i, cap) ** (1 / T).

    T = 1 is proportional sampling; large T approaches uniform, which lifts
    small tasks (as in multilingual and T5-style mixtures).
    """

    @classmethod
    def default_config(cls):
        c = ml_collections.ConfigDict()
        c.temperature = 2.0  # T: p_i ~ min(n_i, cap) ** (1 / T).
        c.cap = 0  # Cap on n_i (0 = none).
        return c

    @classmethod
    def check_config(cls, section, key):
        positive(section.temperature, f"{key}.temperature")
        positive(section.cap, f"{key}.cap", allow_zero=True)

    def probabilities(self) -> np.ndarray:
        return _capped(self.sizes, self.config.cap) ** (1.0 / self.config.temperature)
