"""Task samplers: which task each training step trains.

A sampler turns the tasks' configs and training-set sizes into sampling
probabilities; the draw itself is a pure function of ``(seed, step)``, so
every worker picks the same task at every step and a resumed run can replay
how many batches each task has consumed. Add a sampler by writing a module
in this package:

    @SAMPLERS.register("mine")
    class Mine(Sampler):
        @classmethod
        def default_config(cls):  # Its own keys, beside config.training.sampler.type.
            ...
        def probabilities(self) -> np.ndarray: ...
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import ClassVar

import ml_collections
import numpy as np

from tfmtl.registry import Registry

SAMPLERS = Registry("task sampler", "tfmtl.training.samplers")


class Sampler:
    """Draws a task index per step with fixed probabilities, reproducibly.

    Args:
        sampler_config: the ``config.training.sampler`` section.
        tasks: task name -> task config entry, in order.
        sizes: task name -> number of training sentences.
        reference: the reference task's name.
        seed: the run's seed.
    """

    BLOCK = 4096  # Steps drawn at once; block b is drawn from a generator seeded (seed, b).
    # The keys of the tasks' entries this sampler reads (the ratio sampler: mixing_ratio);
    # set away from its default where no sampler reads it, a task key is a config error.
    reads_task_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, sampler_config: ml_collections.ConfigDict,
                 tasks: Mapping[str, ml_collections.ConfigDict], sizes: Mapping[str, int],
                 reference: str, seed: int):
        self.config = sampler_config
        self.tasks = dict(tasks)
        self.names: list[str] = list(tasks)
        self.sizes = np.array([sizes[name] for name in self.names], dtype=np.float64)
        self.reference = reference
        self.seed = seed
        p = np.asarray(self.probabilities(), dtype=np.float64)
        if p.shape != (len(self.names),) or np.any(p < 0) or not p.sum() > 0:
            raise ValueError(f"sampler {type(self).__name__} gave invalid probabilities {p}")
        self.p = p / p.sum()

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        """The sampler's own keys of ``config.training.sampler`` (besides ``type``) with
        their defaults: its schema, which validation completes the section with. Default:
        none."""
        return ml_collections.ConfigDict()

    @classmethod
    def check_config(cls, section: ml_collections.ConfigDict, key: str) -> None:
        """Checks the keys the sampler reads (raises ConfigError naming one). Default: none."""

    def probabilities(self) -> np.ndarray:
        """Unnormalised sampling weights, one per task in order."""
        raise NotImplementedError

    @functools.lru_cache(maxsize=4)  # noqa: B019 (a sampler lives as long as its run)
    def _block(self, block: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, block])
        return rng.choice(len(self.names), size=self.BLOCK, p=self.p).astype(np.int32)

    def task_at(self, step: int) -> int:
        """The index of the task trained at `step` (0-based)."""
        return int(self._block(step // self.BLOCK)[step % self.BLOCK])

    def counts(self, step: int) -> np.ndarray:
        """How many times each task was drawn in steps [0, step)."""
        counts = np.zeros(len(self.names), dtype=np.int64)
        full, rest = divmod(step, self.BLOCK)
        for block in range(full):
            rng = np.random.default_rng([self.seed, block])
            draws = rng.choice(len(self.names), size=self.BLOCK, p=self.p)
            counts += np.bincount(draws, minlength=len(self.names))
        if rest:
            counts += np.bincount(self._block(full)[:rest], minlength=len(self.names))
        return counts


def make_sampler(sampler_config: ml_collections.ConfigDict,
                 tasks: Mapping[str, ml_collections.ConfigDict], sizes: Mapping[str, int],
                 reference: str, seed: int) -> Sampler:
    """Builds the sampler the config names."""
    return SAMPLERS.get(sampler_config.type)(sampler_config, tasks, sizes, reference, seed)


def _capped(sizes: np.ndarray, cap: int) -> np.ndarray:
    return np.minimum(sizes, cap) if cap else sizes


__all__ = ["SAMPLERS", "Sampler", "make_sampler"]
