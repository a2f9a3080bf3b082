import re

import pytest

from tfmtl.data import DataError, Tree, parse_tree

TEXT = "(S (NP (DT the) (NN dog)) (VP (VBD saw) (NP (PRP it))) (. .))"


def test_round_trip_and_leaves():
    tree = parse_tree(TEXT)
    assert str(tree) == TEXT
    assert tree.label == "S" and not tree.is_preterminal
    assert tree.leaves() == ["the", "dog", "saw", "it", "."]
    assert tree.tagged_words()[:2] == [("DT", "the"), ("NN", "dog")]
    assert tree == parse_tree("  (S(NP(DT the)(NN dog))(VP (VBD saw)(NP (PRP it)))(. .))  ")


def test_subtrees_give_first_word_offsets():
    spans = [(node.label, start) for node, start in parse_tree(TEXT).subtrees()]
    assert spans == [
        ("S", 0),
        ("NP", 0),
        ("DT", 0),
        ("NN", 1),
        ("VP", 2),
        ("VBD", 2),
        ("NP", 3),
        ("PRP", 3),
        (".", 4),
    ]


def test_built_trees_render_like_parsed_ones():
    tree = Tree("NP", [Tree("DT", ["a"]), Tree("NN", ["cat"])])
    assert str(tree) == "(NP (DT a) (NN cat))"
    assert parse_tree(str(tree)) == tree


def test_ptb_outer_brackets_have_an_empty_label():
    tree = parse_tree("( (S (NN x)))")
    assert tree.label == "" and tree.children[0].label == "S"


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "empty tree"),
        ("(S (NN x)", "not closed"),
        ("(S (NN x)))", "unbalanced ')'"),
        ("(S (NN x)) (S (NN y))", "after the end"),
        ("word", "outside any bracket"),
        ("(NN x y)", "only child"),
        ("(NN x (DT y))", "a word and a subtree"),
        ("(S)", "no children"),
    ],
)
def test_malformed_trees(text, match):
    with pytest.raises(DataError, match=re.escape(match)) as info:
        parse_tree(text, path="t.trees", line=4)
    assert str(info.value).startswith("t.trees:4: ")
