"""Penn Treebank files: reading, cleaning, linearizing and reading predictions back."""

import pytest

from tfmtl.data import parse_tree
from tfmtl.data.ptb import clean_tree, delinearize, linearize, read_ptb, strip_label
from tfmtl.metrics.bracket_f1 import bracket_scores

MRG = """
( (S
    (NP-SBJ-1 (NNP Pierre) (NNP Vinken) )
    (VP (MD will)
      (VP (VB join)
        (NP (-NONE- *-1) )
        (NP=2 (DT the) (NN board) )))
    (. .) ))
( (S (NP-SBJ (PRP It) ) (VP (VBD rose) ) (. .) ))
"""


def test_reads_multiline_trees_with_their_lines(make_file):
    path = make_file("wsj_0001.mrg", MRG)
    trees = list(read_ptb(path))
    assert [line for _, line in trees] == [2, 9]
    first = trees[0][0]
    assert first.label == "S"  # The unlabeled outer bracket is gone.
    assert first.leaves() == ["Pierre", "Vinken", "will", "join", "*-1", "the", "board", "."]


def test_cleaning_strips_empty_elements_and_function_tags():
    tree = clean_tree(parse_tree(
        "(S (NP-SBJ-1 (NNP Pierre)) (VP (VB join) (NP (-NONE- *-1)) (NP=2 (DT the) (NN board)))"
        " (-LRB- -LRB-) (. .))"))
    assert str(tree) == ("(S (NP (NNP Pierre)) (VP (VB join) (NP (DT the) (NN board))) "
                         "(-LRB- -LRB-) (. .))")
    assert strip_label("PP-LOC-CLR") == "PP" and strip_label("-NONE-") == "-NONE-"
    assert clean_tree(parse_tree("(NP (-NONE- *))")) is None


def test_linearize_and_back():
    tree = parse_tree("(S (NP (NNP Pierre) (NNP Vinken)) (VP (MD will) (VP (VB join))) (. .))")
    tokens = linearize(tree)
    assert " ".join(tokens) == "(S (NP XX XX ) (VP XX (VP XX ) ) XX )"
    back = delinearize(tokens, tree.leaves())
    assert not back.malformed
    assert str(back.tree) == ("(S (NP (XX Pierre) (XX Vinken)) (VP (XX will) (VP (XX join))) "
                              "(XX .))")
    # Bracket F1 of the read-back tree is 100 (tags are not brackets).
    assert bracket_scores([tree], [back.tree]).f1 == 100.0


@pytest.mark.parametrize("prediction,malformed,want", [
    # Too few closing brackets: closed at the end.
    ("(S (NP XX XX ) (VP XX", True, "(S (NP (XX a) (XX b)) (VP (XX c)))"),
    # A stray ")" skipped, an extra XX dropped, the words after the first tree under a
    # common root.
    ("(S XX ) ) XX XX XX", True, "(S (S (XX a)) (XX b) (XX c))"),
    # Missing XX: the words left go under the root.
    ("(S (NP XX ) )", True, "(S (NP (XX a)) (XX b) (XX c))"),
    # Two top-level constituents, an empty one, an unknown token: one root "S".
    ("(NP XX ) (VP XX XX ) (PP ) <unk>", True, "(S (NP (XX a)) (VP (XX b) (XX c)))"),
    ("(S (NP XX ) (VP XX XX ) )", False, "(S (NP (XX a)) (VP (XX b) (XX c)))"),
])
def test_malformed_predictions_are_repaired_and_flagged(prediction, malformed, want):
    back = delinearize(prediction.split(), ["a", "b", "c"])
    assert back.malformed is malformed
    assert str(back.tree) == want


def test_the_ptb_sample_round_trips(shared_data):
    root = shared_data("ptb_sample_nltk") / "combined"
    trees = [clean_tree(t) for name in ("wsj_0001.mrg", "wsj_0002.mrg", "wsj_0199.mrg")
             for t, _ in read_ptb(root / name)]
    assert len(trees) > 5 and all(t is not None for t in trees)
    for tree in trees:
        assert "-NONE-" not in str(tree) and "-SBJ" not in str(tree)
        back = delinearize(linearize(tree), tree.leaves())
        assert not back.malformed
    assert bracket_scores(trees, [delinearize(linearize(t), t.leaves()).tree
                                  for t in trees]).f1 == 100.0
