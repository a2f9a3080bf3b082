"""bench/objectives.py: its sweeps, and end to end on tiny models (shared data)."""

import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.runs.conftest import load_bench, read_report, sweep_env, trainings

SCRIPT = REPO_ROOT / "bench" / "objectives.py"
TINY = ["training.steps=4", "training.eval_every=2", "training.optimizer.schedule=constant",
        "model.encoders.shared.layers=2", "model.encoders.shared.units=8",
        "model.embeddings.text.word_dim=8", "model.embeddings.text.char.units=8"]


def _module():
    return load_bench(SCRIPT, "objectives")


def test_variants_and_baselines():
    from tfmtl.runs import RunsError

    module = _module()
    sweep = module.build_sweep("conll2000", [0], [], "/data")
    assert [v.name for v in sweep.variants] == ["layer1", "lm", "lm_crf"]
    assert sweep.baseline == "layer1"
    with pytest.raises(RunsError, match="unknown variant 'crf' of ud"):
        module.build_sweep("ud", [0], ["alone", "crf"], "/data")


@pytest.mark.slow
def test_polarity_on_the_deduplicated_split_from_the_store(tmp_path, shared_data):
    shared_data("sst")
    args = [str(SCRIPT), "--bench=polarity", f"--runs_dir={tmp_path / 'store'}",
            f"--split_dir={tmp_path / 'split'}", f"--out={tmp_path / 'report'}",
            "--bootstrap=100", f"--results={tmp_path / 'results.jsonl.xz'}",
            *[f"--override={o}" for o in TINY]]
    first = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                           env=sweep_env(), cwd=REPO_ROOT, timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    assert (tmp_path / "split" / "mr" / "train.tsv").is_file()
    assert (tmp_path / "split" / "lexicon.tsv").is_file()
    for variant in ("alone", "lexicon", "lm"):
        assert f"| {variant} | " in first.stdout
    report = read_report(str(tmp_path / "report" / "polarity"))
    assert report["compute"]["trained"] == 3
    before = trainings(str(tmp_path / "store"))
    second = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                            env=sweep_env(), cwd=REPO_ROOT, timeout=900)
    assert second.returncode == 0, second.stderr[-3000:]
    assert trainings(str(tmp_path / "store")) == before


def test_the_conll2000_baseline_is_one_run_for_both_benchmarks(tmp_path, shared_data):
    """objectives.py's layer1 is conll2000_lowlevel.py's layer1 (the same ids), and a fresh
    store fed the committed objectives archive has the low-level sweep's layer1 runs."""
    from tfmtl.runs import RunStore
    from tfmtl.runs.results_archive import read_archive, sibling_archives, unpack

    data = shared_data("conll2000")
    lowlevel = load_bench(REPO_ROOT / "bench" / "conll2000_lowlevel.py", "conll2000_lowlevel")
    module = _module()
    objectives = module.build_sweep("conll2000", [0, 1, 2], ["layer1"],
                                    os.path.abspath(module.BENCHMARKS["conll2000"][3]))
    low = lowlevel.build_sweep(str(data), [0, 1, 2], ["layer1"])
    ids = [run.id for run in low.unique_runs()]
    assert ids == [run.id for run in objectives.unique_runs()]
    archive = REPO_ROOT / "bench" / "results" / "objectives_conll2000.jsonl.xz"
    assert str(archive) in sibling_archives(
        str(REPO_ROOT / "bench" / "results" / "conll2000_lowlevel.jsonl.xz"))
    if not set(ids) <= set(read_archive(str(archive))):
        pytest.skip("the committed archive lacks the layer1 runs of this code's identities")
    store = RunStore(str(tmp_path / "store"))
    assert sorted(unpack(store, str(archive), ids)) == sorted(ids)
    cached, to_run = low.plan(store)
    assert not to_run and len(cached) == 3
