"""Session fixtures of the export tests: one trained workdir, its export, served copies."""

import pytest

from tests.export import helpers


@pytest.fixture(scope="session")
def export_root(tmp_path_factory):
    return helpers.session_root(tmp_path_factory)


@pytest.fixture(scope="session")
def trained(export_root):
    return helpers.trained(export_root)


@pytest.fixture(scope="session")
def exported(export_root):
    return helpers.exported(export_root)


@pytest.fixture(scope="session")
def loaded(export_root):
    return helpers.loaded(export_root)


@pytest.fixture(scope="session")
def runner(export_root):
    """The export loaded as TF Serving loads it (TF1 loader, Session)."""
    return helpers.runner(export_root)
