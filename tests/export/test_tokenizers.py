"""In-graph tokenizers split raw text the way each reader's training data was split."""

import pytest

from tfmtl.export.tokenizers import (
    TREEBANK,
    WHITESPACE,
    default_tokenizer,
    make_tokenizer,
    treebank_tokenizer,
    whitespace_tokenizer,
)

TRICKY = [
    "  the dog's walks.  ", "", " \t ", "a\u00a0b\x1cc\u2028d\u3000e\x85f", "x\u200by",
    "Mr. Smith isn't here at 10:30 a.m. OS. $5 -- wait...",
    "\u201cquoted\u201d (paren) [x] {y} 1,000,000 1/2 3.5%",
    "\u00dcN\u00cf-c\u00f6d\u00e9 \u00fcber-cool caf\u00e9's", "emoji\U0001f44d\U0001f3fdtest",
    "can't won't I'm they're we've you'll he'd",
]
VOCABULARY = ["<pad>", "<unk>", "Mr.", "U.S.", "a.m.", "S.", "n't", "'s", "'m", "well-known",
              "the"]


def _split(spec, texts, ops="core"):
    import tensorflow as tf

    return [[t.decode() for t in row] for row in spec.tokenize(tf.constant(texts), ops).to_list()]


def test_whitespace_is_exactly_str_split_for_every_code_point():
    texts = [f"a{chr(c)}b" for c in range(0x3100) if not 0xD800 <= c <= 0xDFFF]
    texts += [f"a{chr(c)}b" for c in (0xFEFF, 0x1F600, 0x10FFFF)]
    assert _split(whitespace_tokenizer(), texts) == [t.split() for t in texts]


@pytest.mark.parametrize("ops", ["core", "tensorflow_text"])
def test_whitespace_tokenizer_matches_the_tsv_reader(ops):
    assert _split(whitespace_tokenizer(), TRICKY, ops) == [t.split() for t in TRICKY]


def test_treebank_tokenizer_splits_like_ptb():
    spec = treebank_tokenizer(VOCABULARY)
    got = _split(spec, TRICKY)
    assert got[0] == ["the", "dog", "'s", "walks", "."]
    assert got[5] == ["Mr.", "Smith", "is", "n't", "here", "at", "10:30", "a.m.", "OS", ".",
                      "$", "5", "--", "wait", "..."]
    assert got[6] == ["\u201c", "quoted", "\u201d", "(", "paren", ")", "[", "x", "]", "{", "y",
                      "}", "1,000,000", "1/2", "3.5", "%"]
    assert got[7] == ["\u00dcN\u00cf-c\u00f6d\u00e9", "\u00fcber-cool", "caf\u00e9", "'s"]
    assert got[9] == ["ca", "n't", "wo", "n't", "I", "'m", "they", "'re", "we", "'ve", "you",
                      "'ll", "he", "'d"]
    assert got[1] == got[2] == []


def test_treebank_rules_follow_the_vocabulary():
    # No split clitics and no hyphenated words in training: apostrophe words stay whole,
    # hyphens split; abbreviations match any case when the vocabulary is lowercased.
    spec = treebank_tokenizer(["o'clock", "mr."], lowercase=True)
    assert _split(spec, ["At 5 o'clock MR. well-known"]) == [
        ["At", "5", "o'clock", "MR.", "well", "-", "known"]]


@pytest.mark.parametrize("name", [WHITESPACE, TREEBANK])
def test_core_ops_split_like_tensorflow_text_regex_split(name):
    spec = make_tokenizer(name, VOCABULARY)
    assert _split(spec, TRICKY, "core") == _split(spec, TRICKY, "tensorflow_text")


def test_default_tokenizer_per_reader():
    assert default_tokenizer(["tsv"]) == default_tokenizer(["synthetic"]) == WHITESPACE
    assert default_tokenizer(["conll"]) == default_tokenizer(["conllu", "tsv"]) == TREEBANK
    with pytest.raises(ValueError, match="unknown data format 'xml'"):
        default_tokenizer(["xml"])
    with pytest.raises(ValueError, match="unknown tokenizer 'bpe'"):
        make_tokenizer("bpe")
    with pytest.raises(ValueError, match="unknown tokenizer ops 'icu'"):
        _split(whitespace_tokenizer(), ["a"], "icu")
