"""Labeled bracket F1 by EVALB's COLLINS.prm rules, on hand-counted cases."""

import pytest

from tfmtl.data import parse_tree
from tfmtl.metrics.bracket_f1 import bracket_counts, bracket_scores, brackets, tags

GOLD = "(S (NP (DT The) (NN dog)) (VP (VBD ran) (ADVP (RB away))) (. .))"


def test_brackets_skip_tags_and_punctuation():
    tree = parse_tree(GOLD)
    assert tags(tree) == ["DT", "NN", "VBD", "RB", "."]
    counted = [True, True, True, True, False]
    assert dict(brackets(tree, counted)) == {("S", 0, 4): 1, ("NP", 0, 2): 1, ("VP", 2, 4): 1,
                                             ("ADVP", 3, 4): 1}


def test_counts_by_hand():
    gold = parse_tree(GOLD)
    # NP wrong (over "dog ran"), VP wrong, S right, PRT counts as ADVP; the final "." sits
    # outside S in the prediction, which punctuation deletion forgives.
    predicted = parse_tree("(ROOT (S (XX The) (NP (XX dog) (XX ran)) (PRT (XX away))) (XX .))")
    assert bracket_counts(gold, predicted) == (2, 4, 4)  # S and ADVP of ROOT, S, NP, PRT.
    scores = bracket_scores([gold], [predicted])
    assert (scores.precision, scores.recall) == (50.0, 50.0)
    assert scores.exact == 0
    # Punctuation-only brackets vanish; a bracket over a word and punctuation keeps the word.
    gold2 = parse_tree("(S (NP (NN it)) (VP (VBD rose) (, ,)) (PRN (, ,)) (. .))")
    pred2 = parse_tree("(S (NP (XX it)) (VP (XX rose) (XX ,)) (XX ,) (XX .))")
    assert bracket_counts(gold2, pred2) == (3, 3, 3)
    assert bracket_scores([gold, gold2], [predicted, pred2]).f1 == pytest.approx(
        100 * 5 / 7)


def test_duplicate_brackets_match_as_a_multiset():
    gold = parse_tree("(S (NP (NP (NN it))) (VP (VBD rose)))")
    once = parse_tree("(S (NP (XX it)) (VP (XX rose)))")
    assert bracket_counts(gold, once) == (3, 4, 3)


def test_a_word_count_mismatch_is_an_error():
    with pytest.raises(ValueError, match="has 2 words, expected 5"):
        bracket_counts(parse_tree(GOLD), parse_tree("(S (XX a) (XX b))"))
    with pytest.raises(ValueError, match="1 predicted trees for 2 gold trees"):
        bracket_scores([parse_tree(GOLD)] * 2, [parse_tree(GOLD)])
