"""tfmtl-data split: deterministic splits of MR-like corpora, deduplicated across tasks."""

import json

import pytest

from tests.cli.test_data_cli import tfmtl_data
from tfmtl.data import read_tsv
from tfmtl.data.dedup import sentence_key

CONFIG = '''
from tfmtl.config import base_config
from tfmtl.experiment import task_config


def get_config():
    config = base_config()
    config.data_dir = {data_dir!r}
    config.tasks.mr = task_config("classification", data=dict(
        format="class_files", classes={classes!r}))
    config.tasks.sst = task_config("classification", data=dict(
        format="sst", train="sst/train.txt", dev="sst/dev.txt", test="sst/test.txt",
        sst="binary"))
    config.tasks.pos = task_config("tagging", data=dict(format="synthetic", column="pos"))
    config.training.reference_task = "mr"
    return config
'''


def _write_config(tmp_path, data_dir, classes):
    path = tmp_path / "split_config.py"
    path.write_text(CONFIG.format(data_dir=str(data_dir), classes=classes))
    return path


def _leaks(out, tasks):
    """(task, split, other task) triples where an evaluation sentence is another's training."""
    splits = {t: {s: list(read_tsv(out / t / f"{s}.tsv")) for s in ("train", "dev", "test")}
              for t in tasks}
    train = {t: {sentence_key(x.tokens) for x in splits[t]["train"]} for t in tasks}
    return [(t, s, o) for t in tasks for s in ("dev", "test") for o in tasks
            if {sentence_key(x.tokens) for x in splits[t][s]} & train[o]], splits


def test_split_deduplicates_every_training_set_against_every_evaluation_set(tmp_path):
    data = tmp_path / "data"
    (data / "sst").mkdir(parents=True)
    positive = [f"a fine film number {i} ." for i in range(40)]
    negative = [f"a dull film number {i} ." for i in range(40)]
    (data / "mr.pos").write_text("\n".join(positive) + "\n")
    (data / "mr.neg").write_text("\n".join(negative) + "\n")
    tree = "(3 (2 {0}) (3 (2 fine) (2 (2 film) (2 (2 number) (2 {1})))))"
    # SST's test holds MR sentences 0-9 (punctuation and case differ); its train MR's 30-39.
    (data / "sst" / "test.txt").write_text("\n".join(tree.format("A", i) for i in range(10)))
    (data / "sst" / "dev.txt").write_text("\n".join(tree.format("an", i) for i in range(5)))
    (data / "sst" / "train.txt").write_text("\n".join(tree.format("a", i) for i in range(10, 40)))
    config = _write_config(tmp_path, data, "positive=mr.pos,negative=mr.neg")
    out = tmp_path / "split"
    result = tfmtl_data("split", f"--config={config}", f"--out={out}", "--seed=3")
    assert result.returncode == 0, result.stderr
    assert "pos: skipped" in result.stdout
    summary = json.loads((out / "split.json").read_text())
    mr, sst = summary["tasks"]["mr"], summary["tasks"]["sst"]
    assert mr["dev"] == 8 and mr["test"] == 8 and mr["source"].startswith("split 80")
    # Every positive MR training sentence left of 0-9 (SST test) is gone from MR's train.
    assert mr["train_removed_by_source"]["sst/test"] >= 1
    assert sst["train_removed"] == sum(sst["train_removed_by_source"].values()) > 0
    leaks, splits = _leaks(out, ["mr", "sst"])
    assert leaks == []
    assert len(splits["mr"]["train"]) == mr["train"] == 64 - mr["train_removed"]
    # Deterministic: the same command writes the same files.
    again = tmp_path / "again"
    assert tfmtl_data("split", f"--config={config}", f"--out={again}", "--seed=3").returncode == 0
    for task in ("mr", "sst"):
        for split in ("train", "dev", "test"):
            assert (out / task / f"{split}.tsv").read_text() == (
                again / task / f"{split}.tsv").read_text()


def test_bad_config_is_reported(tmp_path):
    config = _write_config(tmp_path, tmp_path, "positive=missing.pos,negative=missing.neg")
    result = tfmtl_data("split", f"--config={config}", f"--out={tmp_path / 'o'}")
    assert result.returncode == 1 and "tasks.mr.data.classes" in result.stderr


def test_the_shared_corpora(tmp_path, shared_data):
    """MR, SUBJ and SST as distributed: after the split no evaluation sentence of one task
    is a training sentence of another."""
    root = shared_data("sentence_polarity").parent
    config = tmp_path / "c.py"
    config.write_text(f'''
from tfmtl.config import base_config
from tfmtl.experiment import task_config


def get_config():
    config = base_config()
    config.data_dir = {str(root)!r}
    config.tasks.mr = task_config("classification", data=dict(format="class_files",
        classes="positive=sentence_polarity/rt-polarity.pos,"
                "negative=sentence_polarity/rt-polarity.neg"))
    config.tasks.subj = task_config("classification", data=dict(format="class_files",
        classes="subjective=subjectivity/quote.tok.gt9.5000,"
                "objective=subjectivity/plot.tok.gt9.5000"))
    config.tasks.sst = task_config("classification", data=dict(format="sst",
        train="sst/train.txt", dev="sst/dev.txt", test="sst/test.txt", sst="binary"))
    config.training.reference_task = "mr"
    return config
''')
    out = tmp_path / "split"
    result = tfmtl_data("split", f"--config={config}", f"--out={out}")
    assert result.returncode == 0, result.stderr
    leaks, splits = _leaks(out, ["mr", "subj", "sst"])
    assert leaks == []
    summary = json.loads((out / "split.json").read_text())["tasks"]
    assert summary["mr"]["dev"] == summary["mr"]["test"] == 1066
    # SST was built from MR: most of SST's training trees are MR dev/test sentences or vice
    # versa; the split removes them rather than testing on training sentences.
    assert summary["sst"]["train_removed"] > 1000 and summary["mr"]["train_removed"] > 1000
    # The README's numbers (seed 0, 80/10/10: configs/sentiment_corpora.py's split).
    assert [(summary[t]["train"] + summary[t]["train_removed"], summary[t]["train_removed"])
            for t in ("mr", "subj", "sst")] == [(8530, 2333), (8000, 1202), (6920, 1512)]
    assert (len(splits["sst"]["test"]), len(splits["sst"]["dev"])) == (1821, 872)


@pytest.mark.parametrize("args, message", [(["split"], "split needs --config")])
def test_usage(args, message):
    result = tfmtl_data(*args)
    assert result.returncode != 0 and message in result.stderr
