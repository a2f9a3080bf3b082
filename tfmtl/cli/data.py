"""tfmtl-data: write the synthetic corpus, and check data files before training on them.

Usage:
  tfmtl-data synth --out=DIR [--sentences=N] [--seed=S]
      Generates N sentences of the toy language and writes train/dev/test (80/10/10) to DIR:
      SPLIT.conll (word POS chunk NER), SPLIT.tsv (polarity), SPLIT.src/SPLIT.tgt (translation),
      SPLIT.trees and README.txt.
  tfmtl-data check --format=conllu|conll|tsv FILE...
      Parses each file and prints its sentence and token counts and the values of each column.
  tfmtl-data check --format=parallel SOURCE TARGET
      Parses a line-aligned pair of files.

A file that does not parse is reported as FILE:LINE: message, and the exit status is 1.
"""

from __future__ import annotations

import sys

from absl import app, flags

from tfmtl.data import (
    READERS,
    CorpusStatistics,
    DataError,
    ambiguity_rate,
    corpus_statistics,
    oov_rate,
    read_parallel,
    synthetic_splits,
    write_corpus,
)

_OUT = flags.DEFINE_string("out", None, "synth: folder to write the corpus to.")
_SENTENCES = flags.DEFINE_integer("sentences", 10000, "synth: sentences to generate (>= 10).")
_SEED = flags.DEFINE_integer("seed", 0, "synth: generator seed.")
_FORMAT = flags.DEFINE_enum(
    "format", None, [*READERS, "parallel"], "check: format of the files to check."
)

_COMMANDS = ("synth", "check")
_LISTED_VALUES = 50


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        raise app.UsageError(f"missing subcommand: one of {', '.join(_COMMANDS)}")
    command, arguments = argv[1], argv[2:]
    if command == "synth":
        return _synth(arguments)
    if command == "check":
        return _check(arguments)
    raise app.UsageError(f"unknown subcommand {command!r}: expected one of {', '.join(_COMMANDS)}")


def _synth(arguments: list[str]) -> int:
    if arguments:
        raise app.UsageError(f"synth takes no positional arguments, got {' '.join(arguments)}")
    if not _OUT.value:
        raise app.UsageError("synth needs --out=DIR")
    if _SENTENCES.value < 10:
        raise app.UsageError(f"--sentences must be at least 10, got {_SENTENCES.value}")
    splits = synthetic_splits(_SENTENCES.value, _SEED.value)
    written = write_corpus(_OUT.value, splits)
    print(f"wrote {_SENTENCES.value} synthetic sentences (seed {_SEED.value}) to {_OUT.value}")
    for split, sentences in splits.items():
        tokens = sum(len(sentence.tokens) for sentence in sentences)
        print(f"  {split}: {len(sentences)} sentences, {tokens} tokens")
    train_words = {token for sentence in splits["train"] for token in sentence.tokens}
    dev_tokens = (token for sentence in splits["dev"] for token in sentence.tokens)
    print(
        f"  train vocabulary {len(train_words)} words; dev OOV rate "
        f"{oov_rate(train_words, dev_tokens):.2%}; POS-ambiguous tokens "
        f"{ambiguity_rate(splits['train'], 'pos'):.2%}"
    )
    for path in written.values():
        print(f"  {path}")
    return 0


def _check(arguments: list[str]) -> int:
    if _FORMAT.value is None:
        raise app.UsageError(f"check needs --format: one of {', '.join([*READERS, 'parallel'])}")
    if _FORMAT.value == "parallel":
        if len(arguments) != 2:
            raise app.UsageError("check --format=parallel takes two files: SOURCE TARGET")
        return _report(f"{arguments[0]} | {arguments[1]}", lambda: read_parallel(*arguments))
    if not arguments:
        raise app.UsageError("check needs at least one FILE")
    reader = READERS[_FORMAT.value]
    status = 0
    for path in arguments:
        status |= _report(path, lambda path=path: reader(path))
    return status


def _report(name: str, read) -> int:
    try:
        statistics = corpus_statistics(read())
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(_describe(name, statistics))
    return 0


def _describe(name: str, statistics: CorpusStatistics) -> str:
    lines = [
        f"{name}: {statistics.sentences} sentences, {statistics.tokens} tokens, "
        f"{len(statistics.words)} distinct"
    ]
    inventories = dict(statistics.columns)
    if statistics.labels:
        inventories["label"] = statistics.labels
    for column, counts in inventories.items():
        lines.append(f"  {column}: {_inventory(counts)}")
    if statistics.target_tokens:
        lines.append(
            f"  target: {sum(statistics.target_tokens.values())} tokens, "
            f"{len(statistics.target_tokens)} distinct"
        )
    return "\n".join(lines)


def _inventory(counts) -> str:
    ranked = counts.most_common()
    shown = ranked if len(ranked) <= _LISTED_VALUES else ranked[:10]
    values = " ".join(f"{value}={count}" for value, count in shown)
    if len(ranked) <= _LISTED_VALUES:
        return f"{len(ranked)} values: {values}"
    return f"{len(ranked)} values, most frequent: {values} ..."


def run() -> None:
    app.run(main)


if __name__ == "__main__":
    run()
