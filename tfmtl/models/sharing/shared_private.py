"""Adversarial shared-private sharing: a shared encoder kept task-invariant by a
discriminator behind gradient reversal, a private encoder per task, and an orthogonality
penalty between the two."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import ml_collections

from tfmtl.config import ConfigError
from tfmtl.layers.domain_loss import DomainLoss
from tfmtl.layers.encoder_features import EncoderFeatures
from tfmtl.layers.masked_pooling import MaskedPooling
from tfmtl.layers.orthogonality import Orthogonality
from tfmtl.layers.running_standardization import RunningStandardization
from tfmtl.models.sharing import SHARING, HeadBuilder, Shared, SharingScheme
from tfmtl.ops.gradient_reversal import GradientReversal
from tfmtl.tasks.data_source import train_source


def domains(task_configs: Mapping) -> dict[str, int]:
    """Each task's domain: the index of its training corpus among the tasks' (in config
    order; tasks that read the same training sentences, or accompany a task, share it)."""
    sources: dict = {}
    result = {}
    for name, entry in task_configs.items():
        owner = entry.get("accompanies") or name
        owner = owner if owner in task_configs else name
        source = train_source(task_configs[owner].data)
        result[name] = sources.setdefault(source, len(sources))
    return result


@SHARING.register("shared_private")
class SharedPrivate(SharingScheme):
    """A shared (Bi)LSTM stack read by every task plus a private stack per task
    (``<encoder>_<task>``, of ``private_units`` units, as deep as the task's
    ``layer``). A head reads, at its ``layer``, that layer of the shared stack and
    of its private stack joined per direction (``[shared forward, private
    forward, shared backward, private backward]``, so the features' forward and
    backward halves stay each direction's; ``units`` is the sum of both). So
    ``layer`` is low-level supervision on both stacks: a task at layer 1 is
    supervised on the shared stack's first layer and has a one-layer private
    stack. Final states are joined the same way.

    Two losses, each logged by name and added to the steps that train the task:

    - ``<encoder>/adversarial`` (Ganin and Lempitsky 2015; Liu et al. 2017): a
      discriminator on the shared stack's top layer, pooled over the real tokens,
      predicts which training corpus (domain) the batch came from; its
      cross-entropy, times ``adversarial``, trains the discriminator, and reaches
      the shared stack through a ``GradientReversal`` layer whose lambda follows
      Ganin's schedule ``2 / (1 + exp(-10 p)) - 1`` with ``p`` the training
      progress (the ``gradient_reversal`` callback, which validation adds). So the
      shared features are pushed to hide the task they came from. Needs tasks of
      at least two corpora on the encoder. A linear discriminator on the raw pooled
      features is also fooled by features that shrink towards zero (its logits then
      tend to its bias), which we saw happen on the classification trio;
      ``discriminator_input="normalized"`` scales the pooled features to unit norm
      first, so only their direction can hide the corpus; ``"standardized"`` scales
      each dimension by its running mean and variance (``RunningStandardization``),
      as a fresh probe standardizes its input, so a dimension shrunk towards zero
      is read at full scale too.
    - ``<encoder>/orthogonality`` (Bousmalis et al. 2016; Liu et al. 2017):
      ``orthogonality * ||S^T P||_F^2`` between the shared and the task's private
      outputs at the task's layer, over the sentence's tokens, so the private
      stack holds what the shared one does not; with ``normalize`` (the default)
      each token's features are scaled to unit norm first. Without it we saw the
      penalty met by collapse: on the sentence-classification trio the shared
      stack's pooled output fell to 0.5% of its norm without the losses, the
      private stacks carrying the tasks.

    A weight of 0 turns its loss off (with both off this is plain shared-private).
    Labels fed upwards (``label_embedding``) go into the shared stack's next layer.
    Neither the discriminator nor the penalties are exported.

    Reference:
        Liu, Qiu and Huang, "Adversarial Multi-task Learning for Text Classification",
        ACL 2017.
    """

    @classmethod
    def default_config(cls) -> ml_collections.ConfigDict:
        c = ml_collections.ConfigDict()
        c.adversarial = 0.05  # Weight of the discriminator's loss (0: no adversary).
        c.orthogonality = 0.01  # Weight of ||S^T P||_F^2 (0: no penalty).
        # Scale each token's shared and private features to unit norm in the penalty (so it
        # cannot be met by shrinking the shared features to nothing).
        c.normalize = True
        c.private_units = 0  # Units per direction of each private stack (0: the encoder's).
        c.discriminator_units = 0  # Hidden ReLU units of the discriminator (0: linear).
        c.pooling = "mean"  # How the shared features are pooled for it: mean, max, max_mean.
        # What the discriminator reads: "raw" (the pooled features), "normalized" (scaled to
        # unit L2 norm, so the shared stack cannot fool it by shrinking its features) or
        # "standardized" (each dimension by its running mean and variance, as a probe
        # standardizes: shrinking one dimension cannot hide what it holds either).
        c.discriminator_input = "raw"
        return c

    @classmethod
    def check_config(cls, options, key, config):
        for name in ("adversarial", "orthogonality", "private_units", "discriminator_units"):
            if options[name] < 0:
                raise ConfigError(f"{key}.{name}", f"must be >= 0, got {options[name]}")
        if not isinstance(options.normalize, bool):
            raise ConfigError(f"{key}.normalize", f"true or false, got {options.normalize!r}")
        if options.discriminator_input not in ("raw", "normalized", "standardized"):
            raise ConfigError(f"{key}.discriminator_input", "one of raw, normalized, "
                              f"standardized, got {options.discriminator_input!r}")
        if options.pooling not in MaskedPooling.MODES:
            raise ConfigError(f"{key}.pooling", f"one of {', '.join(MaskedPooling.MODES)}, "
                              f"got {options.pooling!r}")
        if not options.adversarial:
            return
        domain = domains(config.tasks)
        for name, encoder in config.model.encoders.items():
            if (encoder.sharing or config.model.sharing) != "shared_private":
                continue
            readers = [task for task, entry in config.tasks.items() if entry.encoder == name]
            if readers and len({domain[task] for task in readers}) < 2:
                raise ConfigError(
                    f"{key}.adversarial",
                    f"the tasks on encoder {name!r} ({', '.join(readers)}) train on one "
                    "corpus, so there is no domain to hide: give them tasks of another "
                    "corpus, or set it to 0")

    @classmethod
    def required_callbacks(cls, options):
        return ("gradient_reversal",) if options.adversarial else ()

    def __init__(self, name, encoder_config, seed=0, options=None):
        super().__init__(name, encoder_config, seed, options)
        self.num_layers = encoder_config.layers

    def __call__(self, embedded, mask, tasks: Sequence, heads: HeadBuilder) -> Shared:
        n = self.num_layers
        private_units = self.options.private_units or self.config.units
        self.private = {
            task.name: self.make_stack(name=f"{self.name}_{task.name}", layers=task.layer(n),
                                       units=private_units,
                                       return_state=task.reads_final_states)
            for task in tasks}
        private = {name: stack(embedded, mask) for name, stack in self.private.items()}
        self.encoder = self.make_stack(
            return_state=any(task.reads_final_states for task in tasks))
        needed = max(task.layer(n) for task in tasks)
        outputs, read = {}, {}

        def between(layer, features):
            extras = []
            for task in tasks:
                if task.layer(n) == layer:
                    read[task.name] = self._join(task, features, private[task.name], layer)
                    outputs[task.name] = heads(task, read[task.name])
                    labels = task.label_features(outputs[task.name]) if layer < needed else None
                    if labels is not None:
                        extras.append(labels)
            return extras

        shared = self.encoder(embedded, mask, depth=needed, between=between)
        return Shared(features={task.name: read[task.name] for task in tasks},
                      outputs={task.name: outputs[task.name] for task in tasks},
                      task_losses=self._task_losses(tasks, shared, private, mask))

    def _join(self, task, shared: EncoderFeatures, private: EncoderFeatures,
              layer: int) -> EncoderFeatures:
        """Layers 1..layer of both stacks, joined per direction."""
        su, pu = shared.units, private.units

        def halves(x, units):
            return [x[..., :units], x[..., units:]] if shared.bidirectional else [x]

        def joined(s, p, label):
            parts = [part for pair in zip(halves(s, su), halves(p, pu), strict=True)
                     for part in pair]
            return keras.layers.Concatenate(name=f"{self.name}_{task.name}_{label}")(parts)

        outputs = [joined(shared.output(i), private.output(i), f"{i}_joined")
                   for i in range(1, layer + 1)]
        states = []
        if private.states:
            for i in range(1, layer + 1):
                states.append(tuple(
                    tuple(keras.layers.Concatenate(
                        name=f"{self.name}_{task.name}_{i}_{d}_{kind}_joined")([s, p])
                        for kind, s, p in zip("hc", s_dir, p_dir, strict=True))
                    for d, (s_dir, p_dir) in enumerate(zip(shared.final_states(i),
                                                           private.final_states(i),
                                                           strict=True))))
        return EncoderFeatures(outputs, shared.mask, su + pu, shared.bidirectional, states,
                               name=f"{self.name}+{private.name}")

    def _task_losses(self, tasks, shared: EncoderFeatures, private: Mapping, mask) -> dict:
        o = self.options
        losses: dict = {task.name: {} for task in tasks}
        if o.adversarial:
            domain = domains({task.name: task.config for task in tasks})
            # The config's domains, renumbered over this encoder's tasks.
            classes = {d: i for i, d in enumerate(dict.fromkeys(domain.values()))}
            x = MaskedPooling(o.pooling, name=f"{self.name}_discriminator_pooling")(
                shared.output(-1), mask=mask)
            if o.discriminator_input == "normalized":
                x = keras.layers.UnitNormalization(
                    name=f"{self.name}_discriminator_normalization")(x)
            elif o.discriminator_input == "standardized":
                x = RunningStandardization(
                    name=f"{self.name}_discriminator_standardization")(x)
            x = GradientReversal("ganin", name=f"{self.name}_gradient_reversal")(x)
            if o.discriminator_units:
                x = keras.layers.Dense(o.discriminator_units, activation="relu",
                                       name=f"{self.name}_discriminator_hidden")(x)
            logits = keras.layers.Dense(len(classes), name=f"{self.name}_discriminator")(x)
            for task in tasks:
                losses[task.name]["adversarial"] = DomainLoss(
                    classes[domain[task.name]], o.adversarial,
                    name=f"{self.name}_{task.name}_adversarial")(logits)
        if o.orthogonality:
            for task in tasks:
                layer = task.layer(self.num_layers)
                losses[task.name]["orthogonality"] = Orthogonality(
                    o.orthogonality, normalize=o.normalize,
                    name=f"{self.name}_{task.name}_orthogonality")(
                    shared.output(layer), private[task.name].output(layer), mask)
        return {name: named for name, named in losses.items() if named}
