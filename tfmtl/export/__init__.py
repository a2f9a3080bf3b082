"""SavedModel export for TensorFlow Serving, and clients that run exported models.

An export (``tfmtl-export``, :func:`export_saved_model`) is a versioned
SavedModel ``<base>/<name>/<version>/`` that takes raw sentences, tokenizes
them in the graph as the training data was tokenized (see
:mod:`tfmtl.export.tokenizers` for each reader's tokenizer), featurizes them
from the vocabularies it carries as assets, and answers for every task. It
holds stock TensorFlow ops only: no tfmtl code or custom op is needed to load
and serve it (models trained with the fused LSTM export through the Keras
LSTM weights they share; gradient reversal is the identity at inference).

Signatures:

* ``serving_default`` and ``<task>``: input ``text``, ``tf.string [batch]``;
* ``tokens`` and ``<task>_tokens``: input ``tokens``, ``tf.string [batch,
  max_tokens]``, pre-tokenized, ``""`` as padding.

Outputs (T: the longest sentence of the batch, C: a task's labels):
``tokens`` string [batch, T], ``lengths`` and ``num_tokens`` int32 [batch]
(after and before truncation), ``truncated`` bool [batch]; per tagging task
``<task>_labels`` string [batch, T], ``<task>_scores`` float32 [batch, T],
``<task>_probabilities`` float32 [batch, T, C], ``<task>_classes`` string
[batch, C]; per classification task the same with [batch] labels and scores
and [batch, C] probabilities.

Bad input: text is made valid UTF-8 first (invalid bytes become U+FFFD); an
empty or whitespace-only sentence has no tokens, empty per-token outputs and
label ``""``; a sentence longer than the export's ``max_length`` is cut to
its first ``max_length`` tokens and flagged ``truncated``; a batch of 0
sentences answers outputs with 0 rows.

:class:`SavedModelPredictor`, :class:`GrpcPredictor` and
:class:`RestPredictor` run the signatures in process or on TF Serving
(``tfmtl-predict``).
"""

import importlib

__all__ = [
    "ClientError",
    "ExportError",
    "ExportResult",
    "GrpcPredictor",
    "Predictor",
    "RestPredictor",
    "SavedModelPredictor",
    "ServingModel",
    "TokenizerSpec",
    "export_saved_model",
    "make_predictor",
    "make_tokenizer",
    "predict_records",
]

_EXPORTS = {
    "ClientError": "client",
    "GrpcPredictor": "client",
    "Predictor": "client",
    "RestPredictor": "client",
    "SavedModelPredictor": "client",
    "make_predictor": "client",
    "ExportError": "exporter",
    "ExportResult": "exporter",
    "export_saved_model": "exporter",
    "predict_records": "predictions",
    "ServingModel": "serving_model",
    "TokenizerSpec": "tokenizers",
    "make_tokenizer": "tokenizers",
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"tfmtl.export.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'tfmtl.export' has no attribute {name!r}")
