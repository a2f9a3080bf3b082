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
