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
  tfmtl-data split --config=CONFIG --out=DIR [--seed=0] [--dev=0.1] [--test=0.1]
      For the sentence classification tasks of a tfmtl config: splits each corpus that has
      no dev or test set (MR, SUBJ) into train/dev/test by a seeded permutation, removes
      from every task's training set each sentence that occurs in any task's dev or test set
      (lowercased letters and digits matched), and writes DIR/TASK/{train,dev,test}.tsv and
      DIR/split.json with what was removed; point a config's tasks at those files.
  tfmtl-data lexicon --out=FILE SST_TRAIN_TREES
      Writes a word<TAB>class sentiment lexicon: SST's single-word phrases labelled 0
      (negative) or 4 (positive), lowercased. Give it the training trees only.

A file that does not parse is reported as FILE:LINE: message, and the exit status is 1.
"""

from __future__ import annotations

import sys

from absl import app, flags
from ml_collections import config_flags

from tfmtl.data import (
    NER_MODES,
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
_NER = flags.DEFINE_enum("ner", "chunks", list(NER_MODES),
                         "synth: the NER column: typed names, each a whole NP chunk "
                         "(chunks), or a fixed function of the word form (lexical).")
_FORMAT = flags.DEFINE_enum(
    "format", None, [*READERS, "parallel"], "check: format of the files to check."
)

_DEV = flags.DEFINE_float("dev", 0.1, "split: dev fraction of a corpus without one.")
_TEST = flags.DEFINE_float("test", 0.1, "split: test fraction of a corpus without one.")
_CONFIG = config_flags.DEFINE_config_file("config", None, "split: a tfmtl config whose "
                                          "classification tasks to split.", lock_config=False)

_COMMANDS = ("synth", "check", "split", "lexicon")
_LISTED_VALUES = 50


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        raise app.UsageError(f"missing subcommand: one of {', '.join(_COMMANDS)}")
    command, arguments = argv[1], argv[2:]
    if command == "synth":
        return _synth(arguments)
    if command == "check":
        return _check(arguments)
    if command == "split":
        return _split(arguments)
    if command == "lexicon":
        return _lexicon(arguments)
    raise app.UsageError(f"unknown subcommand {command!r}: expected one of {', '.join(_COMMANDS)}")


def _synth(arguments: list[str]) -> int:
    if arguments:
        raise app.UsageError(f"synth takes no positional arguments, got {' '.join(arguments)}")
    if not _OUT.value:
        raise app.UsageError("synth needs --out=DIR")
    if _SENTENCES.value < 10:
        raise app.UsageError(f"--sentences must be at least 10, got {_SENTENCES.value}")
    splits = synthetic_splits(_SENTENCES.value, _SEED.value, _NER.value)
    written = write_corpus(_OUT.value, splits)
    print(f"wrote {_SENTENCES.value} synthetic sentences (seed {_SEED.value}, ner "
          f"{_NER.value}) to {_OUT.value}")
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


def _split(arguments: list[str]) -> int:
    import json
    import os

    from tfmtl.data.dedup import deduplicate, split_sentences, write_tsv
    from tfmtl.files import atomic_write_text

    if arguments:
        raise app.UsageError(f"split takes no positional arguments, got {' '.join(arguments)}")
    if _CONFIG.value is None or not _OUT.value:
        raise app.UsageError("split needs --config=CONFIG and --out=DIR")
    from tfmtl.config import ConfigError
    from tfmtl.tasks import data_source
    from tfmtl.tasks.classification import SENTENCE_LABEL_FORMATS
    from tfmtl.training.validation import validate

    try:
        config = validate(_CONFIG.value)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    corpora, origin = {}, {}
    try:
        for name, entry in config.tasks.items():
            data = entry.data
            if entry.type != "classification" or data.format not in SENTENCE_LABEL_FORMATS:
                print(f"{name}: skipped ({entry.type}, {data.format}: not sentence labels)")
                continue
            splits = {s: data_source.load_split(data, s) for s in ("train", "dev", "test")}
            if not splits["dev"] or not splits["test"]:
                everything = splits["train"] + splits["dev"] + splits["test"]
                splits = split_sentences(everything, seed=_SEED.value, dev=_DEV.value,
                                         test=_TEST.value)
                origin[name] = f"split {len(everything)} sentences (seed {_SEED.value})"
            else:
                origin[name] = "its own train/dev/test"
            corpora[name] = splits
    except (DataError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if not corpora:
        print("error: the config has no sentence classification task", file=sys.stderr)
        return 1
    cleaned, removed = deduplicate(corpora)
    summary = {"seed": _SEED.value, "dev": _DEV.value, "test": _TEST.value, "tasks": {}}
    for name, splits in cleaned.items():
        folder = os.path.join(_OUT.value, name)
        os.makedirs(folder, exist_ok=True)
        for split, sentences in splits.items():
            write_tsv(os.path.join(folder, f"{split}.tsv"), sentences)
        r = removed[name]
        summary["tasks"][name] = {
            "source": origin[name], **{s: len(v) for s, v in splits.items()},
            "train_removed": r.removed, "train_removed_by_source": r.by_source}
        sources = ", ".join(f"{k} {v}" for k, v in r.by_source.items()) or "none"
        print(f"{name}: {origin[name]}; train {r.before} -> {r.after} "
              f"({r.removed} removed: in {sources}); dev {len(splits['dev'])}, "
              f"test {len(splits['test'])}; wrote {folder}/{{train,dev,test}}.tsv")
    atomic_write_text(os.path.join(_OUT.value, "split.json"), json.dumps(summary, indent=2))
    return 0


def _lexicon(arguments: list[str]) -> int:
    from tfmtl.data.sentiment import sst_lexicon
    from tfmtl.files import atomic_write_text

    if len(arguments) != 1 or not _OUT.value:
        raise app.UsageError("lexicon needs --out=FILE and one SST tree file")
    try:
        lexicon = sst_lexicon(arguments[0])
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    lines = [f"{word}\t{label}\n" for word in sorted(lexicon) for label in sorted(lexicon[word])]
    atomic_write_text(_OUT.value, "".join(lines))
    counts = {c: sum(c in labels for labels in lexicon.values()) for c in ("negative", "positive")}
    print(f"wrote {len(lexicon)} words ({counts['negative']} negative, {counts['positive']} "
          f"positive) to {_OUT.value}")
    return 0


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
