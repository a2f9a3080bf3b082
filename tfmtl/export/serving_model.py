"""The exported module: raw text or tokens in, every task's labels and probabilities out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import tensorflow as tf

from tfmtl.data.featurizer import TokenEncoder
from tfmtl.export.tokenizers import CORE_OPS, TokenizerSpec
from tfmtl.layers.lstm.export_lstm import export_lstms


def label_table(path: str) -> tf.lookup.StaticHashTable:
    """A line number -> label table read from a label vocabulary file ("" for unknown ids)."""
    initializer = tf.lookup.TextFileInitializer(
        path, tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER,
        tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
    )
    return tf.lookup.StaticHashTable(initializer, default_value="")

DEFAULT_SIGNATURE = "serving_default"
TOKENS_SIGNATURE = "tokens"
TOKENS_SUFFIX = "_tokens"
TEXT_INPUT = "text"
TOKENS_INPUT = "tokens"
REPLACEMENT_CHARACTER = 0xFFFD

#: The outputs every signature has, besides the tasks' ``<task>_<key>`` outputs.
COMMON_OUTPUTS = {
    "tokens": ("string", "[batch, T]", "the tokens the tasks read, \"\" past a sentence's end"),
    "lengths": ("int32", "[batch]", "tokens per sentence after truncation"),
    "num_tokens": ("int32", "[batch]", "tokens per sentence before truncation"),
    "truncated": ("bool", "[batch]", "true when the sentence had more than max_length tokens"),
}
class _Untracked:
    """Holds the Keras models and the functions out of the module's tracking.

    Only the models' variables and the lookup tables are saved; the signatures
    are saved as concrete functions, not as functions of the module.
    """

    def __init__(self, model: keras.Model, task_models: Mapping[str, keras.Model]):
        self.model = model
        self.task_models = dict(task_models)
        self.functions: dict = {}


class ServingModel(tf.Module):
    """Tokenization, featurization, the export-built Keras model and every task's serving outputs.

    Signatures (see :meth:`signatures`):

    * ``serving_default``: ``text`` in, every task out; ``<task>``: ``text`` in, one task out;
    * ``tokens`` and ``<task>_tokens``: the same from pre-tokenized ``tokens``.

    ``text`` is ``tf.string [batch]``, one raw sentence per element. It is made
    valid UTF-8 first (each invalid byte sequence becomes U+FFFD), then split by
    the export's tokenizer. ``tokens`` is ``tf.string [batch, max_tokens]``, one
    sentence per row; empty strings are padding and are dropped wherever they
    are. A sentence with more than ``max_length`` tokens (when ``max_length`` is
    positive) is cut to its first ``max_length`` tokens and flagged in
    ``truncated``; an empty sentence has no tokens, empty per-token outputs and
    no sentence label; a batch of 0 sentences gives outputs with 0 rows.

    Args:
        model: the Keras model built for export (stock ops only), the exported tasks' head
            outputs as a dict output.
        task_models: per exported task, the sub-model computing only its head's outputs.
        tasks: the exported tasks (with label vocabularies).
        featurizer: the in-graph featurizer.
        label_files: per task, its label vocabulary file (line number == id).
        tokenizer: how raw text is split.
        tokenizer_ops: ``"core"`` or ``"tensorflow_text"`` (see :meth:`TokenizerSpec.tokenize`).
        max_length: most tokens read per sentence (0: no limit).
        metadata_file: a file saved as an asset beside the vocabularies (or None).
    """

    def __init__(self, model: keras.Model, task_models: Mapping[str, keras.Model],
                 tasks: Sequence, featurizer: TokenEncoder, label_files: Mapping[str, str],
                 tokenizer: TokenizerSpec, max_length: int, metadata_file: str | None = None,
                 tokenizer_ops: str = CORE_OPS):
        super().__init__(name="tfmtl_serving")
        if max_length < 0:
            raise ValueError(f"max_length must be >= 0, got {max_length}")
        self._untracked = _Untracked(model, task_models)
        self._tasks = tuple(tasks)
        self._task_by_name = {task.name: task for task in self._tasks}
        self.task_names = tuple(task.name for task in self._tasks)
        self.num_classes = {task.name: len(task.labels) for task in self._tasks}
        self.tokenizer = tokenizer
        self.tokenizer_ops = tokenizer_ops
        self.max_length = max_length
        self.featurizer = featurizer
        self.label_tables = {name: label_table(label_files[name]) for name in self.task_names}
        # The tf.Variables themselves, not Keras' wrappers: a wrapper saves as a variable of its
        # own, which TF Serving's loader restores while the graph reads the unrestored original.
        self.model_variables = [v.value if isinstance(v, keras.Variable) else v
                                for v in model.variables]
        # The export LSTMs' copies of their kernels in BlockLSTMV2's layout, which the graph
        # reads in place of the Keras kernels and which are no Keras weights.
        self.lstm_kernels = [layer.frozen_block_kernel for layer in export_lstms(model)
                             if layer.frozen_block_kernel is not None]
        self.metadata = tf.saved_model.Asset(metadata_file) if metadata_file else None

    # Signature names ------------------------------------------------------

    def signature_names(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Signature name -> (input name, tasks it serves).

        Raises:
            ValueError: a task's name collides with another signature's name.
        """
        names = {DEFAULT_SIGNATURE: (TEXT_INPUT, self.task_names),
                 TOKENS_SIGNATURE: (TOKENS_INPUT, self.task_names)}
        for task in self.task_names:
            for name, entry in ((task, (TEXT_INPUT, (task,))),
                                (task + TOKENS_SUFFIX, (TOKENS_INPUT, (task,)))):
                if name in names:
                    raise ValueError(
                        f"task {task!r}: its signature {name!r} collides with another "
                        f"signature; rename the task or leave it out with --tasks"
                    )
                names[name] = entry
        return names

    # Graph ----------------------------------------------------------------

    @staticmethod
    def valid_utf8(strings: tf.Tensor) -> tf.Tensor:
        """Replaces every invalid UTF-8 sequence by U+FFFD (any shape)."""
        return tf.strings.unicode_transcode(
            strings, "UTF-8", "UTF-8", errors="replace",
            replacement_char=REPLACEMENT_CHARACTER,
        )

    def tokenize(self, text: tf.Tensor) -> tf.RaggedTensor:
        """Raw sentences ``[batch]`` to ragged tokens ``[batch, (time)]``."""
        return self.tokenizer.tokenize(self.valid_utf8(text), self.tokenizer_ops)

    def tokens_from_matrix(self, tokens: tf.Tensor) -> tf.RaggedTensor:
        """Padded tokens ``[batch, max_tokens]`` to ragged tokens, empty strings dropped."""
        tokens = self.valid_utf8(tokens)
        return tf.ragged.boolean_mask(tokens, tf.strings.length(tokens) > 0)

    def run(self, tokens: tf.RaggedTensor, task_names: Sequence[str]) -> dict[str, tf.Tensor]:
        """Every output of the tasks `task_names` for ragged tokens ``[batch, (time)]``."""
        num_tokens = tf.cast(tokens.row_lengths(), tf.int32)
        if self.max_length:
            tokens = tokens[:, : self.max_length]
        lengths = tf.cast(tokens.row_lengths(), tf.int32)
        features = self.featurizer(tokens)
        if len(task_names) == 1:
            name = task_names[0]
            heads = {name: self._untracked.task_models[name](features, training=False)}
        else:
            heads = self._untracked.model(features, training=False)
        outputs = {
            "tokens": tokens.to_tensor(""),
            "lengths": lengths,
            "num_tokens": num_tokens,
            "truncated": num_tokens > lengths,
        }
        for name in task_names:
            classes = self.label_tables[name].lookup(
                tf.range(self.num_classes[name], dtype=tf.int64)
            )
            served = self._task_by_name[name].serving_outputs(heads[name], lengths, classes)
            for key, value in served.items():
                outputs[f"{name}_{key}"] = value
        return outputs

    # Functions ------------------------------------------------------------

    def function(self, name: str) -> tf.types.experimental.PolymorphicFunction:
        """The ``tf.function`` behind signature `name` (built once)."""
        if name not in self._untracked.functions:
            input_name, task_names = self.signature_names()[name]
            if input_name == TEXT_INPUT:
                def serve(text):
                    # The loaded signature does not check shapes; this names the input at fault.
                    text = tf.ensure_shape(text, [None], name="check_text_is_a_vector")
                    return self.run(self.tokenize(text), task_names)

                spec = tf.TensorSpec([None], tf.string, name=TEXT_INPUT)
            else:
                def serve(tokens):
                    tokens = tf.ensure_shape(tokens, [None, None], name="check_tokens_is_a_matrix")
                    return self.run(self.tokens_from_matrix(tokens), task_names)

                spec = tf.TensorSpec([None, None], tf.string, name=TOKENS_INPUT)
            self._untracked.functions[name] = tf.function(serve, input_signature=[spec],
                                                      autograph=False)
        return self._untracked.functions[name]

    def signatures(self, names: Sequence[str] | None = None) -> dict:
        """Concrete functions keyed by signature name, for ``tf.saved_model.save``."""
        names = list(self.signature_names()) if names is None else list(names)
        return {name: self.function(name).get_concrete_function() for name in names}

    def describe(self) -> dict[str, dict]:
        """Every signature's inputs and outputs: ``{name: {"inputs": ..., "outputs": ...}}``.

        Each input and output maps to ``{"dtype", "shape", "doc"}``.
        """
        described = {}
        for name, (input_name, task_names) in self.signature_names().items():
            if input_name == TEXT_INPUT:
                inputs = {TEXT_INPUT: {"dtype": "string", "shape": "[batch]",
                                       "doc": "raw sentences, tokenized in the graph"}}
            else:
                inputs = {TOKENS_INPUT: {"dtype": "string", "shape": "[batch, max_tokens]",
                                         "doc": "tokens per sentence, \"\" as padding"}}
            outputs = {key: {"dtype": d, "shape": s, "doc": doc}
                       for key, (d, s, doc) in COMMON_OUTPUTS.items()}
            for task in task_names:
                for key, (d, s, doc) in self._task_by_name[task].serving_schema.items():
                    shape = s.replace("C]", f"C={self.num_classes[task]}]")
                    outputs[f"{task}_{key}"] = {"dtype": d, "shape": shape, "doc": doc}
            described[name] = {"inputs": inputs, "outputs": outputs}
        return described
