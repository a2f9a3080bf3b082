"""bench/conll2000_lowlevel.py end to end on tiny models (CoNLL-2000 from shared data)."""

import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.runs.conftest import load_bench, read_report, sweep_env, trainings

SCRIPT = REPO_ROOT / "bench" / "conll2000_lowlevel.py"
TINY = ["training.steps=4", "training.eval_every=2", "training.optimizer.schedule=constant",
        "model.encoders.shared.layers=2", "model.encoders.shared.units=8",
        "model.embeddings.text.word_dim=8", "model.embeddings.text.char.units=8"]


def bench(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args, *[f"--override={o}" for o in TINY]],
                          capture_output=True, text=True, env=sweep_env(), cwd=REPO_ROOT,
                          timeout=900)


def test_unknown_variant_is_named():
    module = load_bench(SCRIPT, "conll2000_lowlevel")
    from tfmtl.runs import RunsError

    with pytest.raises(RunsError, match="--variants: unknown variant 'layer2'"):
        module.build_sweep("/data", [0], ["alone", "layer2"])


@pytest.mark.slow
def test_the_table_comes_from_the_store(tmp_path, shared_data):
    data = shared_data("conll2000")
    args = [f"--data_dir={data}", "--seeds=0,1", "--variants=alone,layer1",
            f"--out={tmp_path / 'report'}", "--bootstrap=200",
            f"--results={tmp_path / 'results.jsonl.xz'}"]
    store = [f"--runs_dir={tmp_path / 'store'}"]
    first = bench(*args, *store)
    assert first.returncode == 0, first.stderr
    assert "| chunking alone | " in first.stdout and "| + POS at layer 1 | " in first.stdout
    report = read_report(str(tmp_path / "report"))
    assert report["compute"]["trained"] == 4
    comparison = report["metrics"]["test/chunk/f1"]["vs_baseline"]["layer1"]
    assert comparison["bootstrap"]["examples"] == 2012  # The CoNLL-2000 test sentences.
    before = trainings(str(tmp_path / "store"))
    second = bench(*args, *store)  # The same table again, from the store: nothing trains.
    assert second.returncode == 0, second.stderr
    assert trainings(str(tmp_path / "store")) == before
    table = [line for line in first.stdout.splitlines() if line.startswith("| ")]
    assert table == [line for line in second.stdout.splitlines() if line.startswith("| ")]
    # A machine without the store: the results archive alone gives the same table.
    third = bench(*args, f"--runs_dir={tmp_path / 'new_store'}")
    assert third.returncode == 0, third.stderr
    assert trainings(str(tmp_path / "new_store")) == {}
    assert "4 from the store" in third.stdout
    assert table == [line for line in third.stdout.splitlines() if line.startswith("| ")]
