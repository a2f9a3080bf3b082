"""Evaluation metrics computed on the host over decoded label strings.

Every score is in percent (0-100), as the CoNLL ``conlleval`` script reports
them. Nothing here imports TensorFlow.
"""

import warnings

# `python -m tfmtl.metrics.span_f1` imports this package, which imports span_f1, before
# running span_f1 as a script; that is harmless here and runpy's warning would only alarm.
warnings.filterwarnings(
    "ignore",
    message=r"'tfmtl\.metrics\.span_f1' found in sys\.modules",
    category=RuntimeWarning,
)

from tfmtl.metrics.accuracy import token_accuracy  # noqa: E402
from tfmtl.metrics.bleu import BLEU, bleu_from_sums, bleu_statistics, corpus_bleu  # noqa: E402
from tfmtl.metrics.bracket_f1 import BracketScores, bracket_scores  # noqa: E402
from tfmtl.metrics.classification import classification_scores  # noqa: E402
from tfmtl.metrics.delta_m import DeltaM, delta_m  # noqa: E402
from tfmtl.metrics.span_f1 import (  # noqa: E402
    SpanScores,
    TypeScores,
    bio_to_iobes,
    conlleval_report,
    evaluate_conll_file,
    iobes_to_bio,
    is_span_tagset,
    span_f1,
)

__all__ = [
    "BLEU",
    "BracketScores",
    "bleu_from_sums",
    "bleu_statistics",
    "bracket_scores",
    "corpus_bleu",
    "DeltaM",
    "SpanScores",
    "TypeScores",
    "bio_to_iobes",
    "classification_scores",
    "conlleval_report",
    "delta_m",
    "evaluate_conll_file",
    "iobes_to_bio",
    "is_span_tagset",
    "span_f1",
    "token_accuracy",
]
