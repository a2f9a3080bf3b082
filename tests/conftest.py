"""Shared pytest fixtures and options."""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
# Real corpora live beside the repository, never inside it.
SHARED_DATA = pathlib.Path(
    os.environ.get("TFMTL_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")
)


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow test: pass --runslow to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def shared_data():
    """Returns a function mapping a corpus folder name to its path, or skips."""

    def get(name: str) -> pathlib.Path:
        path = SHARED_DATA / name
        if not path.is_dir():
            pytest.skip(
                f"corpus {name!r} not found at {path} (set TFMTL_SHARED_DATA to the "
                "folder holding the shared corpora)"
            )
        return path

    return get


@pytest.fixture(scope="session")
def sentiment_split(tmp_path_factory):
    """The deduplicated MR/SUBJ/SST split and the SST-train lexicon, written once by
    tfmtl-data (or a skip without the corpora)."""
    import subprocess
    import sys

    from tests.cli_helpers import env

    if not (SHARED_DATA / "sst").is_dir():
        pytest.skip(f"corpus 'sst' not found at {SHARED_DATA / 'sst'}")
    out = tmp_path_factory.mktemp("split")
    for command in (["split", f"--config={REPO_ROOT / 'configs' / 'sentiment_corpora.py'}",
                     f"--config.data_dir={SHARED_DATA}", f"--out={out}"],
                    ["lexicon", f"--out={out / 'lexicon.tsv'}",
                     str(SHARED_DATA / "sst" / "train.txt")]):
        result = subprocess.run([sys.executable, "-m", "tfmtl.cli.data", *command],
                                env=env(), capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    return out
