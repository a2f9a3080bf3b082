"""The data layer: readers, the synthetic corpus, vocabularies and ``tf.data`` pipelines.

Everything here except :func:`make_dataset` works without TensorFlow, which that function
imports when it is first called.
"""

from tfmtl.data.conll import read_conll
from tfmtl.data.conllu import CONLLU_FIELDS, read_conllu
from tfmtl.data.corpus_statistics import (
    CorpusStatistics,
    ambiguity_rate,
    corpus_statistics,
    oov_rate,
)
from tfmtl.data.errors import DataError
from tfmtl.data.lexicon import read_lexicon
from tfmtl.data.parallel import read_parallel
from tfmtl.data.pipeline import default_bucket_boundaries, make_dataset
from tfmtl.data.ptb import Delinearized, clean_tree, delinearize, linearize, read_ptb
from tfmtl.data.readers import READERS
from tfmtl.data.sentence import Sentence
from tfmtl.data.synthetic import (
    NER_MODES,
    SYNTHETIC_PATH,
    SYNTHETIC_TASKS,
    TASK_RELATEDNESS,
    generate,
    synthetic_splits,
    task_relatedness,
    write_corpus,
)
from tfmtl.data.text import read_text
from tfmtl.data.trees import Tree, parse_tree
from tfmtl.data.tsv import read_tsv
from tfmtl.data.vocabulary import Vocabulary, build_char_vocabulary

__all__ = [
    "CONLLU_FIELDS",
    "NER_MODES",
    "READERS",
    "SYNTHETIC_PATH",
    "SYNTHETIC_TASKS",
    "TASK_RELATEDNESS",
    "CorpusStatistics",
    "DataError",
    "Delinearized",
    "Sentence",
    "Tree",
    "Vocabulary",
    "ambiguity_rate",
    "build_char_vocabulary",
    "clean_tree",
    "corpus_statistics",
    "default_bucket_boundaries",
    "delinearize",
    "generate",
    "linearize",
    "make_dataset",
    "oov_rate",
    "parse_tree",
    "read_conll",
    "read_conllu",
    "read_lexicon",
    "read_parallel",
    "read_ptb",
    "read_text",
    "read_tsv",
    "synthetic_splits",
    "task_relatedness",
    "write_corpus",
]
