"""Assembling the multi-task Keras model: embeddings, encoders by sharing scheme, heads."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping, Sequence

import keras
import ml_collections
import numpy as np
from keras import ops

from tfmtl.data.featurizer import Featurizer
from tfmtl.layers.char_bilstm import CharBiLSTM
from tfmtl.layers.char_cnn import CharCNN
from tfmtl.layers.word_dropout import WordDropout
from tfmtl.models.sharing import SHARING

#: The model's output key of the sharing schemes' named losses (not a task name).
LOSSES = "losses"
#: The model's output key of the sharing schemes' per-task losses ({task: {name: loss}}).
TASK_LOSSES = "task_losses"
#: The representation model's output key of each task's representation tensors.
REPRESENTATIONS = "representations"
RESERVED_OUTPUTS = (LOSSES, TASK_LOSSES, REPRESENTATIONS)
#: The Keras dtype policies a model is built with (``config.training.mixed_precision``).
DTYPE_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


@dataclasses.dataclass
class MultiTaskModel:
    """The full model and one sub-model per task sharing its layers.

    Attributes:
        model: Keras functional model; named inputs (``words``, ``chars``) in; out, per
            task name, the dict of its head's outputs (``logits``, ...), under
            ``"losses"`` the sharing schemes' named losses and under ``"task_losses"``
            their per-task ones (``{task: {name: loss}}``).
        task_models: per task, a model with the same inputs and that task's outputs
            dict as output; it computes only the layers the task reads.
        shared_variables: trainable variables on the path of more than one task.
        task_variables: per task, the trainable variables on its path alone.
        representations: per task, the encoder tensors at the layer its head reads: that
            layer's output and, when the encoder returns them, its final states (what the
            ``representation`` gradient mode differentiates the tasks' losses by).
    """

    model: keras.Model
    task_models: dict[str, keras.Model]
    inputs: dict = dataclasses.field(repr=False, default_factory=dict)
    outputs: dict = dataclasses.field(repr=False, default_factory=dict)
    losses: dict = dataclasses.field(repr=False, default_factory=dict)
    task_losses: dict = dataclasses.field(repr=False, default_factory=dict)
    shared_variables: list = dataclasses.field(repr=False, default_factory=list)
    task_variables: dict = dataclasses.field(repr=False, default_factory=dict)
    representations: dict = dataclasses.field(repr=False, default_factory=dict)

    def representation_model(self) -> keras.Model:
        """The full model (the same layers and variables) whose outputs also hold, under
        ``"representations"``, each task's :attr:`representations`."""
        if not hasattr(self, "_representation_model"):
            outputs = dict(self.model.output)
            outputs[REPRESENTATIONS] = {name: list(self.representations[name])
                                        for name in self.outputs}
            self._representation_model = keras.Model(self.inputs, outputs,
                                                      name="multitask_representations")
        return self._representation_model

    def submodel(self, names: Sequence[str]) -> keras.Model:
        """A model computing only the named tasks' outputs (a dict keyed by task), the
        sharing schemes' losses under ``"losses"`` and those of the named tasks under
        ``"task_losses"``."""
        outputs = {name: self.outputs[name] for name in names}
        if self.losses:
            outputs[LOSSES] = dict(self.losses)
        task_losses = {name: dict(self.task_losses[name]) for name in names
                       if name in self.task_losses}
        if task_losses:
            outputs[TASK_LOSSES] = task_losses
        return keras.Model(self.inputs, outputs, name="_".join(names) + "_model")


def build_inputs(featurizer: Featurizer) -> dict:
    inputs = {"words": keras.Input(shape=(None,), dtype="int32", name="words")}
    if featurizer.chars is not None:
        inputs["chars"] = keras.Input(shape=(None, None), dtype="int32", name="chars")
    return inputs


def embed(embedding_config: ml_collections.ConfigDict, inputs: Mapping, featurizer: Featurizer,
          *, seed: int, word_vectors: np.ndarray | None = None, lstm: str = "keras"):
    """Word (and character) features of one language: [batch, time, dim].

    Args:
        embedding_config: the language's ``config.model.embeddings`` entry.
        inputs: the ``words`` (and ``chars``) inputs.
        featurizer: the language's vocabularies.
        seed: seed of the dropout generators.
        word_vectors: the initial word embedding [vocabulary, word_dim], or None.
        lstm: LSTM implementation of a character BiLSTM.
    """
    e = embedding_config
    words = inputs["words"]
    if e.word_dropout:
        words = WordDropout(e.word_dropout, featurizer.words.oov_id, seed=seed,
                            name="word_dropout")(words)
    # Frozen only with vectors (whether read now or restored from a checkpoint).
    initializer = ("uniform" if word_vectors is None
                   else keras.initializers.Constant(word_vectors))
    embedding = keras.layers.Embedding(
        len(featurizer.words), e.word_dim, name="word_embedding",
        trainable=e.trainable or not e.vectors, embeddings_initializer=initializer,
    )
    x = embedding(words)
    if featurizer.chars is not None:
        if e.char.type == "cnn":
            chars = CharCNN(len(featurizer.chars), e.char.dim, e.char.units, e.char.width,
                            name="char_cnn")(inputs["chars"])
        else:
            chars = CharBiLSTM(len(featurizer.chars), e.char.dim, e.char.units, lstm=lstm,
                               name="char_bilstm")(inputs["chars"])
        x = keras.layers.Concatenate(name="token_features")([x, chars])
    return keras.layers.Dropout(e.dropout, seed=seed, name="embedding_dropout")(x)


@contextlib.contextmanager
def dtype_policy_scope(policy: str):
    """Makes `policy` Keras' default dtype policy while the block runs, then restores the
    previous one: the layers built in the block take it. Keras keeps the default per thread.
    """
    if policy not in DTYPE_POLICIES:
        raise ValueError(f"unknown dtype policy {policy!r}; known: {', '.join(DTYPE_POLICIES)}")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _as_float32(outputs, name: str):
    """`outputs` (a nested dict of KerasTensors) with every floating tensor of another
    dtype cast to float32, each by a float32 layer named after its key."""
    if isinstance(outputs, Mapping):
        return {key: _as_float32(value, f"{name}_{key}") for key, value in outputs.items()}
    dtype = keras.backend.standardize_dtype(outputs.dtype)
    if not keras.backend.is_float_dtype(dtype) or dtype == "float32":
        return outputs
    return keras.layers.Activation("linear", dtype="float32",
                                   name=f"{name.replace('/', '_')}_float32")(outputs)


def _variable_split(task_models: Mapping[str, keras.Model]) -> tuple[list, dict]:
    """Variables on the gradient path of more than one task's outputs, and each task's own."""
    owners: dict[int, list[str]] = {}
    by_id = {}
    for name, task_model in task_models.items():
        for variable in task_model.trainable_variables:
            owners.setdefault(id(variable), []).append(name)
            by_id[id(variable)] = variable
    shared = [by_id[i] for i, names in owners.items() if len(names) > 1]
    own = {name: [v for v in m.trainable_variables if owners[id(v)] == [name]]
           for name, m in task_models.items()}
    return shared, own


def build_multitask_model(model_config: ml_collections.ConfigDict, tasks: Sequence,
                          featurizer: Featurizer, *, seed: int = 0,
                          word_vectors: np.ndarray | None = None,
                          dtype_policy: str = "float32") -> MultiTaskModel:
    """Builds the embeddings, each encoder by its sharing scheme, and every task's head.

    With a mixed `dtype_policy` every layer computes in its 16-bit type and keeps float32
    variables, except those that compute in float32 whatever the policy (the fused LSTM,
    whose native kernel is float32 only; the CRF; the loss layers); the model's outputs
    (heads' logits, losses) are cast to float32, so the losses, metrics and predictions
    computed from them are float32.

    Args:
        model_config: the ``config.model`` section.
        tasks: the tasks (with label vocabularies built).
        featurizer: the input vocabularies (of the encoders' one language).
        seed: seed of the model's dropout generators.
        word_vectors: the language's initial word embedding, or None.
        dtype_policy: the Keras dtype policy of its layers: one of :data:`DTYPE_POLICIES`.
    """
    with dtype_policy_scope(dtype_policy):
        return _build_multitask_model(model_config, tasks, featurizer, seed=seed,
                                      word_vectors=word_vectors,
                                      mixed=dtype_policy != "float32")


def _build_multitask_model(model_config, tasks, featurizer, *, seed, word_vectors,
                           mixed) -> MultiTaskModel:
    m = model_config
    inputs = build_inputs(featurizer)
    mask = ops.not_equal(inputs["words"], 0)
    encoders = {name: m.encoders[name] for name in m.encoders
                if any(task.config.encoder == name for task in tasks)}
    language = next(iter(encoders.values())).language
    char_lstm = next(iter(encoders.values())).lstm
    embedded = embed(m.embeddings[language], inputs, featurizer, seed=seed,
                     word_vectors=word_vectors, lstm=char_lstm)
    outputs, losses, task_losses, representations = {}, {}, {}, {}
    for name, encoder in encoders.items():
        readers = [task for task in tasks if task.config.encoder == name]
        kind = encoder.sharing or m.sharing
        scheme = SHARING.get(kind)(name, encoder, seed, m.schemes[kind] if kind in m.schemes
                                   else None)
        shared = scheme(embedded, mask, readers, lambda task, features: task.build_head(
            dataclasses.replace(features, words=inputs["words"])))
        outputs.update(shared.outputs)
        for task_name, features in shared.features.items():
            representations[task_name] = [features.outputs[-1],
                                          *keras.tree.flatten(features.states[-1:])]
        for loss_name, value in shared.losses.items():
            losses[f"{name}/{loss_name}"] = value
        for task_name, named in shared.task_losses.items():
            for loss_name, value in named.items():
                task_losses.setdefault(task_name, {})[f"{name}/{loss_name}"] = value
    outputs = {task.name: outputs[task.name] for task in tasks}
    if mixed:
        outputs = {name: _as_float32(value, name) for name, value in outputs.items()}
        losses = _as_float32(losses, LOSSES)
        task_losses = _as_float32(task_losses, TASK_LOSSES)
    all_outputs = dict(outputs)
    if losses:
        all_outputs[LOSSES] = losses
    if task_losses:
        all_outputs[TASK_LOSSES] = task_losses
    model = keras.Model(inputs, all_outputs, name="multitask")
    task_models = {
        name: keras.Model(inputs, output, name=f"{name}_model") for name, output in outputs.items()
    }
    shared_variables, task_variables = _variable_split(task_models)
    return MultiTaskModel(model, task_models, inputs, outputs, losses, task_losses,
                          shared_variables, task_variables, representations)
