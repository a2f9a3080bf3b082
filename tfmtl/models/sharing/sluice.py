"""Sluice networks: columns split into subspaces, mixed across tasks and subspaces, with
learned layer weights per task and a subspace orthogonality penalty."""

from __future__ import annotations

import ml_collections
from keras import ops

from tfmtl.config import ConfigError
from tfmtl.layers.encoder_features import EncoderFeatures
from tfmtl.layers.layer_mixing import LayerMixing
from tfmtl.layers.orthogonality import Orthogonality
from tfmtl.models.sharing import SHARING
from tfmtl.models.sharing.cross_stitch import CrossStitch, check_self_weight


def subspace(x, index: int, subspaces: int, units: int, directions: int):
    """Part ``index`` of each direction's ``units`` of ``x`` [batch, time, directions * units],
    the directions' parts concatenated."""
    part = units // subspaces
    pieces = [x[..., d * units + index * part: d * units + (index + 1) * part]
              for d in range(directions)]
    return pieces[0] if directions == 1 else ops.concatenate(pieces, axis=-1)


@SHARING.register("sluice")
class Sluice(CrossStitch):
    """A column per task whose layers are split into ``subspaces`` parts (each
    direction's units split evenly). After each layer a learned alpha
    ((K * S) x (K * S)) mixes every task's every subspace into every other's; a
    task's head reads the learned beta-weighted sum of its column's mixed layer
    outputs up to its layer (``betas = "learned"``, initialised evenly; or
    ``"fixed"``: the task's layer alone, as a cross-stitch head reads it). The
    orthogonality penalty ``weight * ||G_1^T G_2||_F^2`` between the subspaces
    of each column's layer outputs (every pair, before mixing) pushes them to
    hold different things, logged as ``<encoder>/orthogonality``. Every alpha
    and beta is logged to TensorBoard (``sharing/...``). With one subspace,
    fixed betas and no penalty, a sluice network is a cross-stitch network.

    Reference:
        Ruder, Bingel, Augenstein and Søgaard, "Latent Multi-task Architecture Learning",
        AAAI 2019.
    """

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        c = ml_collections.ConfigDict()
        c.subspaces = 2  # Parts each layer (each direction's units) is split into.
        c.self_weight = 0.9  # Initial alpha of a subspace on itself (rows sum to 1).
        c.betas = "learned"  # "learned" (initialised evenly over the layers) or "fixed".
        c.orthogonality = 1e-3  # Weight of the subspace orthogonality penalty (0: off).
        return c

    @classmethod
    def check_config(cls, options, key, config):
        check_self_weight(options, key)
        if options.subspaces < 1:
            raise ConfigError(f"{key}.subspaces", f"must be >= 1, got {options.subspaces}")
        if options.betas not in ("learned", "fixed"):
            raise ConfigError(f"{key}.betas", f"'learned' or 'fixed', got {options.betas!r}")
        if options.orthogonality < 0:
            raise ConfigError(f"{key}.orthogonality",
                              f"must be >= 0, got {options.orthogonality}")
        for name, encoder in config.model.encoders.items():
            if (encoder.sharing or config.model.sharing) == "sluice" and (
                    encoder.units % options.subspaces):
                raise ConfigError(f"{key}.subspaces",
                                  f"{options.subspaces} subspaces do not split encoder "
                                  f"{name!r}'s {encoder.units} units evenly")

    @property
    def subspaces(self) -> int:
        return self.options.subspaces

    def head_features(self, task, column, layer):
        initial = ([1.0 / layer] * layer if self.options.betas == "learned"
                   else [0.0] * (layer - 1) + [1.0])
        beta = LayerMixing(layer, initial, trainable=self.options.betas == "learned",
                           name=f"{self.name}_{task.name}_beta")
        mixed = beta(column.outputs[:layer])
        return EncoderFeatures(column.outputs[:layer - 1] + [mixed], column.mask, column.units,
                               column.bidirectional, column.states[:layer], column.name)

    def scheme_losses(self, tasks, raw, mask):
        s = self.options.subspaces
        if s < 2 or not self.options.orthogonality:
            return {}
        stack = self.columns[0]
        directions = 2 if stack.bidirectional else 1
        penalties = []
        for c, task in enumerate(tasks):
            for layer, x in enumerate(raw[c], start=1):
                parts = [subspace(x, i, s, stack.units, directions) for i in range(s)]
                for i in range(s):
                    for j in range(i + 1, s):
                        penalty = Orthogonality(
                            self.options.orthogonality,
                            name=f"{self.name}_{task.name}_{layer}_orth_{i}_{j}")
                        penalties.append(penalty(parts[i], parts[j], mask))
        return {"orthogonality": ops.sum(ops.stack(penalties))}
