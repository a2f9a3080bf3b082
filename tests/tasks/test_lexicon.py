"""The lexicon-presence objective (Yu and Jiang 2016): the reader, targets, config, training."""

import numpy as np
import pytest

from tests.seams.common import tiny
from tfmtl.config import ConfigError
from tfmtl.data import DataError, Sentence, read_lexicon
from tfmtl.experiment import task_config
from tfmtl.training.validation import validate

LEXICON = "good\tpositive\nbad\tnegative\nAwful\tnegative\n# c\n\nfine\tpositive\n"


def _lexicon(tmp_path, text=LEXICON):
    path = tmp_path / "lexicon.tsv"
    path.write_text(text)
    return path


def test_reader_and_its_errors(tmp_path):
    assert read_lexicon(_lexicon(tmp_path), lowercase=True)["awful"] == {"negative"}
    for text, line, message in [("good\tpositive\nbad\n", 2, "found 1 tab-separated field"),
                                ("good\tpos\tx\n", 1, "found 3"), ("\tpos\n", 1, "empty word")]:
        with pytest.raises(DataError, match=f"lexicon.tsv:{line}: .*{message}"):
            read_lexicon(_lexicon(tmp_path, text))
    with pytest.raises(DataError, match="empty: no entries"):
        read_lexicon(_lexicon(tmp_path, "# nothing\n"))


def _config(tmp_path, **values):
    config = tiny(steps=12, eval_every=12, checkpoint_every=12, log_every=4)
    words = ("a", "cat", "dog", "the")  # B, A, B, A.
    lexicon = tmp_path / "lex.tsv"
    lexicon.write_text("".join(f"{w}\t{'A' if i % 2 else 'B'}\n" for i, w in
                               enumerate(words)))
    config.tasks.lex = task_config("lexicon", **{"accompanies": "label",
                                                 "lexicon": str(lexicon), **values})
    return config


def test_targets_metrics_and_config(tmp_path):
    from tfmtl.tasks.lexicon import Lexicon

    config = validate(_config(tmp_path, lowercase="yes"))
    task = Lexicon("lex", config.tasks.lex)
    task.build_labels([])
    assert task.labels.tokens == ["A", "B"]
    np.testing.assert_array_equal(task.presence(Sentence(("The", "DOG", "x"))), [1, 1])
    np.testing.assert_array_equal(task.presence(Sentence(("THE", "x"))), [1, 0])
    np.testing.assert_array_equal(task.presence(Sentence(("x",))), [0, 0])
    gold = [Sentence(("cat",)), Sentence(("x",))]  # cat is class A.
    right = [np.array([1, 0]), np.array([0, 0])]
    assert task.evaluate(gold, right, [None, None]) == {"accuracy": 100.0, "macro_f1": 100.0}
    wrong = [np.array([1, 1]), np.array([0, 0])]  # B guessed once, never true: F1 0.
    assert task.evaluate(gold, wrong, [None, None]) == {"accuracy": 75.0, "macro_f1": 50.0}
    with pytest.raises(ConfigError, match=r"tasks\.lex\.lexicon.*no such file"):
        validate(_config(tmp_path, lexicon=str(tmp_path / "missing.tsv")))
    with pytest.raises(ConfigError, match=r"tasks\.lex\.pooling"):
        validate(_config(tmp_path, pooling="min"))
    with pytest.raises(ConfigError, match=r"tasks\.lex\.export: a 'lexicon' task serves "
                                          r"nothing"):
        validate(_config(tmp_path, export="yes"))


def test_trains_beside_the_classifier(tmp_path):
    from tests.cli_helpers import logged_scalars
    from tfmtl.training.trainer import train_and_evaluate

    final = train_and_evaluate(validate(_config(tmp_path)), str(tmp_path / "run"))
    assert {"accuracy", "macro_f1"} <= set(final["test"]["lex"])
    scalars = logged_scalars(tmp_path / "run")
    assert set(scalars["lex/loss"]) == set(scalars["label/loss"])
