"""Hand-derived cases for span_f1, following conlleval's chunk logic step by step.

conlleval (CoNLL-2000, version 2004-01-26) splits a tag at its first hyphen
into kind and type and compares each token with the previous one (the state
before a sentence, and a sentence boundary, are kind O with no type):

* END between prev and cur: kinds B|B, B|O, I|B, I|O, E|E, E|I, E|O; prev is
  '[' or ']'; or prev's kind is not O/'.' and the types differ.
* START between prev and cur: kinds B|B, I|B, O|B, O|I, E|E, E|I, O|E; cur is
  '[' or ']'; or cur's kind is not O/'.' and the types differ.
* A candidate correct chunk opens when gold and pred both START with equal
  types. It is counted when gold and pred both END with equal previous types;
  it is dropped when only one of them ENDs or the current types differ.
* accuracy counts tokens whose kind and type agree; boundaries are not tokens.

Every derivation below marks tokens t0, t1, ... and the closing boundary "|".
"""

import pytest

from tfmtl.metrics import conlleval_report, iobes_to_bio, span_f1


def _check(scores, *, gold, pred, correct, tokens, accuracy, precision, recall, f1):
    assert (scores.gold_spans, scores.pred_spans, scores.correct_spans, scores.tokens) == (
        gold, pred, correct, tokens)
    assert scores.accuracy == pytest.approx(accuracy)
    assert scores.precision == pytest.approx(precision)
    assert scores.recall == pytest.approx(recall)
    assert scores.f1 == pytest.approx(f1)


def _counts(scores):
    return {t: (s.gold, s.pred, s.correct) for t, s in scores.per_type.items()}


def test_plain_bio():
    # gold: t0 O|B START NP, t1 B|I nothing, t2 I|O END, t3 O|B START VP -> NP[0-1], VP[3].
    # pred: same but t3 starts NP -> NP[0-1], NP[3].
    # t0 both START NP -> candidate; t2 both END, prev types NP=NP -> correct NP.
    # t3 types differ (VP/NP) -> no candidate. Tags equal at t0-t2 -> 3/4.
    scores = span_f1([["B-NP", "I-NP", "O", "B-VP"]], [["B-NP", "I-NP", "O", "B-NP"]])
    _check(scores, gold=2, pred=2, correct=1, tokens=4, accuracy=75, precision=50, recall=50,
           f1=50)
    assert _counts(scores) == {"NP": (1, 2, 1), "VP": (1, 0, 0)}
    np_scores = scores.per_type["NP"]
    assert (np_scores.precision, np_scores.recall) == (50, 100)
    assert np_scores.f1 == pytest.approx(200 / 3)
    assert (scores.per_type["VP"].precision, scores.per_type["VP"].f1) == (0, 0)


def test_iob1_chunks_open_with_i():
    # gold: t0 O|I START, t1 I|I nothing, t2 I|B END+START, t3 B|O END, t4 O|I START VP,
    #   | I|O END -> NP[0-1], NP[2], VP[4] = 3.
    # pred: t0 START, t1 nothing, t2 I|I nothing, t3 END, t4 START -> NP[0-2], VP[4] = 2.
    # t0 candidate NP; t2 only gold ENDs -> dropped. t4 candidate VP; | both END -> correct.
    # Tags differ only at t2 -> 4/5. P = 1/2, R = 1/3, F = 2*50*33.3/83.3 = 40.
    scores = span_f1([["I-NP", "I-NP", "B-NP", "O", "I-VP"]],
                     [["I-NP", "I-NP", "I-NP", "O", "I-VP"]])
    _check(scores, gold=3, pred=2, correct=1, tokens=5, accuracy=80, precision=50,
           recall=100 / 3, f1=40)


def test_iobes_is_read_with_conlleval_rules():
    # conlleval has no S kind. t0 S-PER: START by the type rule ("" -> PER). t1 S-PER after
    # S-PER: no pair rule, same type -> neither END nor START: one chunk PER[0-1].
    # t2 B-LOC: type change -> END+START. t3 E-LOC after B-LOC: no rule -> same chunk.
    # | E|O END. Identical gold and pred: both chunks correct.
    tags = [["S-PER", "S-PER", "B-LOC", "E-LOC"]]
    scores = span_f1(tags, tags)
    _check(scores, gold=2, pred=2, correct=2, tokens=4, accuracy=100, precision=100,
           recall=100, f1=100)
    assert _counts(scores) == {"LOC": (1, 1, 1), "PER": (1, 1, 1)}
    # Converted to BIO first (B-PER B-PER B-LOC I-LOC), the S-PER tags are two chunks.
    bio = [iobes_to_bio(tags[0])]
    assert span_f1(bio, bio).gold_spans == 3


def test_ioe_end_tags():
    # gold: t0 O|I START, t1 I|E nothing (no rule, same type), t2 E|E END+START,
    #   | E|O END -> NP[0-1], NP[2] = 2.  pred: t0 START, t1 I|I, t2 I|E nothing -> NP[0-2].
    # t0 candidate; t2 only gold ENDs -> dropped. Tags: t1 differs -> 2/3.
    scores = span_f1([["I-NP", "E-NP", "E-NP"]], [["I-NP", "I-NP", "E-NP"]])
    _check(scores, gold=2, pred=1, correct=0, tokens=3, accuracy=200 / 3, precision=0,
           recall=0, f1=0)


def test_i_after_o_opens_a_chunk():
    # gold t1 O|I START, pred t1 O|B START, same type -> candidate; t2 I|I and B|I no END;
    # t3 both I|O END -> correct. Tags differ at t1 (I vs B) -> 3/4.
    scores = span_f1([["O", "I-PER", "I-PER", "O"]], [["O", "B-PER", "I-PER", "O"]])
    _check(scores, gold=1, pred=1, correct=1, tokens=4, accuracy=75, precision=100,
           recall=100, f1=100)


def test_type_change_inside_an_i_run():
    # gold t2 I-LOC after I-PER: type rule -> END of PER[0-1] and START of LOC[2-3].
    # pred stays PER[0-3]. t0 candidate PER; t2 only gold ENDs -> dropped. t2, t3 tags differ.
    gold = [["B-PER", "I-PER", "I-LOC", "I-LOC"]]
    scores = span_f1(gold, [["B-PER", "I-PER", "I-PER", "I-PER"]])
    _check(scores, gold=2, pred=1, correct=0, tokens=4, accuracy=50, precision=0, recall=0,
           f1=0)
    assert _counts(scores) == {"LOC": (1, 0, 0), "PER": (1, 1, 0)}
    # Identical: t2 both END (prev types PER) -> correct PER, both START LOC -> candidate,
    # | both END -> correct LOC.
    assert _counts(span_f1(gold, gold)) == {"LOC": (1, 1, 1), "PER": (1, 1, 1)}


def test_b_after_i_of_the_same_type():
    # gold t2 I|B -> END+START: NP[0-1], NP[2-3]. pred t2 I|I: one chunk NP[0-3].
    # t0 candidate; t2 only gold ENDs -> dropped. t2 tag differs -> 3/4.
    scores = span_f1([["B-NP", "I-NP", "B-NP", "I-NP"]], [["B-NP", "I-NP", "I-NP", "I-NP"]])
    _check(scores, gold=2, pred=1, correct=0, tokens=4, accuracy=75, precision=0, recall=0,
           f1=0)


def test_chunk_at_sentence_end():
    # Sentence 0: LOC[1-2] is closed by the boundary (| I|O END on both sides) -> correct.
    # Sentence 1: t0 O|B START after the boundary, | B|O END -> correct.
    tags = [["O", "B-LOC", "I-LOC"], ["B-LOC"]]
    scores = span_f1(tags, tags)
    _check(scores, gold=2, pred=2, correct=2, tokens=4, accuracy=100, precision=100,
           recall=100, f1=100)


def test_sentence_end_is_a_boundary_line():
    # span_f1 scores each sentence as if followed by a blank line. gold ".-X" after B-X:
    # no pair rule, same type -> the chunk goes on; pred t1 B|I goes on too (candidate kept).
    # At | gold's prev kind is "." -> no END, pred I|O -> END: only one ENDs -> dropped.
    scores = span_f1([["B-X", ".-X"]], [["B-X", "I-X"]])
    _check(scores, gold=1, pred=1, correct=0, tokens=2, accuracy=50, precision=0, recall=0,
           f1=0)


def test_sentence_boundary_splits_a_run():
    # gold sentence 1 starts with I-NP after the boundary: O|I START -> NP[0-1] | NP[0].
    # pred sentence 1 starts with B-NP: O|B START; both START NP -> candidate; t1 B|O and
    # I|O END -> correct. Sentence 0 is identical -> correct. Tag differs at s1 t0 -> 3/4.
    gold = [["B-NP", "I-NP"], ["I-NP", "O"]]
    scores = span_f1(gold, [["B-NP", "I-NP"], ["B-NP", "O"]])
    _check(scores, gold=2, pred=2, correct=2, tokens=4, accuracy=75, precision=100,
           recall=100, f1=100)
    # The same tags as one sentence: I|I continues -> a single chunk.
    assert span_f1([sum(gold, [])], [sum(gold, [])]).gold_spans == 1


def test_all_o_sentences():
    # No START anywhere; precision, recall and F1 default to 0; every tag agrees.
    tags = [["O", "O"], ["O"]]
    scores = span_f1(tags, tags)
    _check(scores, gold=0, pred=0, correct=0, tokens=3, accuracy=100, precision=0, recall=0,
           f1=0)
    assert dict(scores.per_type) == {}
    assert conlleval_report(scores) == (
        "processed 3 tokens with 0 phrases; found: 0 phrases; correct: 0.\n"
        "accuracy: 100.00%; precision:   0.00%; recall:   0.00%; FB1:   0.00\n"
    )


def test_no_predicted_chunks():
    # gold PER[0]; pred all O -> found 0, so precision 0 (not NaN), recall 0/1, F1 0.
    scores = span_f1([["B-PER", "O"]], [["O", "O"]])
    _check(scores, gold=1, pred=0, correct=0, tokens=2, accuracy=50, precision=0, recall=0,
           f1=0)
    assert _counts(scores) == {"PER": (1, 0, 0)}


def test_per_type_scores_and_report():
    # gold: PER[s0 0-1], LOC[s0 3], ORG[s1 0], PER[s1 2] -> PER 2, LOC 1, ORG 1.
    # pred: PER[s0 0-1], ORG[s0 3], ORG[s1 0] -> PER 1, ORG 2.
    # correct: PER[s0 0-1] (t2 both END); s0 t3 types differ; ORG[s1 0] (t1 both END).
    # tags: s0 t3 and s1 t2 differ -> 5/7 = 71.43%. P 2/3, R 2/4, F 57.14.
    # ORG: P 1/2, R 1/1, F 66.67, found 2. PER: P 1/1, R 1/2, F 66.67, found 1.
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-PER"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O", "O"]]
    scores = span_f1(gold, pred)
    _check(scores, gold=4, pred=3, correct=2, tokens=7, accuracy=500 / 7, precision=200 / 3,
           recall=50, f1=400 / 7)
    assert list(scores.per_type) == ["LOC", "ORG", "PER"]
    assert _counts(scores) == {"LOC": (1, 0, 0), "ORG": (1, 2, 1), "PER": (2, 1, 1)}
    assert conlleval_report(scores) == (
        "processed 7 tokens with 4 phrases; found: 3 phrases; correct: 2.\n"
        "accuracy:  71.43%; precision:  66.67%; recall:  50.00%; FB1:  57.14\n"
        "              LOC: precision:   0.00%; recall:   0.00%; FB1:   0.00  0\n"
        "              ORG: precision:  50.00%; recall: 100.00%; FB1:  66.67  2\n"
        "              PER: precision: 100.00%; recall:  50.00%; FB1:  66.67  1\n"
    )


def test_bracket_tags_and_the_untyped_row():
    # '[' and ']' are one-token chunks without type ("").
    # gold: t0 '[' START, t1 prev '[' END + '[' START, t2 prev '[' END -> 2 chunks.
    # pred: t0 '[' START, t1 prev '[' END, t2 ']' START, | prev ']' END -> 2 chunks.
    # t0 both START "" -> candidate; t1 both END, types "" = "" -> correct; then only gold
    # STARTs. Tags: t0 only -> 1/3.
    scores = span_f1([["[", "[", "O"]], [["[", "O", "]"]])
    _check(scores, gold=2, pred=2, correct=1, tokens=3, accuracy=100 / 3, precision=50,
           recall=50, f1=50)
    assert _counts(scores) == {"": (2, 2, 1)}
    # conlleval's type de-duplication treats "" as "no previous type", so the untyped row
    # (present in both gold and pred) is printed twice, padded to 17 characters.
    row = "                 : precision:  50.00%; recall:  50.00%; FB1:  50.00  2\n"
    assert conlleval_report(scores) == (
        "processed 3 tokens with 2 phrases; found: 2 phrases; correct: 1.\n"
        "accuracy:  33.33%; precision:  50.00%; recall:  50.00%; FB1:  50.00\n" + row + row
    )


def test_untyped_row_printed_once_when_only_gold_has_it():
    # gold "B" (kind B, no type) starts a chunk; pred O starts none -> one "" row.
    scores = span_f1([["B"]], [["O"]])
    assert conlleval_report(scores).splitlines()[2:] == [
        "                 : precision:   0.00%; recall:   0.00%; FB1:   0.00  0"
    ]


def test_type_zero_is_no_type():
    # Perl treats the type "0" as false and conlleval replaces it by "": B-0 reads as B.
    # Both START "" at t0, both END at |, and the tags agree.
    scores = span_f1([["B-0"]], [["B"]])
    _check(scores, gold=1, pred=1, correct=1, tokens=1, accuracy=100, precision=100,
           recall=100, f1=100)
    assert list(scores.per_type) == [""]


def test_type_keeps_later_hyphens():
    # Only the first hyphen splits: B-I-X is kind B, type I-X; I-I-X continues it.
    scores = span_f1([["B-I-X", "I-I-X"]], [["B-I-X", "I-I-X"]])
    assert _counts(scores) == {"I-X": (1, 1, 1)}


def test_report_rounds_ties_to_even():
    # pred: B-X 32 times -> every B|B STARTs: 32 chunks; gold: B-X then O -> 1 chunk.
    # t0 candidate; t1 gold B|O and pred B|B both END -> correct. P = 100/32 = 3.125 and
    # accuracy 1/32 = 3.125 print as 3.12 (C printf rounds the exact binary value, ties to
    # even), F = 2*3.125*100/103.125 = 6.0606.
    scores = span_f1([["B-X"] + ["O"] * 31], [["B-X"] * 32])
    assert conlleval_report(scores).splitlines()[:2] == [
        "processed 32 tokens with 1 phrases; found: 32 phrases; correct: 1.",
        "accuracy:   3.12%; precision:   3.12%; recall: 100.00%; FB1:   6.06",
    ]


def test_report_pads_type_names_by_bytes():
    # Perl's %17s counts bytes: "ÄÖ" is 4 bytes in UTF-8, so 13 spaces.
    scores = span_f1([["B-ÄÖ"]], [["B-ÄÖ"]])
    assert conlleval_report(scores).splitlines()[2] == (
        " " * 13 + "ÄÖ: precision: 100.00%; recall: 100.00%; FB1: 100.00  1"
    )


def test_empty_input_reports_only_totals():
    scores = span_f1([], [])
    assert scores.accuracy == 0
    assert conlleval_report(scores) == (
        "processed 0 tokens with 0 phrases; found: 0 phrases; correct: 0.\n"
    )


def test_bytes_tags_are_decoded():
    scores = span_f1([[b"B-X", b"I-X"]], [["B-X", b"I-X"]])
    assert scores.f1 == 100


def test_non_string_tag_is_rejected():
    with pytest.raises(TypeError, match="sentence 0, token 1"):
        span_f1([["O", 3]], [["O", "O"]])


@pytest.mark.parametrize(
    ("gold", "pred", "message"),
    [
        ([["O"], ["O", "O"]], [["O"], ["O"]], "sentence 1: gold has 2 tokens but pred has 1"),
        ([["O"], ["O"]], [["O"]], "sentence 1 is missing from pred"),
        ([], [["O"]], "sentence 0 is missing from gold"),
    ],
)
def test_mismatched_shapes_name_the_sentence(gold, pred, message):
    with pytest.raises(ValueError, match=message):
        span_f1(gold, pred)


def test_scores_are_frozen():
    scores = span_f1([["B-X"]], [["B-X"]])
    with pytest.raises(AttributeError):
        scores.f1 = 0
    with pytest.raises(TypeError):
        scores.per_type["Y"] = scores.per_type["X"]
