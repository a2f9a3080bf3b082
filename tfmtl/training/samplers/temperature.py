"""Temperature-scaled size sampling."""

import numpy as np

from tfmtl.config import positive
from tfmtl.training.samplers import SAMPLERS, Sampler, _capped


@SAMPLERS.register("temperature")
class Temperature(Sampler):
    """p_i proportional to min(n_i, cap) ** (1 / T).

    T = 1 is proportional sampling; large T approaches uniform, which lifts
    small tasks (as in multilingual and T5-style mixtures).
    """

    reads = ("temperature", "cap")

    @classmethod
    def check_config(cls, section, key):
        positive(section.temperature, f"{key}.temperature")
        positive(section.cap, f"{key}.cap", allow_zero=True)

    def probabilities(self) -> np.ndarray:
        return _capped(self.sizes, self.config.cap) ** (1.0 / self.config.temperature)
