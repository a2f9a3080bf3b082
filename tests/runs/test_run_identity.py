"""What makes two requests the same run, and the errors of bad requests."""

import hashlib
import json
import os
import shutil

import pytest

from tests.runs.conftest import MINI_CONFIG, run_sweep
from tfmtl.config import flatten
from tfmtl.runs import RunsError, RunSpec, Sweep, Variant, _core, parse_grid, read_variants_file
from tfmtl.runs.run import resolve_run
from tfmtl.runs.run_identity import RESULT_FREE_KEYS, run_identity


def run_id(*overrides, config=MINI_CONFIG, cwd=None):
    return resolve_run(RunSpec.create(config, overrides, cwd=cwd)).id


def test_result_free_keys_keep_the_run_and_others_change_it():
    base = run_id()
    assert run_id("training.log_every=3") == base
    assert run_id("training.checkpoint_every=2", "training.keep_checkpoints=5") == base
    assert run_id("model.encoders.shared.units=12") != base
    assert run_id("seed=1") != base
    assert run_id("tasks.chunk.mixing_ratio=0.5") != base
    # The best checkpoint is picked among the evaluations: evaluation cadence is a result.
    assert run_id("training.eval_every=4") != base
    # Overriding a key with its own value is the same run.
    assert run_id("model.encoders.shared.units=8") == base
    assert set(RESULT_FREE_KEYS) == {"training.log_every", "training.checkpoint_every",
                                     "training.keep_checkpoints"}


def test_a_numerics_version_bump_makes_new_runs():
    run = resolve_run(RunSpec.create(MINI_CONFIG))
    config = dict(run.identity.config)
    assert run.identity.payload["numerics_version"] >= 1
    bumped = run_identity({k: v for k, v in config.items()},
                          numerics_version=run.identity.payload["numerics_version"] + 1)
    same = run_identity(dict(config), numerics_version=run.identity.payload["numerics_version"])
    assert same.id == run.id and bumped.id != run.id


def conll_config(tmp_path, data_dir, name="conll_config.py"):
    path = tmp_path / name
    path.write_text(
        "from tests.runs.mini_config import get_config as mini\n"
        "def get_config():\n"
        "    c = mini()\n"
        f"    c.data_dir = {data_dir!r}\n"
        "    c.tasks.chunk.data.format = 'conll'\n"
        "    c.tasks.chunk.data.column = '1'\n"
        "    c.tasks.chunk.data.train = 'train.txt'\n"
        "    return c\n")
    return str(path)


def test_data_files_enter_the_identity_by_content(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.txt").write_text("the DT\ndog NN\n\n")
    config = conll_config(tmp_path, str(data))
    before = resolve_run(RunSpec.create(config))
    digest = hashlib.sha256((data / "train.txt").read_bytes()).hexdigest()
    assert before.identity.config["tasks.chunk.data.train"] == f"sha256:{digest}"
    assert str(tmp_path) not in json.dumps(before.identity.payload)
    assert run_id(config=config) == before.id
    # The same corpus elsewhere is the same run; an edited one is another.
    elsewhere = tmp_path / "copy"
    shutil.copytree(data, elsewhere)
    assert run_id(config=conll_config(tmp_path, str(elsewhere), "copy.py")) == before.id
    (data / "train.txt").write_text("the DT\ncat NN\n\n")
    assert run_id(config=config) != before.id


def test_keys_at_their_default_are_not_in_the_identity():
    run = resolve_run(RunSpec.create(MINI_CONFIG))
    resolved = _core.resolve_config(MINI_CONFIG)
    flat = flatten(resolved.to_dict())
    defaults = _core.config_defaults(json.loads(json.dumps(flat)))
    assert defaults["training.sampler.type"] == "ratio"
    assert defaults["tasks.chunk.layer"] == -1 and defaults["tasks.chunk.type"] == ""
    config = run.identity.config
    assert "training.sampler.type" not in config  # The mini config keeps the default.
    assert config["tasks.chunk.type"] == "tagging"
    assert config["model.encoders.shared.units"] == 8  # Set by the mini config.
    # A key a later tfmtl adds with a default (absent from an older config.json) keeps the id,
    # and so does one the config sets to its default.
    older = {k: v for k, v in flat.items() if k != "training.select"}
    assert run_identity(older).id == run.id
    assert run_id("training.select=reference") == run.id
    assert run_id("training.sampler.type=temperature", "training.sampler.temperature=2.0",
                  "training.sampler.cap=0") == run_id("training.sampler.type=temperature")
    assert run_id("training.sampler.type=proportional", "training.sampler.cap=5") != run.id


def test_a_relative_data_dir_is_made_absolute(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.txt").write_text("the DT\ndog NN\n\n")
    relative = resolve_run(RunSpec.create(conll_config(tmp_path, "data"), cwd=str(tmp_path)))
    assert f"data_dir={data}" in relative.spec.overrides
    assert "data_dir" not in relative.identity.config  # The data files' content is.
    absolute = resolve_run(RunSpec.create(conll_config(tmp_path, str(data)), cwd="/"))
    assert absolute.id == relative.id


def test_bad_overrides_name_the_key():
    with pytest.raises(RunsError, match=r"config.training.stepz: unknown key in "
                                        r"config.training; known keys: .*steps"):
        run_id("training.stepz=3")
    with pytest.raises(RunsError, match=r"config.tasks.nope.layer: unknown key in config.tasks;"
                                        r" known keys: chunk, label"):
        run_id("tasks.nope.layer=1")
    with pytest.raises(RunsError, match="training.steps=abc"):
        run_id("training.steps=abc")
    with pytest.raises(RunsError, match="config.tasks.chunk.layer"):
        run_id("tasks.chunk.layer=5")
    with pytest.raises(RunsError, match="no such config file"):
        run_id(config="/nonexistent/config.py")


def test_grid_is_the_cross_product_and_bad_entries_are_named():
    grid = parse_grid(["tasks.chunk.mixing_ratio=0.5,1.0", "config.training.steps=5,6"])
    assert [v.name for v in grid] == [
        "tasks.chunk.mixing_ratio=0.5,training.steps=5",
        "tasks.chunk.mixing_ratio=0.5,training.steps=6",
        "tasks.chunk.mixing_ratio=1.0,training.steps=5",
        "tasks.chunk.mixing_ratio=1.0,training.steps=6"]
    assert grid[1].overrides == ("tasks.chunk.mixing_ratio=0.5", "training.steps=6")
    # The seed is the sweep's own axis: set anywhere else, --seeds would silently win.
    for grid_seed in (parse_grid(["config.seed=1,2"]), parse_grid(["seed=1,2"])):
        with pytest.raises(RunsError, match=r"variant 'seed=1': 'seed=1': a sweep sets each "
                                            r"run's seed from --seeds"):
            Sweep(MINI_CONFIG, grid_seed, seeds=[0])
    with pytest.raises(RunsError, match=r"--config: 'config.seed=5': a sweep sets"):
        Sweep(MINI_CONFIG, seeds=[0], overrides=["config.seed=5"])
    for bad in ("steps", "training.steps=", "=1,2", "training.steps=1,,2", "a=1,1"):
        with pytest.raises(RunsError, match="--grid"):
            parse_grid([bad])


def test_an_unknown_grid_key_stops_the_sweep_before_it_starts(tmp_path):
    result = run_sweep("--grid=training.stepz=1,2", f"--runs_dir={tmp_path / 'store'}")
    assert result.returncode == 2
    assert ("tfmtl-sweep: error: --grid=training.stepz=1,2: config.training.stepz: unknown key"
            in result.stderr)
    assert not os.path.exists(tmp_path / "store")  # Nothing was created, nothing trained.


def write(tmp_path, value):
    path = tmp_path / "variants.json"
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return str(path)


def test_variants_file(tmp_path):
    other = tmp_path / "other.py"
    other.write_text("from tests.runs.mini_config import get_config\n")
    path = write(tmp_path, {"baseline": "b", "variants": {
        "a": {"overrides": {"model.encoders.shared.bidirectional": False, "training.steps": 5,
                            "tasks.chunk.mixing_ratio": 0.5, "tasks.chunk.data.column": "pos"}},
        "b": {"config": "other.py"},
        "c": {"config": ":x"}}})
    variants, baseline = read_variants_file(path, default_config="/some/config.py:y")
    assert baseline == "b"
    assert variants[0] == Variant("a", ("model.encoders.shared.bidirectional=false",
                                        "training.steps=5", "tasks.chunk.mixing_ratio=0.5",
                                        "tasks.chunk.data.column=pos"))
    assert variants[1].config == str(other)
    assert variants[2].config == "/some/config.py:x"
    sweep = Sweep(MINI_CONFIG, variants[:2], seeds=[0, 1], baseline=baseline)
    assert [(c.variant, c.seed) for c in sweep.runs] == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert sweep.runs[2].run.id == run_id("seed=0")  # other.py is the mini config.


@pytest.mark.parametrize("content, message", [
    ("{not json", r"not valid JSON"),
    ({"variants": {}}, r"\"variants\" must be a non-empty object"),
    ({"variants": {"a": {}}, "basline": "a"}, r"unknown key 'basline'"),
    ({"variants": {"a": {"override": {}}}}, r"variants.a: unknown key 'override'"),
    ({"variants": {"a": {"overrides": {"seed": [1, 2]}}}},
     r"variants.a.overrides.seed: expected a string, number or boolean"),
    ({"variants": {"a": {}}, "baseline": "z"}, r"baseline 'z' is not a variant"),
])
def test_malformed_variants_files_are_named(tmp_path, content, message):
    with pytest.raises(RunsError, match=r"--variants: .*variants.json: .*" + message):
        read_variants_file(write(tmp_path, content))


def test_a_variant_with_an_unknown_key_is_named(tmp_path):
    overrides = {"model.encoders.shared.unitz": 3}
    variants, _ = read_variants_file(write(tmp_path, {"variants": {"wide": {"overrides":
                                                                            overrides}}}))
    with pytest.raises(RunsError, match=r"^variant 'wide': config.model.encoders.shared.unitz: "
                                        r"unknown key in config.model.encoders.shared; known"):
        Sweep(MINI_CONFIG, [Variant("base"), *variants])
    with pytest.raises(RunsError, match="--baseline: 'nope' is not a variant"):
        Sweep(MINI_CONFIG, variants, baseline="nope")


def test_a_section_entry_at_its_defaults_is_still_in_the_identity():
    from tfmtl.training.callbacks import callback_config

    resolved = _core.resolve_config(MINI_CONFIG)
    tree = resolved.to_dict()
    base = run_identity(tree)
    assert "training.callbacks" not in base.config and "model.encoders" not in base.config
    tree["training"]["callbacks"] = {"gradient_reversal": callback_config(
        "gradient_reversal").to_dict()}
    with_callback = run_identity(tree)
    assert with_callback.id != base.id
    assert with_callback.config["training.callbacks"] == ["gradient_reversal"]


def test_class_files_enter_the_identity_by_content(tmp_path):
    from tfmtl.runs.run_identity import identity_config

    (tmp_path / "pos.txt").write_text("good\n")
    (tmp_path / "neg.txt").write_text("bad\n")
    value = f"pos={tmp_path / 'pos.txt'},neg={tmp_path / 'neg.txt'}"
    config = identity_config({"tasks.label.type": "classification",
                              "tasks.label.data.classes": value})
    pos = hashlib.sha256(b"good\n").hexdigest()
    neg = hashlib.sha256(b"bad\n").hexdigest()
    assert config["tasks.label.data.classes"] == f"pos=sha256:{pos},neg=sha256:{neg}"


def test_overrides_set_plugin_keys_the_config_file_lacks():
    from tests.cli_helpers import TINY_CONFIG
    from tfmtl.runs._core import RunsError, load_config

    config = load_config(TINY_CONFIG, ["model.sharing=sluice", "model.schemes.sluice.betas=fixed",
                                       "model.schemes.sluice.subspaces=4",
                                       "training.callbacks.gradient_reversal.steps=3"])
    assert config.model.schemes.sluice.betas == "fixed"
    assert config.model.schemes.sluice.subspaces == 4
    assert config.model.schemes.sluice.orthogonality == 1e-3  # The scheme's default.
    assert config.training.callbacks.gradient_reversal.steps == 3
    with pytest.raises(RunsError, match=r"model\.schemes\.sluice\.subspaces: '1.5' is not "
                                        r"of its default's type \(int: 2\)"):
        load_config(TINY_CONFIG, ["model.schemes.sluice.subspaces=1.5"])


def test_a_grid_over_a_plugin_key_the_config_lacks_is_checked_when_resolved():
    from tests.cli_helpers import TINY_CONFIG
    from tfmtl.runs import Sweep, parse_grid
    from tfmtl.runs.sweep import check_grid

    grid = ["model.schemes.soft.weight=0.0,0.1"]
    check_grid(TINY_CONFIG, grid)
    sweep = Sweep(TINY_CONFIG, parse_grid(grid), overrides=["model.sharing=soft"])
    weights = sorted(r.run.identity.payload["config"]["model.schemes.soft.weight"]
                     for r in sweep.runs)
    assert weights == [0.0, 0.1]
