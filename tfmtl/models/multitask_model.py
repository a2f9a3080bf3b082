"""Assembling the multi-task Keras model."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras
import ml_collections
from keras import ops

from tfmtl.models.char_bilstm import CharBiLSTM
from tfmtl.models.char_cnn import CharCNN
from tfmtl.models.featurizer import Featurizer
from tfmtl.models.sharing import SHARING
from tfmtl.models.word_dropout import WordDropout


@dataclasses.dataclass
class MultiTaskModel:
    """The full model and one sub-model per task sharing its layers.

    Attributes:
        model: Keras functional model; named inputs (``words``, ``chars``) in,
            a dict of logits keyed by task name out.
        task_models: per task, a model with the same inputs and that task's
            logits as output; it computes only the layers the task reads.
    """

    model: keras.Model
    task_models: dict[str, keras.Model]
    inputs: dict = dataclasses.field(repr=False, default_factory=dict)
    outputs: dict = dataclasses.field(repr=False, default_factory=dict)

    def submodel(self, names: Sequence[str]) -> keras.Model:
        """A model computing only the named tasks' logits (a dict keyed by task)."""
        return keras.Model(self.inputs, {name: self.outputs[name] for name in names},
                           name="_".join(names) + "_model")


def build_inputs(featurizer: Featurizer) -> dict:
    inputs = {"words": keras.Input(shape=(None,), dtype="int32", name="words")}
    if featurizer.chars is not None:
        inputs["chars"] = keras.Input(shape=(None, None), dtype="int32", name="chars")
    return inputs


def build_multitask_model(model_config: ml_collections.ConfigDict, tasks: Sequence,
                          featurizer: Featurizer, *, seed: int = 0) -> MultiTaskModel:
    """Builds embeddings, the shared encoder (by sharing scheme) and every task's head.

    Args:
        model_config: the ``config.model`` section.
        tasks: the tasks (with label vocabularies built).
        featurizer: the input vocabularies.
        seed: seed of the model's dropout generators.
    """
    m = model_config
    inputs = build_inputs(featurizer)
    words = inputs["words"]
    mask = ops.not_equal(words, 0)
    if m.word_dropout:
        words = WordDropout(m.word_dropout, featurizer.words.oov_id, seed=seed,
                            name="word_dropout")(words)
    x = keras.layers.Embedding(len(featurizer.words), m.word_dim, name="word_embedding")(words)
    if featurizer.chars is not None:
        if m.char.type == "cnn":
            chars = CharCNN(len(featurizer.chars), m.char.dim, m.char.units, m.char.width,
                            name="char_cnn")(inputs["chars"])
        else:
            chars = CharBiLSTM(len(featurizer.chars), m.char.dim, m.char.units,
                               lstm=m.encoder.lstm, name="char_bilstm")(inputs["chars"])
        x = keras.layers.Concatenate(name="token_features")([x, chars])
    x = keras.layers.Dropout(m.embedding_dropout, seed=seed, name="embedding_dropout")(x)
    outputs = SHARING.get(m.sharing)(m)(x, mask, tasks)
    model = keras.Model(inputs, outputs, name="multitask")
    task_models = {
        name: keras.Model(inputs, output, name=f"{name}_model") for name, output in outputs.items()
    }
    return MultiTaskModel(model, task_models, inputs, outputs)
