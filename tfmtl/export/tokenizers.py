"""In-graph tokenizers of exported models: raw sentences to the tokens training saw.

An exported model takes raw sentences and must split them the way its
training data was split, or its words miss the vocabulary. Each reader
produced pre-tokenized training data:

* ``tsv`` (``label<TAB>text``): the text split on whitespace, exactly Python's
  ``str.split()``;
* ``synthetic``: whitespace-separated tokens, punctuation already separate;
* ``conll`` and ``conllu``: one token per line, tokenized by the treebank
  (Penn Treebank or Universal Dependencies conventions): punctuation is a token
  of its own, clitics such as ``n't`` and ``'s`` are split off, numbers
  (``3.5``, ``1,000``) and abbreviations (``U.S.``) stay whole.

The ``whitespace`` tokenizer reproduces the first two exactly: it splits on
every character Python's ``str.split()`` treats as whitespace, which is more
than ASCII whitespace (no-break space, ``U+2028``, ``\\x1c``...). The
``treebank`` tokenizer approximates the treebanks with one regular expression
whose rules are chosen from the training vocabulary: contractions are split
only when the vocabulary holds split contractions (``n't``, ``'s``...),
hyphenated and apostrophe words stay whole only when the vocabulary holds
such words, and abbreviations are the vocabulary's own (``Mr.``, ``U.S.``,
``a.m.``). Both run as one ``tensorflow_text.regex_split`` op, which stock
TensorFlow Serving links.

A model whose exported tasks read CoNLL or CoNLL-U files gets ``treebank`` by
default, others ``whitespace``; ``tfmtl-export --tokenizer`` overrides the
choice, which the export records in its metadata asset.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence

WHITESPACE = "whitespace"
TREEBANK = "treebank"
TOKENIZERS = (WHITESPACE, TREEBANK)

# Every code point for which Python's str.isspace() is true, as an RE2 class. RE2's \s is ASCII
# only, so the class is spelled out (tests check it against str.isspace()).
PYTHON_WHITESPACE = (
    r"[\t\n\x{0B}\f\r\x{1C}-\x{1F} \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}"
    r"\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"
)

_FORMAT_TOKENIZERS = {"tsv": WHITESPACE, "synthetic": WHITESPACE, "text": WHITESPACE,
                      "class_files": WHITESPACE, "conll": TREEBANK, "conllu": TREEBANK,
                      "sst": TREEBANK}
# Split-off clitics of English treebanks (PTB and UD both split them from their host).
_CLITICS = ("n't", "'s", "'re", "'ve", "'ll", "'d", "'m")
_APOSTROPHES = "'\u2019"
_WORD = r"[\p{L}\p{M}\p{N}]+"
# Abbreviations taken from a vocabulary: letters with dots, ending with a dot (Mr., U.S., a.m.).
_ABBREVIATION = re.compile(r"^(?:[^\W\d_]+\.)+$")
_MAX_ABBREVIATIONS = 2000


CORE_OPS = "core"
TEXT_OPS = "tensorflow_text"
TOKENIZER_OPS = (CORE_OPS, TEXT_OPS)


@dataclasses.dataclass(frozen=True)
class TokenizerSpec:
    """How an export splits raw sentences, in the semantics of ``tensorflow_text.regex_split``.

    A sentence is cut at runs of whitespace and around every match of
    ``keep_pattern``; the matches are tokens themselves, whitespace is dropped,
    and no token is empty.

    Attributes:
        name: ``"whitespace"`` or ``"treebank"``.
        keep_pattern: RE2 pattern of the delimiters that are tokens themselves ("" for none).
    """

    name: str
    keep_pattern: str = ""

    @property
    def delimiter_pattern(self) -> str:
        """The delimiter pattern of ``tensorflow_text.regex_split``."""
        spaces = PYTHON_WHITESPACE + "+"
        return f"{spaces}|{self.keep_pattern}" if self.keep_pattern else spaces

    def to_json(self) -> dict:
        return {"name": self.name, "delimiter_pattern": self.delimiter_pattern,
                "keep_pattern": self.keep_pattern}

    def tokenize(self, text, ops: str = CORE_OPS):
        """Splits a string tensor ``[batch]`` into a ragged ``[batch, (tokens)]`` in the graph.

        Args:
            text: valid UTF-8 sentences.
            ops: ``"core"``: two core TensorFlow ops (a regex replace that spaces out the
                kept tokens and turns every whitespace run into one space, then a
                whitespace split), which any TensorFlow runtime knows, ``saved_model_cli``
                included; ``"tensorflow_text"``: ``tensorflow_text.regex_split``, which
                needs tensorflow-text's ops where the model is loaded (TF Serving links
                them). Both give the same tokens.
        """
        import tensorflow as tf

        if ops == TEXT_OPS:
            import tensorflow_text

            return tensorflow_text.regex_split(text, self.delimiter_pattern, self.keep_pattern)
        if ops != CORE_OPS:
            raise ValueError(f"unknown tokenizer ops {ops!r}; known: {', '.join(TOKENIZER_OPS)}")
        if self.keep_pattern:
            pattern = f"{PYTHON_WHITESPACE}+|({self.keep_pattern})"
            spaced = tf.strings.regex_replace(text, pattern, r" \1 ")
        else:
            spaced = tf.strings.regex_replace(text, PYTHON_WHITESPACE + "+", " ")
        return tf.strings.split(spaced)


def default_tokenizer(formats: Iterable[str]) -> str:
    """The tokenizer for tasks trained on data of these reader formats.

    ``treebank`` when any task read CoNLL or CoNLL-U files, else ``whitespace``.

    Raises:
        ValueError: a format no reader produces.
    """
    names = set()
    for fmt in formats:
        if fmt not in _FORMAT_TOKENIZERS:
            raise ValueError(
                f"unknown data format {fmt!r}; known: {', '.join(sorted(_FORMAT_TOKENIZERS))}"
            )
        names.add(_FORMAT_TOKENIZERS[fmt])
    return TREEBANK if TREEBANK in names else WHITESPACE


def whitespace_tokenizer() -> TokenizerSpec:
    """Splits on runs of Python whitespace, like ``str.split()``."""
    return TokenizerSpec(WHITESPACE)


def _apostrophe_variants(token: str) -> set[str]:
    return {token.replace("'", a) for a in _APOSTROPHES}


def treebank_tokenizer(vocabulary: Sequence[str], *, lowercase: bool = False) -> TokenizerSpec:
    """A PTB/UD-style splitter whose rules follow the training vocabulary.

    Tokens are, in this order of priority: the vocabulary's abbreviations;
    numbers with inner ``.,:/`` (``3.5``, ``1,000``, ``10:30``); split-off
    clitics (``n't``, ``'s``, ``'re``, ``'ve``, ``'ll``, ``'d``, ``'m``, also with
    ``'``) when the vocabulary holds any; words with inner hyphens when the
    vocabulary holds such words (and with inner apostrophes when it holds
    those but no clitics); ``...`` and ``--``; any other punctuation or symbol
    character alone; and runs of non-whitespace between them.

    Args:
        vocabulary: the word vocabulary's entries.
        lowercase: the vocabulary is lowercased, so its abbreviations match any case.
    """
    words = set(vocabulary)
    rules = []
    abbreviations = sorted(
        (w for w in words if len(w) > 1 and _ABBREVIATION.match(w)), key=lambda w: (-len(w), w)
    )[:_MAX_ABBREVIATIONS]
    if abbreviations:
        parts = []
        for word in abbreviations:
            escaped = re.escape(word)
            # \b keeps "S." from matching inside "OS."; RE2's \b only knows ASCII words.
            parts.append(rf"\b{escaped}" if word[0].isascii() else escaped)
        rules.append(("(?i:" if lowercase else "(?:") + "|".join(parts) + ")")
    rules.append(r"\p{N}+(?:[.,:/]\p{N}+)+")
    clitics = any(words & _apostrophe_variants(c) for c in _CLITICS) or any(
        words & _apostrophe_variants(c.upper()) for c in _CLITICS
    )
    apostrophe = f"[{_APOSTROPHES}]"
    if clitics:
        rules.append(rf"(?i:n{apostrophe}t|{apostrophe}(?:s|re|ve|ll|d|m))\b")
    joiners = ""
    if any(re.search(r"\w-\w", w) for w in words):
        joiners += "-"
    if not clitics and any(re.search(rf"\w{apostrophe}\w", w) for w in words):
        joiners += _APOSTROPHES
    if joiners:
        rules.append(rf"{_WORD}(?:[{joiners}]{_WORD})+")
    rules.append(r"\.\.\.|--")
    rules.append(r"[\p{P}\p{S}]")
    return TokenizerSpec(TREEBANK, "|".join(rules))


def make_tokenizer(name: str, vocabulary: Sequence[str] = (), *,
                   lowercase: bool = False) -> TokenizerSpec:
    """Builds the named tokenizer (see :data:`TOKENIZERS`).

    Raises:
        ValueError: an unknown name.
    """
    if name == WHITESPACE:
        return whitespace_tokenizer()
    if name == TREEBANK:
        return treebank_tokenizer(vocabulary, lowercase=lowercase)
    raise ValueError(f"unknown tokenizer {name!r}; known: {', '.join(TOKENIZERS)}")
