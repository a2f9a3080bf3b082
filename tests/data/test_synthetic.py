import collections
import time

import pytest

from tfmtl.data import (
    SYNTHETIC_PATH,
    SYNTHETIC_TASKS,
    TASK_RELATEDNESS,
    ambiguity_rate,
    generate,
    oov_rate,
    parse_tree,
    read_conll,
    read_parallel,
    read_tsv,
    synthetic_splits,
    write_corpus,
)
from tfmtl.data.synthetic import _lexicon

POS_TAGS = set("DT PRP NN NNS NNP CD JJ RB VBZ VBP VBD VBG IN CS CC , .".split())
CHUNK_TYPES = {"NP", "VP", "PP", "ADJP", "ADVP", "SBAR"}
ENTITY_TYPES = {"PER", "LOC", "ORG"}


@pytest.fixture(scope="module")
def corpus():
    return generate(1500, 11)


def spans(tags):
    """(type, start, end) of the BIO spans; checks that every I- continues its span."""
    found = []
    for index, tag in enumerate(tags):
        if tag == "O":
            continue
        prefix, kind = tag.split("-", 1)
        if prefix == "B":
            found.append([kind, index, index + 1])
        else:
            assert prefix == "I" and found and found[-1][0] == kind and found[-1][2] == index, tags
            found[-1][2] = index + 1
    return [tuple(span) for span in found]


def test_same_seed_same_corpus_other_seed_other_corpus():
    assert generate(60, 3) == generate(60, 3)
    assert [s.tokens for s in generate(60, 3)] != [s.tokens for s in generate(60, 4)]
    assert generate(0, 3) == []
    with pytest.raises(ValueError):
        generate(-1, 0)


def test_sentence_records(corpus):
    for index, sentence in enumerate(corpus, start=1):
        assert (sentence.path, sentence.line) == (SYNTHETIC_PATH, index)
        assert set(sentence.fields) == {"pos", "chunk", "ner"}
        assert all(len(column) == len(sentence.tokens) for column in sentence.fields.values())
        assert set(sentence.fields["pos"]) <= POS_TAGS
        assert sentence.label in ("pos", "neg")
        assert sentence.target and sentence.target[-1] == "." and sentence.tokens[-1] == "."
        assert all(
            token and token == token.lower() and " " not in token for token in sentence.tokens
        )


def test_chunk_and_entity_tags_are_valid_bio(corpus):
    for sentence in corpus:
        assert {kind for kind, _, _ in spans(sentence.fields["chunk"])} <= CHUNK_TYPES
        assert {kind for kind, _, _ in spans(sentence.fields["ner"])} <= ENTITY_TYPES


def test_tree_leaves_are_the_tokens_and_preterminals_the_tags(corpus):
    for sentence in corpus:
        tree = parse_tree(sentence.meta["tree"])
        assert tree.label == "S"
        assert tuple(tree.leaves()) == sentence.tokens
        assert tuple(tag for tag, _ in tree.tagged_words()) == sentence.fields["pos"]


def test_chunks_agree_with_the_tree(corpus):
    for sentence in corpus:
        tree = parse_tree(sentence.meta["tree"])
        nodes = collections.defaultdict(list)
        for node, start in tree.subtrees():
            if not node.is_preterminal:
                nodes[start].append(node)
        chunked = set()
        for kind, start, end in spans(sentence.fields["chunk"]):
            words = list(sentence.tokens[start:end])
            phrases = [node for node in nodes[start] if node.label == kind]
            assert phrases, (sentence.meta["tree"], kind, start)
            if kind in ("NP", "ADJP", "ADVP"):
                # A base phrase: the whole node, made of words only.
                assert any(node.leaves() == words for node in phrases), sentence.meta["tree"]
            else:
                # The words that open a VP, or the head of a PP or SBAR.
                assert any(node.leaves()[: len(words)] == words for node in phrases)
            chunked.update(range(start, end))
        outside = {sentence.fields["pos"][i] for i in range(len(sentence)) if i not in chunked}
        assert outside <= {"CC", ",", "."}


def test_entities_are_whole_proper_noun_phrases(corpus):
    count = 0
    for sentence in corpus:
        chunks = set(spans(sentence.fields["chunk"]))
        for _, start, end in spans(sentence.fields["ner"]):
            assert set(sentence.fields["pos"][start:end]) == {"NNP"}
            assert ("NP", start, end) in chunks
            count += 1
    assert count > 300


def test_homographs_need_context(corpus):
    tags = collections.defaultdict(set)
    for sentence in corpus:
        for token, tag in zip(sentence.tokens, sentence.fields["pos"], strict=True):
            tags[token].add(tag)
    assert tags["that"] == {"DT", "CS"}
    assert {"IN", "CS"} <= tags["before"]
    assert any({"NN", "VBP"} <= found or {"NNS", "VBZ"} <= found for found in tags.values())
    assert any({"JJ", "RB"} <= found for found in tags.values())
    assert any({"NN", "NNP"} <= found for found in tags.values())
    assert 0.02 < ambiguity_rate(corpus, "pos") < 0.3


def test_polarity_label_follows_polar_words_and_negation(corpus):
    polarity = _lexicon().polarity
    labels = collections.Counter()
    for sentence in corpus:
        pairs = zip(sentence.tokens, sentence.fields["pos"], strict=True)
        score = sum(polarity.get(pair, 0) for pair in pairs)
        negated = sum(token in ("not", "never") for token in sentence.tokens) % 2 == 1
        assert score != 0
        assert sentence.label == ("pos" if (score > 0) != negated else "neg")
        labels[sentence.label] += 1
    assert 0.4 < labels["pos"] / len(corpus) < 0.6


def test_translation_copies_names_and_reorders(corpus):
    reordered = 0
    for sentence in corpus:
        names = [
            t for t, tag in zip(sentence.tokens, sentence.fields["ner"], strict=True) if tag != "O"
        ]
        target = list(sentence.target)
        for name in names:
            assert name in target
        reordered += sentence.tokens != sentence.target
    assert reordered == len(corpus)
    verb_final = 0
    for sentence in corpus:
        clause = parse_tree(sentence.meta["tree"])
        verb_phrase = clause.children[1]
        if len(clause.children) == 3 and all(
            child.is_preterminal and child.label != "CS" for child in verb_phrase.children
        ):
            # "(never|adverb)? verb" or "be not? verb-ing": the verb ends the target clause.
            assert sentence.target[-2].endswith(("ni", "ta", "nim", "tam")), sentence.target
            verb_final += 1
    assert verb_final > 50


def test_dev_holds_words_unseen_in_training():
    splits = synthetic_splits(2000, 0)
    train = [token for sentence in splits["train"] for token in sentence.tokens]
    dev = [token for sentence in splits["dev"] for token in sentence.tokens]
    assert 0.01 < oov_rate(train, dev) < 0.1


def test_splits_are_80_10_10_of_the_corpus():
    splits = synthetic_splits(105, 2)
    assert {name: len(part) for name, part in splits.items()} == {
        "train": 85,
        "dev": 10,
        "test": 10,
    }
    assert splits["train"] + splits["dev"] + splits["test"] == generate(105, 2)
    with pytest.raises(ValueError, match="at least 10"):
        synthetic_splits(9, 0)


def test_generating_10000_sentences_is_fast():
    start = time.process_time()
    sentences = generate(10000, 0)
    assert len(sentences) == 10000
    assert time.process_time() - start < 5.0


def test_write_corpus_round_trips_through_the_readers(tmp_path):
    splits = synthetic_splits(40, 5)
    written = write_corpus(tmp_path / "out", splits)
    names = {
        f"{split}.{suffix}"
        for split in splits
        for suffix in ("conll", "tsv", "src", "tgt", "trees")
    }
    assert set(written) == names | {"README.txt"}
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == sorted(written)
    assert "SPLIT.conll" in written["README.txt"].read_text()
    for split, sentences in splits.items():
        conll = list(read_conll(written[f"{split}.conll"]))
        assert [s.tokens for s in conll] == [s.tokens for s in sentences]
        for column, name in (("1", "pos"), ("2", "chunk"), ("3", "ner")):
            assert [s.fields[column] for s in conll] == [s.fields[name] for s in sentences]
        assert [(s.label, s.tokens) for s in read_tsv(written[f"{split}.tsv"])] == [
            (s.label, s.tokens) for s in sentences
        ]
        pairs = list(read_parallel(written[f"{split}.src"], written[f"{split}.tgt"]))
        assert [(s.tokens, s.target) for s in pairs] == [(s.tokens, s.target) for s in sentences]
        trees = written[f"{split}.trees"].read_text(encoding="utf-8").splitlines()
        assert trees == [s.meta["tree"] for s in sentences]


def test_write_corpus_rejects_incomplete_sentences(tmp_path):
    sentence = generate(1, 0)[0]
    bare = type(sentence)(tokens=sentence.tokens, path="x.conll", line=3)
    with pytest.raises(ValueError, match="x.conll:3 of split 'dev' lacks"):
        write_corpus(tmp_path, {"dev": [bare]})
    with pytest.raises(ValueError, match="no sentences"):
        write_corpus(tmp_path, {"dev": []})


def test_relatedness_table_covers_every_pair_of_tasks():
    pairs = {tuple(sorted((a, b))) for a in SYNTHETIC_TASKS for b in SYNTHETIC_TASKS if a != b}
    assert set(TASK_RELATEDNESS) == pairs
    assert set(TASK_RELATEDNESS.values()) == {"strong", "moderate", "weak", "none"}
    assert TASK_RELATEDNESS[("chunk", "pos")] == "strong"
    assert TASK_RELATEDNESS[("label", "pos")] == "none"


def test_lexical_ner_changes_only_the_entities_and_ignores_the_syntax(corpus):
    lexical = generate(1500, 11, ner="lexical")
    assert [s.tokens for s in lexical] == [s.tokens for s in corpus]
    for a, b in zip(corpus, lexical, strict=True):
        assert (a.fields["pos"], a.fields["chunk"], a.label, a.target) == (
            b.fields["pos"], b.fields["chunk"], b.label, b.target)
    # Each form has one tag wherever it stands; every entity is one token long.
    tag_of = collections.defaultdict(set)
    for sentence in lexical:
        for token, tag in zip(sentence.tokens, sentence.fields["ner"], strict=True):
            tag_of[token].add(tag)
        assert all(length == 1 for length in (e - s for _, s, e in spans(sentence.fields["ner"])))
    assert all(len(tags) == 1 for tags in tag_of.values())
    entities = {next(iter(tags)) for tags in tag_of.values()} - {"O"}
    assert entities == {f"B-{kind}" for kind in ENTITY_TYPES}
    forms = [token for token, tags in tag_of.items() if tags != {"O"}]
    assert 0.08 < len(forms) / len(tag_of) < 0.18  # About one form in eight.
    # Unrelated to the syntax: entities fall in every word class and chunk type, and a
    # chunk's tags do not predict them.
    classes = {pos for s in lexical for pos, ner in zip(s.fields["pos"], s.fields["ner"],
                                                        strict=True) if ner != "O"}
    assert {"NN", "NNS", "VBZ", "JJ", "NNP"} <= classes
    names = sum(ner != "O" for s in corpus for ner in s.fields["ner"])
    same = sum(a != "O" and b != "O" for s, t in zip(corpus, lexical, strict=True)
               for a, b in zip(s.fields["ner"], t.fields["ner"], strict=True))
    assert same < 0.3 * names


def test_the_knob_is_checked_and_has_its_relatedness():
    from tfmtl.data import task_relatedness

    with pytest.raises(ValueError, match="unknown ner mode 'spans'"):
        generate(10, 0, ner="spans")
    assert task_relatedness() == TASK_RELATEDNESS
    lexical = task_relatedness("lexical")
    assert set(lexical) == set(TASK_RELATEDNESS)
    assert lexical[("chunk", "ner")] == lexical[("ner", "pos")] == "none"
    assert TASK_RELATEDNESS[("chunk", "ner")] == "moderate"
