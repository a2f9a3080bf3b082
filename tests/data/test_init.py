import pathlib
import subprocess
import sys

import tfmtl.data

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_public_names_resolve():
    for name in tfmtl.data.__all__:
        assert getattr(tfmtl.data, name) is not None, name
    assert set(tfmtl.data.READERS) == {"conllu", "conll", "tsv", "text"}


def test_reading_and_vocabularies_do_not_load_tensorflow():
    code = (
        "import sys\n"
        "import tfmtl.data as data\n"
        "sentences = data.generate(20, 0)\n"
        "vocab = data.Vocabulary.build(t for s in sentences for t in s.tokens)\n"
        "data.build_char_vocabulary(sentences)\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
