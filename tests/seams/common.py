"""What the seam tests share: the tiny synthetic config, trained through the library."""

from tests import tiny_config


def tiny(**training):
    """The tiny three-task synthetic config (unvalidated), training keys updated."""
    config = tiny_config.get_config()
    config.training.update(training)
    return config
