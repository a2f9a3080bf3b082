"""Every sharing scheme trains through tfmtl-train under the mirrored strategy with the fused
LSTM, exports with stock ops only (the scheme's penalties and discriminator left out, the
tasks' columns in) and serves what the trained model predicts; shared-private, the scheme
with a schedule, resumes bit for bit after SIGKILL."""

import pytest

from tests.cli_helpers import TINY_CONFIG, run_binary, train_killed_and_resumed

SCHEMES = ("soft", "cross_stitch", "sluice", "shared_private")
# The label task on a corpus of its own, so shared-private has two domains to hide.
COMMON = ["--config.tasks.label.data.seed=4", "--config.model.encoders.shared.lstm=fused"]


@pytest.mark.slow  # Each trains on two replicas and exports (about 40 s).
@pytest.mark.parametrize("sharing", SCHEMES)
def test_a_scheme_trains_mirrored_with_the_fused_lstm_and_exports_stock_ops(tmp_path, sharing):
    import tensorflow as tf

    from tests.export.helpers import assert_matches_expected, model_predictions
    from tfmtl.experiment import Experiment
    from tfmtl.export.exporter import export_saved_model
    from tfmtl.export.saved_model_ops import custom_ops, saved_model_ops

    workdir = tmp_path / "run"
    result = run_binary("train", f"--config={TINY_CONFIG}", f"--workdir={workdir}", *COMMON,
                        f"--config.model.sharing={sharing}", "--config.training.steps=8",
                        "--config.training.eval_every=8", "--config.training.checkpoint_every=8",
                        "--config.training.log_every=4",
                        "--config.distribute.strategy=mirrored",
                        "--config.distribute.cpu_devices=2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"parameters (sharing {sharing})" in result.stderr
    # Each scheme's own losses and learned weights are logged (every 4 steps).
    from tests.cli_helpers import logged_scalars

    scalars = logged_scalars(workdir)
    if sharing == "soft":
        assert all(v > 0 for v in scalars["shared/soft/loss"].values())
        assert not any(name.startswith("sharing/") for name in scalars)
    elif sharing == "shared_private":
        assert all(v > 0 for v in scalars["shared/adversarial/loss"].values())
        assert scalars["shared/orthogonality/loss"]
        lam = scalars["gradient_reversal/shared_gradient_reversal"]
        assert sorted(lam) == [4, 8] and 0.9 < lam[4] < lam[8] < 1.0  # Ganin's schedule.
    else:
        alpha = scalars["sharing/shared_alpha_1/0_0"]
        assert sorted(alpha) == [4, 8]
        assert alpha[8] != pytest.approx(0.9, abs=1e-7)  # The alphas train.
        if sharing == "sluice":
            assert scalars["shared/orthogonality/loss"]
            assert scalars["sharing/shared_chunk_beta/1"][8] != pytest.approx(0.5, abs=1e-7)
    sentences = [list(s.tokens) for s in
                 Experiment.restore(str(workdir)).sentences("chunk", "dev")[:8]]
    expected = model_predictions(workdir, sentences)
    exported = export_saved_model(str(workdir), str(tmp_path / "exports"), sharing)
    assert not custom_ops(saved_model_ops(exported.path))
    loaded = tf.saved_model.load(exported.path)
    names = {v.name for v in loaded.model_variables}
    assert not any("discriminator" in n for n in names)
    assert any(n.startswith("shared_chunk_") for n in names)  # The chunk task's column.
    outputs = loaded.signatures["serving_default"](
        text=tf.constant([" ".join(s) for s in sentences]))
    assert_matches_expected({k: v.numpy() for k, v in outputs.items()}, expected)


@pytest.mark.slow  # Two trainings and a kill (about a minute).
def test_shared_private_resumes_bit_for_bit_after_sigkill(tmp_path):
    args = [f"--config={TINY_CONFIG}", *COMMON, "--config.model.sharing=shared_private",
            "--config.training.steps=40", "--config.training.checkpoint_every=10",
            "--config.training.eval_every=20"]
    straight, _ = train_killed_and_resumed(tmp_path, args, 40, 10)
    from tests.cli_helpers import logged_scalars

    # The gradient-reversal schedule was on (validation added it) and is logged.
    assert logged_scalars(straight)["gradient_reversal/shared_gradient_reversal"]


@pytest.mark.slow  # Two trainings and a kill per scheme (about a minute each).
@pytest.mark.parametrize("sharing", ("soft", "cross_stitch", "sluice"))
def test_a_column_scheme_resumes_bit_for_bit_after_sigkill(tmp_path, sharing):
    # The columns, their mixing weights (alphas, betas) and the soft penalty's pairs are
    # model variables: the checkpoint holds them with the optimizer's moments.
    args = [f"--config={TINY_CONFIG}", *COMMON, f"--config.model.sharing={sharing}",
            "--config.training.steps=24", "--config.training.checkpoint_every=6",
            "--config.training.eval_every=12"]
    train_killed_and_resumed(tmp_path, args, 24, 6)
