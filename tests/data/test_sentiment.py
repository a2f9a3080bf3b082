"""The classification corpora read as they are: one file per class, SST trees, encodings."""

import pytest

from tests.seams.common import tiny
from tfmtl.config import ConfigError
from tfmtl.data import DataError
from tfmtl.data.sentiment import parse_class_files, read_class_files, read_sst, sst_lexicon
from tfmtl.experiment import task_config
from tfmtl.tasks import data_source
from tfmtl.training.validation import validate

TREES = ("(3 (2 The) (4 (3 (2 movie) (4 rocks)) (2 .)))\n"
         "(2 (2 It) (2 (2 is) (2 long)))\n"
         "(0 (1 (1 very) (0 bad)) (2 .))\n")


def test_class_files_are_interleaved_and_named_by_the_config(tmp_path):
    (tmp_path / "a.pos").write_text("good film\n\nfine\nnice one\n")
    (tmp_path / "a.neg").write_text("bad\n")
    pairs = parse_class_files(f"positive={tmp_path / 'a.pos'}, negative={tmp_path / 'a.neg'}")
    sentences = read_class_files(pairs)
    assert [(s.label, s.tokens, s.line) for s in sentences] == [
        ("positive", ("good", "film"), 1), ("negative", ("bad",), 1),
        ("positive", ("fine",), 3), ("positive", ("nice", "one"), 4)]
    for spec, message in [("positive=a", "at least two"), ("x=a,x=b", "class 'x' given twice"),
                          ("x=a,y=a", "file 'a' given twice"), ("x=a,y", "'y' is not class=file")]:
        with pytest.raises(ValueError, match=message):
            parse_class_files(spec)
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(DataError, match=r"empty: no sentences") as info:
        read_class_files([("p", tmp_path / "a.pos"), ("x", tmp_path / "empty")])
    assert info.value.path == str(tmp_path / "empty")


def test_windows_1252_needs_its_encoding_and_is_never_garbage(tmp_path):
    path = tmp_path / "cp.pos"
    path.write_bytes("a café , naïve\n".encode("cp1252"))
    (tmp_path / "cp.neg").write_text("plain\n")
    pairs = [("pos", path), ("neg", tmp_path / "cp.neg")]
    with pytest.raises(DataError, match=r"cp\.pos:1: invalid UTF-8 .*set data\.encoding"):
        read_class_files(pairs)
    assert read_class_files(pairs, encoding="cp1252")[0].tokens == ("a", "café", ",", "naïve")


def test_sst_roots_binary_labels_and_phrases(tmp_path, error_at):
    path = tmp_path / "train.txt"
    path.write_text(TREES)
    fine = list(read_sst(path))
    assert [(s.label, " ".join(s.tokens)) for s in fine] == [
        ("3", "The movie rocks ."), ("2", "It is long"), ("0", "very bad .")]
    binary = list(read_sst(path, labels="binary"))
    assert [s.label for s in binary] == ["positive", "negative"]
    phrases = list(read_sst(path, labels="binary", phrases=True))
    assert [(s.label, " ".join(s.tokens)) for s in phrases] == [
        ("positive", "The movie rocks ."), ("positive", "movie rocks ."),
        ("positive", "movie rocks"), ("negative", "very bad ."), ("negative", "very bad")]
    bad = tmp_path / "bad.txt"
    bad.write_text(TREES + "(7 (2 x) (2 y))\n")
    error_at(read_sst(bad), bad, 4, "sentiment label '7' is not 0-4")


def _config(tmp_path, **data):
    (tmp_path / "a.pos").write_text("".join(f"good {i}\n" for i in range(20)))
    (tmp_path / "a.neg").write_text("".join(f"bad {i}\n" for i in range(20)))
    config = tiny()
    config.data_dir = str(tmp_path)
    values = dict(format="class_files", classes="positive=a.pos,negative=a.neg", holdout=10)
    values.update(data)
    config.tasks.mr = task_config("classification", data=values)
    return config


def test_the_lexicon_takes_single_word_phrases_with_strong_labels_only(tmp_path):
    trees = tmp_path / "train.txt"
    # Strong words at any depth (0 and 4) enter, lowercased; weak ones (1, 3),
    # neutral ones (2) and multi-word phrases with strong labels do not; a word seen with
    # both strong labels keeps both.
    trees.write_text(
        "(4 (4 Great) (3 (2 fun) (0 (0 AWFUL) (2 .))))\n"
        "(0 (0 (0 Dull) (1 slow)) (4 (4 great) (0 great)))\n"
        "(3 (3 nice) (2 film))\n\n", encoding="utf-8")
    assert sst_lexicon(trees) == {"great": {"positive", "negative"},
                                  "awful": {"negative"}, "dull": {"negative"}}


def test_configs_point_at_the_files_unchanged(tmp_path):
    resolved = validate(_config(tmp_path))
    data = resolved.tasks.mr.data
    assert data.classes == f"positive={tmp_path / 'a.pos'},negative={tmp_path / 'a.neg'}"
    dev = data_source.load_split(data, "dev")
    assert len(dev) == 10 and {s.label for s in dev} == {"positive", "negative"}
    assert len(data_source.load_split(data, "train")) == 30
    for values, key, message in [
        (dict(classes="positive=a.pos,negative=missing"), "classes", "no such file"),
        (dict(classes="positive=a.pos"), "classes", "at least two"),
        (dict(train="x.tsv"), "train", "leave train, dev and test empty"),
        (dict(encoding="klingon"), "encoding", "unknown encoding"),
        (dict(phrases=True), "phrases", "only SST trees"),
    ]:
        with pytest.raises(ConfigError, match=rf"tasks\.mr\.data\.{key}.*{message}"):
            validate(_config(tmp_path, **values))
    sst = tiny()
    (tmp_path / "t.txt").write_text(TREES)
    sst.tasks.sst = task_config("classification", data=dict(
        format="sst", train=str(tmp_path / "t.txt"), sst="binary", phrases=True))
    assert len(data_source.load_split(validate(sst).tasks.sst.data, "train")) == 5
    sst.tasks.sst.data.sst = "ternary"
    with pytest.raises(ConfigError, match=r"tasks\.sst\.data\.sst"):
        validate(sst)


def test_the_shared_corpora_as_distributed(shared_data):
    polarity = shared_data("sentence_polarity")
    mr = read_class_files([("positive", polarity / "rt-polarity.pos"),
                           ("negative", polarity / "rt-polarity.neg")])
    assert len(mr) == 10662 and mr[0].label == "positive" and mr[1].label == "negative"
    subjectivity = shared_data("subjectivity")
    subj = read_class_files([("subjective", subjectivity / "quote.tok.gt9.5000"),
                             ("objective", subjectivity / "plot.tok.gt9.5000")])
    assert len(subj) == 10000
    sst = shared_data("sst")
    # The published sizes: SST-5 8,544 / 1,101 / 2,210; SST-2 6,920 / 872 / 1,821.
    assert [len(list(read_sst(sst / f"{s}.txt"))) for s in ("train", "dev", "test")] == [
        8544, 1101, 2210]
    assert [len(list(read_sst(sst / f"{s}.txt", labels="binary")))
            for s in ("train", "dev", "test")] == [6920, 872, 1821]
    # The README's overlap counts (lowercased letters and digits matched).
    from tfmtl.data.dedup import overlap

    assert overlap(list(read_sst(sst / "train.txt")), mr) == 6843
    assert overlap(list(read_sst(sst / "test.txt")), mr) == 1780
    assert overlap([s for s in subj if s.label == "subjective"], mr) == 4179
