"""A seeded toy language: tokens, POS, chunks, NER, polarity, trees and translations at once.

The generator is tfmtl's embedded default corpus. Every sentence comes from a small phrase
structure grammar over a fixed lexicon, so each annotation is exact (no noise) and the tasks are
related in known ways. The lexicon (word forms, their translations and frequencies) is built
from a fixed seed and is the same for every corpus; the corpus seed only picks sentences.

Lexicon. Content stems are pronounceable made-up syllables (``blick``, ``gronave``); word forms
add English-like suffixes, so morphology tells word classes apart and a character model can tag
forms it never saw in training (rare stems follow a Zipf law, so dev and test hold unseen
forms):

* nouns: stem, plural ``-s``/``-es``; agent nouns (verb stem ``-er``) and ``-ness`` nouns;
* verbs: bare (``VBP``), ``-s``/``-es`` (``VBZ``), ``-ed``/``-d`` (``VBD``), ``-ing`` (``VBG``);
  intransitive, transitive, or speech verbs taking a ``that`` clause;
* adjectives end in ``-ous``/``-ful``/``-al`` and give adverbs in ``-ly``; a few flat words are
  both adjective and adverb;
* proper names: first names, surnames (``-son``, ``-man``, ...), cities (``-ton``, ``-ia``,
  ...), compass words (``north dornton``) and organisation suffixes (``corp``, ``labs``, ...);
* closed classes: determiners, pronouns, numbers (words and digits), prepositions,
  complementizers, coordinating conjunctions, ``not``/``never``/``very``, punctuation.

The language has no letter case. Homographs make tagging need context: noun/verb stems
(``walks`` NNS or VBZ), adjective/adverb words (JJ or RB), ``that`` (DT or CS), ``before``,
``after``, ``since``, ``until`` (IN before a noun phrase, CS before a clause), and names that are
also common nouns or also cities. Each is decided by the sentence around it, so a tagger can be
exact.

Grammar (``?`` optional, ``*`` repeated; depth of embedded clauses at most 2)::

    ROOT  -> S .  |  S , CC S .
    S     -> NP VP
    NP    -> DT JJ* NN(S) | CD NN(S) | PRP | NNP+ | NP PP(of) | NP and NP
    VP    -> (never | RB)? V NP? PP* ADVP? SBAR?        simple tense, NP iff transitive
           | be not? VBG NP? PP* ADVP? SBAR?           progressive
           | be not? ADJP                               copula
           | V SBAR(that)                               speech verbs
    PP    -> IN NP          ('of' attaches to nouns, all other prepositions to verbs)
    SBAR  -> CS S
    ADJP  -> very? JJ;  ADVP -> very? RB

Subjects agree with verbs (``the dog walks``, ``the dogs walk``, ``he is``, ``they were``).
Locations only follow the locative prepositions (``in``, ``near``, ``from``, ``to``), which never
take people, so a name that is both a first name and a city is typed by its context;
organisations end in their suffix word.

Annotations (all derived from the tree):

* ``fields["pos"]``: PTB-like tags DT PRP NN NNS NNP CD JJ RB VBZ VBP VBD VBG IN CS CC , .
  (``CS``: complementizer / subordinating conjunction, kept apart from the prepositions ``IN``);
* ``fields["chunk"]``: CoNLL-2000 base chunks in BIO (NP, VP, PP, ADJP, ADVP, SBAR; O for CC and
  punctuation). A VP chunk is the run of words that opens a VP (``is not walking``);
* ``fields["ner"]``: PER, LOC, ORG in BIO (IOB2);
* ``label``: ``"pos"``/``"neg"`` polarity: the sum of the polar words' signs (some adjectives,
  their adverbs and some verbs), flipped when the sentence holds an odd number of negations
  (``not``, ``never``). Sentences whose sum is 0 are not generated;
* ``meta["tree"]``: the PTB-style bracketed tree;
* ``target``: the translation into the second toy language, which has its own stems (a fixed
  mapping), suffixes for number (``-ri`` on nouns and agreeing adjectives), tense and aspect
  (``-ra`` progressive, ``-ta`` past, ``-ni`` present) and subject agreement (``-m`` plural) on
  the verb, and a different word order: verb-final clauses (subject, objects, postpositional
  phrases, embedded clauses, adverbs, negation, verb), adjectives, determiners and numbers after
  the noun, postpositions, possessor first (``the dog of the cat`` -> ``kat na lo dog na``), the
  complementizer at the end of its clause. Names and digits are copied.

Known relatedness between the tasks, what a task-grouping method should find (also as
:data:`TASK_RELATEDNESS`; task names: ``pos``, ``chunk``, ``ner``, ``label``, ``translation``):

===========  ===========  ========  ===========================================================
task         task         strength  why
===========  ===========  ========  ===========================================================
pos          chunk        strong    chunks are spans over POS patterns (DT JJ* NN = NP)
pos          ner          moderate  entities are exactly the NNP runs; their type needs context
chunk        ner          moderate  every entity is one whole NP chunk
pos          translation  moderate  target suffixes and agreement follow the word classes
chunk        translation  moderate  the reordering moves whole phrases
ner          translation  weak      names are copied, whatever their type
label        translation  weak      both are lexical: polar words and negations are translated
label        pos          none      polarity is lexical, independent of the syntax
label        chunk        none      (as above)
label        ner          none      names carry no polarity
===========  ===========  ========  ===========================================================

The relatedness knob (``ner="lexical"``, :data:`NER_MODES`): the same sentences, but the NER
column no longer follows the syntax: each word form is, by a fixed hash of the form alone, an
entity of one type (one token long, ``B-TYPE``) or ``O``, about one form in eight, whatever
its word class, chunk or context. NER is then a lexical lookup unrelated to POS and chunks
(:func:`task_relatedness`): a grouping method should keep it apart from them where the
default ``ner="chunks"`` puts it with them.
"""

from __future__ import annotations

import bisect
import functools
import os
import random
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from tfmtl.data.sentence import Sentence
from tfmtl.data.trees import Tree
from tfmtl.files import atomic_write_text

#: The ``path`` of generated sentences.
SYNTHETIC_PATH = "<synthetic>"
#: The tasks of the synthetic corpus: token fields, the sentence label and the translation.
SYNTHETIC_TASKS = ("pos", "chunk", "ner", "label", "translation")
#: How strongly each pair of synthetic tasks shares structure (the module docstring says why):
#: "strong", "moderate", "weak" or "none". Keys are sorted pairs of task names.
TASK_RELATEDNESS: dict[tuple[str, str], str] = {
    ("chunk", "pos"): "strong",
    ("ner", "pos"): "moderate",
    ("chunk", "ner"): "moderate",
    ("pos", "translation"): "moderate",
    ("chunk", "translation"): "moderate",
    ("ner", "translation"): "weak",
    ("label", "translation"): "weak",
    ("label", "pos"): "none",
    ("chunk", "label"): "none",
    ("label", "ner"): "none",
}

#: How the NER column is made: "chunks" (the default: typed names, each one whole NP chunk)
#: or "lexical" (a fixed function of the word form, unrelated to the syntax).
NER_MODES = ("chunks", "lexical")
#: The entity types of the lexical NER column, drawn by the hash of the form.
_LEXICAL_TYPES = ("PER", "LOC", "ORG")
#: One form in this many is a lexical entity.
_LEXICAL_RATE = 8


def task_relatedness(ner: str = "chunks") -> dict[tuple[str, str], str]:
    """:data:`TASK_RELATEDNESS` for a NER mode: with ``ner="lexical"`` the NER column shares
    no structure with POS or chunks (and its entities are as lexical as a translation)."""
    if ner not in NER_MODES:
        raise ValueError(f"unknown ner mode {ner!r}; use one of {', '.join(NER_MODES)}")
    table = dict(TASK_RELATEDNESS)
    if ner == "lexical":
        table.update({("ner", "pos"): "none", ("chunk", "ner"): "none",
                      ("ner", "translation"): "weak"})
    return table


def lexical_entity(form: str) -> str:
    """The entity tag of a form under ``ner="lexical"``: ``"B-TYPE"`` for one form in
    :data:`_LEXICAL_RATE` (by the CRC-32 of the form: the same on every platform and run),
    else ``"O"``."""
    code = zlib.crc32(form.encode("utf-8"))
    if code % _LEXICAL_RATE:
        return "O"
    return "B-" + _LEXICAL_TYPES[(code // _LEXICAL_RATE) % len(_LEXICAL_TYPES)]


_LEXICON_SEED = 1511_06114
_MAX_DEPTH = 2
_MAX_TOKENS = 40
_NOUN_STEMS = 500
_VERB_FRAMES = {"intr": 120, "tr": 160, "say": 12}
_ADJECTIVE_STEMS = 200
_ZIPF_EXPONENT = 1.3

_ONSETS = (
    "b bl br d dr f fl fr g gl gr k kl kr l m n p pl pr r s sk sl sm sn sp st sw t tr v w z"
).split()
_VOWELS = "a e i o u a e i o u ai au ee oo ou".split()
_CODAS = (
    "b ck d ff g k l ll m mp n nd nk nt p rn rt sh sk st t x zz be de ke le me ne pe re ve".split()
)
_TARGET_CONSONANTS = "b d g k l m n p r s t v z"
_TARGET_VOWELS = "a e i o u"

_ADJECTIVE_SUFFIXES = ("ous", "ful", "al")
_FIRST_NAME_ENDINGS = ("a", "o", "i", "y", "ella", "an")
_SURNAME_ENDINGS = ("son", "man", "berg", "ley", "ford", "ski")
_CITY_ENDINGS = ("ton", "ia", "burg", "ville", "port", "holm")
_COMPASS = ("north", "south", "east", "west", "upper")
_ORG_SUFFIXES = ("corp", "group", "labs", "union", "bank")

_DETERMINERS = {  # word: (number it allows, None for both; weight; translation)
    "the": (None, 45, "na"),
    "a": ("sg", 20, "u"),
    "every": ("sg", 5, "kadi"),
    "this": ("sg", 6, "ti"),
    "that": ("sg", 6, "to"),
    "these": ("pl", 5, "tiri"),
    "those": ("pl", 5, "tori"),
    "some": ("pl", 8, "ke"),
}
_NUMBERS = {
    "one": "un",
    "two": "du",
    "three": "tri",
    "four": "kvar",
    "five": "pen",
    "six": "ses",
    "seven": "sep",
    "eight": "ok",
    "nine": "nev",
    "ten": "des",
}
_PRONOUNS = (  # subject, object, plural, translation
    ("he", "him", False, "on"),
    ("she", "her", False, "ona"),
    ("it", "it", False, "ono"),
    ("they", "them", True, "oni"),
    ("we", "us", True, "mi"),
)
_PREPOSITIONS = {
    "of": "lo",
    "in": "da",
    "near": "pas",
    "from": "ot",
    "to": "ku",
    "with": "kon",
    "for": "pro",
    "about": "om",
    "before": "pre",
    "after": "po",
    "since": "od",
    "until": "dok",
}
_LOCATIVE = ("in", "near", "from", "to")
_OTHER_PREPOSITIONS = ("with", "for", "about")
_TEMPORAL = ("before", "after", "since", "until")
_SUBORDINATORS = {**{word: _PREPOSITIONS[word] for word in _TEMPORAL}, "because": "zan"}
_COMPLEMENTIZER = ("that", "ki")
_CONJUNCTIONS = {"and": "e", "but": "ma", "or": "o"}
_COPULA = {
    ("sg", "present"): "is",
    ("pl", "present"): "are",
    ("sg", "past"): "was",
    ("pl", "past"): "were",
}
_COPULA_TARGET = "sa"
_NEGATIONS = {"not": "ne", "never": "nik"}
_VERY = ("very", "mo")
_FUNCTION_WORDS = frozenset(
    [
        *_DETERMINERS,
        *_NUMBERS,
        *(word for row in _PRONOUNS for word in row[:2]),
        *_PREPOSITIONS,
        *_SUBORDINATORS,
        _COMPLEMENTIZER[0],
        *_CONJUNCTIONS,
        *_COPULA.values(),
        *_NEGATIONS,
        _VERY[0],
        *_COMPASS,
        *_ORG_SUFFIXES,
    ]
)
_TARGET_FUNCTION_WORDS = frozenset(
    [
        *(row[2] for row in _DETERMINERS.values()),
        *_NUMBERS.values(),
        *(row[3] for row in _PRONOUNS),
        *_PREPOSITIONS.values(),
        *_SUBORDINATORS.values(),
        _COMPLEMENTIZER[1],
        *_CONJUNCTIONS.values(),
        *_NEGATIONS.values(),
        _VERY[1],
    ]
)


def _plural(stem: str) -> str:
    return stem + ("es" if stem.endswith(("s", "x", "zz", "sh")) else "s")


def _past(stem: str) -> str:
    return stem + ("d" if stem.endswith("e") else "ed")


def _gerund(stem: str) -> str:
    return (stem[:-1] if stem.endswith("e") else stem) + "ing"


class _Noun:
    __slots__ = ("singular", "plural", "target")

    def __init__(self, singular: str, target: str):
        self.singular = singular
        self.plural = _plural(singular)
        self.target = target


class _Verb:
    __slots__ = ("base", "third", "past", "gerund", "frame", "polarity", "target")

    def __init__(self, stem: str, frame: str, polarity: int, target: str):
        self.base = stem
        self.third = _plural(stem)
        self.past = _past(stem)
        self.gerund = _gerund(stem)
        self.frame = frame
        self.polarity = polarity
        self.target = target


class _Adjective:
    __slots__ = ("form", "adverb", "polarity", "target")

    def __init__(self, form: str, adverb: str, polarity: int, target: str):
        self.form = form
        self.adverb = adverb
        self.polarity = polarity
        self.target = target


class _Weighted:
    """Items with Zipf-like weights (rank r gets 1 / (r + 2.5)); picks with one random draw."""

    __slots__ = ("items", "cumulative", "total")

    def __init__(self, items: Sequence, exponent: float = 1.0, weights: Sequence[float] = ()):
        self.items = list(items)
        if not weights:
            weights = [_zipf_weight(rank, exponent) for rank in range(len(self.items))]
        self.cumulative = []
        total = 0.0
        for weight in weights:
            total += weight
            self.cumulative.append(total)
        self.total = total

    def pick(self, rng: random.Random):
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.total)]


class _EntityNP(Tree):
    """A noun phrase that is a named entity; ``entity`` is its type (PER, LOC or ORG)."""

    __slots__ = ("entity",)

    def __init__(self, entity: str, words: Sequence[str]):
        super().__init__("NP", [Tree("NNP", [word]) for word in words])
        self.entity = entity


class _Lexicon:
    """The fixed word lists of the toy language and their translations."""

    def __init__(self):
        rng = random.Random(_LEXICON_SEED)
        self._used: set[str] = set(_FUNCTION_WORDS)
        self._target_used: set[str] = set(_TARGET_FUNCTION_WORDS)
        self._rng = rng

        frames = [frame for frame, count in _VERB_FRAMES.items() for _ in range(count)]
        verbs = [
            _Verb(
                self._stem(lambda s: [s, _plural(s), _past(s), _gerund(s)]),
                frame,
                0,
                self._target_stem(3),
            )
            for frame in frames
        ]
        rng.shuffle(verbs)
        by_frame = {
            frame: [verb for verb in verbs if verb.frame == frame] for frame in _VERB_FRAMES
        }
        for frame in ("intr", "tr"):
            _assign_polarity(by_frame[frame], (True, True, False, False, False))
        self.verbs = {frame: _Weighted(items, _ZIPF_EXPONENT) for frame, items in by_frame.items()}

        adjectives = []
        for index in range(_ADJECTIVE_STEMS):
            suffix = _ADJECTIVE_SUFFIXES[index % 3]
            form = self._stem(lambda s, suffix=suffix: [s + suffix, s + suffix + "ly"]) + suffix
            adjectives.append(_Adjective(form, form + "ly", 0, self._target_stem(2)))
        flat = []
        for _ in range(8):
            form = self._stem(lambda s: [s])
            flat.append(_Adjective(form, form, 0, self._target_stem(2)))
        self.flat_adverbs = {adjective.form for adjective in flat}
        adjectives += flat
        rng.shuffle(adjectives)
        _assign_polarity(adjectives, (True, True, False, False))
        self.adjectives = _Weighted(adjectives, _ZIPF_EXPONENT)

        nouns = [
            _Noun(self._stem(lambda s: [s, _plural(s)]), self._target_stem(2))
            for _ in range(_NOUN_STEMS)
        ]
        homograph_verbs = [verb for verb in verbs if verb.frame != "say"][:30]
        for verb in homograph_verbs:
            nouns.append(_Noun(verb.base, self._target_stem(2)))
        derived = [
            verb.base + ("r" if verb.base.endswith("e") else "er")
            for verb in verbs
            if verb.frame != "say"
        ][30:60]
        derived += [
            adjective.form + "ness"
            for adjective in adjectives[:25]
            if adjective.form not in self.flat_adverbs
        ]
        for noun in derived:
            if noun not in self._used and _plural(noun) not in self._used:
                self._used.update([noun, _plural(noun)])
                nouns.append(_Noun(noun, self._target_stem(3)))
        rng.shuffle(nouns)
        self.nouns = _Weighted(nouns, _ZIPF_EXPONENT)

        first_names = [self._name(_FIRST_NAME_ENDINGS) for _ in range(45)]
        surnames = [self._name(_SURNAME_ENDINGS) for _ in range(60)]
        cities = [self._name(_CITY_ENDINGS) for _ in range(45)]
        noun_names = [noun.singular for noun in nouns[20:30]]
        first_names[5:10] = noun_names[:5]
        cities[5:10] = noun_names[5:10]
        cities[15:20] = first_names[15:20]
        self.first_names = _Weighted(first_names)
        self.surnames = _Weighted(surnames)
        self.cities = _Weighted(cities)
        self.org_words = _Weighted(surnames[::2] + cities[::3])
        self.org_suffixes = _Weighted(_ORG_SUFFIXES)

        self.determiners = {
            number: _Weighted(
                [word for word, row in _DETERMINERS.items() if row[0] in (None, number)],
                weights=[row[1] for row in _DETERMINERS.values() if row[0] in (None, number)],
            )
            for number in ("sg", "pl")
        }
        self.numbers = _Weighted(list(_NUMBERS)[1:])
        self.pronouns = _Weighted(_PRONOUNS, weights=(5, 4, 3, 4, 2))

        self.polarity: dict[tuple[str, str], int] = {}
        for verb in verbs:
            if verb.polarity:
                for tag, form in (
                    ("VBP", verb.base),
                    ("VBZ", verb.third),
                    ("VBD", verb.past),
                    ("VBG", verb.gerund),
                ):
                    self.polarity[(form, tag)] = verb.polarity
        for adjective in adjectives:
            if adjective.polarity:
                self.polarity[(adjective.form, "JJ")] = adjective.polarity
                self.polarity[(adjective.adverb, "RB")] = adjective.polarity
        del self._rng, self._used, self._target_used

    def _raw_stem(self) -> str:
        rng = self._rng
        stem = rng.choice(_ONSETS) + rng.choice(_VOWELS)
        if rng.random() < 0.35:
            stem += rng.choice(_ONSETS) + rng.choice(_VOWELS)
        return stem + rng.choice(_CODAS)

    def _stem(self, forms) -> str:
        while True:
            stem = self._raw_stem()
            words = forms(stem)
            if len(set(words)) == len(words) and not any(word in self._used for word in words):
                self._used.update(words)
                return stem

    def _name(self, endings: Sequence[str]) -> str:
        while True:
            raw = self._raw_stem()
            stem = raw[:-1] if raw.endswith("e") else raw
            name = stem + self._rng.choice(endings)
            if name not in self._used:
                self._used.add(name)
                return name

    def _target_stem(self, syllables: int) -> str:
        rng = self._rng
        while True:
            stem = "".join(
                rng.choice(_TARGET_CONSONANTS.split()) + rng.choice(_TARGET_VOWELS.split())
                for _ in range(syllables)
            )
            forms = [stem, stem + "ri", stem + "ve", stem + "rive"]
            if not any(form in self._target_used for form in forms):
                self._target_used.update(forms)
                return stem


def _assign_polarity(words: Sequence[_Verb | _Adjective], polar: Sequence[bool]) -> None:
    """Marks words polar by frequency rank (``polar`` repeats), balancing the signs' weights.

    Each polar word takes the sign whose words are so far less frequent in total (under the
    Zipf weights the words are drawn with), so positive and negative words are about equally
    common and the polarity labels come out balanced.
    """
    totals = {1: 0.0, -1: 0.0}
    for rank, word in enumerate(words):
        if polar[rank % len(polar)]:
            sign = 1 if totals[1] <= totals[-1] else -1
            word.polarity = sign
            totals[sign] += _zipf_weight(rank, _ZIPF_EXPONENT)
        else:
            word.polarity = 0


def _zipf_weight(rank: int, exponent: float) -> float:
    return 1.0 / (rank + 2.5) ** exponent


@functools.cache
def _lexicon() -> _Lexicon:
    return _Lexicon()


class _Generator:
    """Draws sentences from the grammar; each method returns a tree and its translation."""

    def __init__(self, rng: random.Random, lexicon: _Lexicon):
        self.rng = rng
        self.lex = lexicon

    def sentence(self) -> tuple[Tree, list[str]]:
        rng = self.rng
        if rng.random() < 0.15:
            first, first_target = self.clause(0)
            second, second_target = self.clause(_MAX_DEPTH)
            word = rng.choice(("and", "and", "but", "or"))
            tree = Tree(
                "S",
                [first, Tree(",", [","]), Tree("CC", [word]), second, Tree(".", ["."])],
            )
            return tree, [*first_target, ",", _CONJUNCTIONS[word], *second_target, "."]
        clause, target = self.clause(0)
        clause.children.append(Tree(".", ["."]))
        target.append(".")
        return clause, target

    def clause(self, depth: int) -> tuple[Tree, list[str]]:
        subject, subject_target, plural = self.subject(depth)
        verb_phrase, verb_target = self.verb_phrase(depth, plural)
        return Tree("S", [subject, verb_phrase]), subject_target + verb_target

    def subject(self, depth: int) -> tuple[Tree, list[str], bool]:
        draw = self.rng.random()
        if draw < 0.55:
            return self.common_noun_phrase(depth)
        if draw < 0.72:
            return self.pronoun(subject=True)
        if draw < 0.85:
            return (*self.person(), False)
        if draw < 0.92:
            return (*self.organization(), False)
        return self.coordination(depth)

    def object(self, depth: int) -> tuple[Tree, list[str]]:
        draw = self.rng.random()
        if draw < 0.60:
            return self.common_noun_phrase(depth)[:2]
        if draw < 0.72:
            return self.pronoun(subject=False)[:2]
        if draw < 0.84:
            return self.person()
        if draw < 0.92:
            return self.organization()
        return self.coordination(depth)[:2]

    def coordination(self, depth: int) -> tuple[Tree, list[str], bool]:
        parts = []
        targets: list[str] = []
        for _ in range(2):
            draw = self.rng.random()
            if draw < 0.7:
                node, target, _ = self.common_noun_phrase(_MAX_DEPTH)
            elif draw < 0.9:
                node, target = self.person()
            else:
                node, target = self.organization()
            parts.append(node)
            targets = [*targets, "e", *target] if targets else target
        return Tree("NP", [parts[0], Tree("CC", ["and"]), parts[1]]), targets, True

    def common_noun_phrase(self, depth: int) -> tuple[Tree, list[str], bool]:
        rng = self.rng
        lex = self.lex
        noun = lex.nouns.pick(rng)
        if rng.random() < 0.1:
            if rng.random() < 0.15:
                leaves = [Tree("CD", ["one"]), Tree("NN", [noun.singular])]
                node, target, plural = Tree("NP", leaves), [noun.target, "un"], False
            else:
                number = lex.numbers.pick(rng)
                if rng.random() < 0.35:
                    number = str(rng.randrange(2, 100 if rng.random() < 0.6 else 10000))
                leaves = [Tree("CD", [number]), Tree("NNS", [noun.plural])]
                number_target = _NUMBERS.get(number, number)
                node, target, plural = Tree("NP", leaves), [noun.target + "ri", number_target], True
        else:
            plural = rng.random() < 0.35
            determiner = lex.determiners["pl" if plural else "sg"].pick(rng)
            leaves = [Tree("DT", [determiner])]
            target = [noun.target + "ri" if plural else noun.target]
            draw = rng.random()
            count = 0 if draw < 0.6 else 1 if draw < 0.9 else 2
            ending = "ri" if plural else ""
            previous = None
            for _ in range(count):
                adjective = lex.adjectives.pick(rng)
                if adjective is previous:
                    continue
                previous = adjective
                leaves.append(Tree("JJ", [adjective.form]))
                target.append(adjective.target + ending)
            leaves.append(
                Tree("NNS" if plural else "NN", [noun.plural if plural else noun.singular])
            )
            target.append(_DETERMINERS[determiner][2])
            node = Tree("NP", leaves)
        if depth < _MAX_DEPTH and rng.random() < 0.12:
            draw = rng.random()
            if draw < 0.65:
                owner, owner_target, _ = self.common_noun_phrase(_MAX_DEPTH)
            elif draw < 0.85:
                owner, owner_target = self.person()
            else:
                owner, owner_target = self.organization()
            node = Tree("NP", [node, Tree("PP", [Tree("IN", ["of"]), owner])])
            target = [*owner_target, "lo", *target]
        return node, target, plural

    def pronoun(self, subject: bool) -> tuple[Tree, list[str], bool]:
        subject_form, object_form, plural, target = self.lex.pronouns.pick(self.rng)
        word = subject_form if subject else object_form
        return Tree("NP", [Tree("PRP", [word])]), [target], plural

    def person(self) -> tuple[Tree, list[str]]:
        rng = self.rng
        draw = rng.random()
        if draw < 0.55:
            words = [self.lex.first_names.pick(rng), self.lex.surnames.pick(rng)]
        elif draw < 0.8:
            words = [self.lex.first_names.pick(rng)]
        else:
            words = [self.lex.surnames.pick(rng)]
        return _EntityNP("PER", words), words

    def location(self) -> tuple[Tree, list[str]]:
        words = [self.lex.cities.pick(self.rng)]
        if self.rng.random() < 0.2:
            words.insert(0, self.rng.choice(_COMPASS))
        return _EntityNP("LOC", words), words

    def organization(self) -> tuple[Tree, list[str]]:
        rng = self.rng
        words = [self.lex.org_words.pick(rng)]
        if rng.random() < 0.3:
            words.append(self.lex.org_words.pick(rng))
        words.append(self.lex.org_suffixes.pick(rng))
        return _EntityNP("ORG", words), words

    def prepositional_phrase(self, depth: int) -> tuple[Tree, list[str]]:
        rng = self.rng
        draw = rng.random()
        if draw < 0.45:
            preposition = rng.choice(_LOCATIVE)
            draw = rng.random()
            if draw < 0.5:
                noun_phrase, target, _ = self.common_noun_phrase(depth)
            elif draw < 0.9:
                noun_phrase, target = self.location()
            else:
                noun_phrase, target = self.organization()
        else:
            preposition = rng.choice(_OTHER_PREPOSITIONS if draw < 0.8 else _TEMPORAL)
            draw = rng.random()
            if draw < 0.6:
                noun_phrase, target, _ = self.common_noun_phrase(depth)
            elif draw < 0.75:
                noun_phrase, target = self.person()
            elif draw < 0.85:
                noun_phrase, target = self.organization()
            else:
                noun_phrase, target, _ = self.pronoun(subject=False)
        node = Tree("PP", [Tree("IN", [preposition]), noun_phrase])
        return node, [*target, _PREPOSITIONS[preposition]]

    def adverb_phrase(self) -> tuple[Tree, list[str]]:
        rng = self.rng
        adjective = self.lex.adjectives.pick(rng)
        leaves = [Tree("RB", [adjective.adverb])]
        target = [adjective.target + "ve"]
        if rng.random() < 0.2:
            leaves.insert(0, Tree("RB", [_VERY[0]]))
            target.insert(0, _VERY[1])
        return Tree("ADVP", leaves), target

    def verb_phrase(self, depth: int, plural: bool) -> tuple[Tree, list[str]]:
        rng = self.rng
        lex = self.lex
        past = rng.random() < 0.5
        tense_target = "ta" if past else "ni"
        agreement = "m" if plural else ""
        be = _COPULA[("pl" if plural else "sg", "past" if past else "present")]
        draw = rng.random()
        if draw < 0.15:
            leaves = [Tree("VBD" if past else "VBP" if plural else "VBZ", [be])]
            negation: list[str] = []
            if rng.random() < 0.2:
                leaves.append(Tree("RB", ["not"]))
                negation = [_NEGATIONS["not"]]
            adjective = lex.adjectives.pick(rng)
            adjective_leaves = [Tree("JJ", [adjective.form])]
            adjective_target = [adjective.target + ("ri" if plural else "")]
            if rng.random() < 0.2:
                adjective_leaves.insert(0, Tree("RB", [_VERY[0]]))
                adjective_target.insert(0, _VERY[1])
            node = Tree("VP", [*leaves, Tree("ADJP", adjective_leaves)])
            copula = _COPULA_TARGET + tense_target + agreement
            return node, [*adjective_target, *negation, copula]

        frame_draw = rng.random()
        frame = "intr" if frame_draw < 0.35 else "tr" if frame_draw < 0.87 else "say"
        if frame == "say" and depth >= _MAX_DEPTH:
            frame = "tr"
        verb = lex.verbs[frame].pick(rng)
        leaves: list[Tree] = []
        pre_target: list[str] = []
        negation = []
        if draw < 0.32:
            leaves.append(Tree("VBD" if past else "VBP" if plural else "VBZ", [be]))
            if rng.random() < 0.15:
                leaves.append(Tree("RB", ["not"]))
                negation = [_NEGATIONS["not"]]
            leaves.append(Tree("VBG", [verb.gerund]))
            verb_target = verb.target + "ra" + tense_target + agreement
        else:
            draw = rng.random()
            if draw < 0.12:
                leaves.append(Tree("RB", ["never"]))
                negation = [_NEGATIONS["never"]]
            elif draw < 0.2:
                adjective = lex.adjectives.pick(rng)
                if adjective.form not in lex.flat_adverbs:
                    leaves.append(Tree("RB", [adjective.adverb]))
                    pre_target.append(adjective.target + "ve")
            if past:
                leaves.append(Tree("VBD", [verb.past]))
            else:
                leaves.append(
                    Tree("VBZ" if not plural else "VBP", [verb.base if plural else verb.third])
                )
            verb_target = verb.target + tense_target + agreement
        children: list[Tree] = list(leaves)
        middle: list[str] = []
        if frame == "say":
            clause, clause_target = self.clause(depth + 1)
            children.append(Tree("SBAR", [Tree("CS", [_COMPLEMENTIZER[0]]), clause]))
            middle = [*clause_target, _COMPLEMENTIZER[1]]
            adverbs: list[str] = []
        else:
            if frame == "tr":
                noun_phrase, middle = self.object(depth)
                children.append(noun_phrase)
            draw = rng.random()
            for _ in range(0 if draw < 0.6 else 1 if draw < 0.9 else 2):
                phrase, target = self.prepositional_phrase(depth)
                children.append(phrase)
                middle = [*middle, *target]
            adverbs = []
            if rng.random() < 0.15:
                phrase, adverbs = self.adverb_phrase()
                children.append(phrase)
            if depth < _MAX_DEPTH and rng.random() < 0.08:
                word = rng.choice((*_SUBORDINATORS, "before", "after"))
                clause, clause_target = self.clause(depth + 1)
                children.append(Tree("SBAR", [Tree("CS", [word]), clause]))
                middle = [*middle, *clause_target, _SUBORDINATORS[word]]
        target = [*middle, *pre_target, *adverbs, *negation, verb_target]
        return Tree("VP", children), target


def _annotate(tree: Tree) -> tuple[list[str], list[str], list[str], list[str]]:
    """Returns the tokens, POS tags, BIO chunk tags and BIO entity tags of a generated tree."""
    tokens: list[str] = []
    tags: list[str] = []
    chunks: list[str] = []
    entities: list[str] = []

    def emit(leaves: Sequence[Tree], chunk: str | None, entity: str | None = None) -> None:
        for position, leaf in enumerate(leaves):
            tokens.append(leaf.children[0])  # type: ignore[arg-type]
            tags.append(leaf.label)
            prefix = "B-" if position == 0 else "I-"
            chunks.append(prefix + chunk if chunk else "O")
            entities.append(prefix + entity if entity else "O")

    def walk(node: Tree) -> None:
        children = node.children
        if node.label in ("NP", "ADJP", "ADVP") and all(
            child.is_preterminal  # type: ignore[union-attr]
            for child in children
        ):
            emit(children, node.label, getattr(node, "entity", None))  # type: ignore[arg-type]
            return
        start = 0
        if node.label in ("VP", "PP", "SBAR"):
            while start < len(children) and children[start].is_preterminal:  # type: ignore[union-attr]
                start += 1
            emit(children[:start], node.label)  # type: ignore[arg-type]
        for child in children[start:]:
            if child.is_preterminal:  # type: ignore[union-attr]
                emit([child], None)  # type: ignore[list-item]
            else:
                walk(child)  # type: ignore[arg-type]

    walk(tree)
    return tokens, tags, chunks, entities


def generate(num_sentences: int, seed: int, ner: str = "chunks") -> list[Sentence]:
    """Generates a corpus of the toy language (see the module docstring).

    Args:
        num_sentences: how many sentences.
        seed: the corpus seed; the same ``(num_sentences, seed)`` always gives the same corpus.
        ner: how the NER column is made (:data:`NER_MODES`); the sentences and every other
            annotation are the same whatever it is.

    Returns:
        Sentences with ``tokens``; ``fields`` ``"pos"``, ``"chunk"``, ``"ner"``; ``label``
        (``"pos"``/``"neg"``); ``target`` (the translation); ``meta["tree"]``; ``path``
        ``"<synthetic>"`` and ``line`` the 1-based sentence index.
    """
    if num_sentences < 0:
        raise ValueError(f"num_sentences must not be negative, got {num_sentences}")
    if ner not in NER_MODES:
        raise ValueError(f"unknown ner mode {ner!r}; use one of {', '.join(NER_MODES)}")
    lexicon = _lexicon()
    polarity = lexicon.polarity
    generator = _Generator(random.Random(seed), lexicon)
    sentences = []
    while len(sentences) < num_sentences:
        tree, target = generator.sentence()
        tokens, tags, chunks, entities = _annotate(tree)
        if len(tokens) > _MAX_TOKENS:
            continue
        score = sum(polarity.get(pair, 0) for pair in zip(tokens, tags, strict=True))
        if not score:
            continue
        negations = sum(token in _NEGATIONS for token in tokens)
        label = "pos" if (score > 0) != (negations % 2 == 1) else "neg"
        if ner == "lexical":
            entities = [lexical_entity(token) for token in tokens]
        sentences.append(
            Sentence(
                tokens=tuple(tokens),
                fields={"pos": tuple(tags), "chunk": tuple(chunks), "ner": tuple(entities)},
                label=label,
                target=tuple(target),
                meta={"tree": str(tree)},
                path=SYNTHETIC_PATH,
                line=len(sentences) + 1,
            )
        )
    return sentences


def synthetic_splits(num_sentences: int, seed: int, ner: str = "chunks"
                     ) -> dict[str, list[Sentence]]:
    """Generates a corpus (:func:`generate`) and cuts it into ``"train"``, ``"dev"`` and
    ``"test"`` (80/10/10).

    Raises:
        ValueError: fewer than 10 sentences, which would leave a split empty.
    """
    if num_sentences < 10:
        raise ValueError(
            f"num_sentences must be at least 10 to fill every split, got {num_sentences}"
        )
    sentences = generate(num_sentences, seed, ner)
    dev = num_sentences // 10
    test = num_sentences // 10
    train = num_sentences - dev - test
    return {
        "train": sentences[:train],
        "dev": sentences[train : train + dev],
        "test": sentences[train + dev :],
    }


_README = """\
Synthetic corpus of tfmtl's toy language (tfmtl.data.synthetic; see its docstring for the grammar).

Files per split ({splits}):

  SPLIT.conll   one token per line, 'word POS chunk NER' separated by spaces, a blank line after
                each sentence. Chunks and entities are BIO (IOB2). Read with tfmtl.data.read_conll:
                fields '1' = POS, '2' = chunk, '3' = NER.
  SPLIT.tsv     'label<TAB>sentence' per line; label is the polarity, pos or neg
                (tfmtl.data.read_tsv).
  SPLIT.src     one sentence per line, tokens separated by spaces.
  SPLIT.tgt     its translation into the second toy language, line by line
                (tfmtl.data.read_parallel(SPLIT.src, SPLIT.tgt)).
  SPLIT.trees   one bracketed (Penn Treebank style) constituency tree per line
                (tfmtl.data.parse_tree).

Sentences: {counts}.
"""


def write_corpus(
    out_dir: str | os.PathLike, splits: Mapping[str, Sequence[Sentence]]
) -> dict[str, Path]:
    """Writes generated splits as files the readers read back (see README.txt it writes).

    For each split: ``{split}.conll``, ``{split}.tsv``, ``{split}.src``, ``{split}.tgt`` and
    ``{split}.trees``, each written atomically, plus ``README.txt``.

    Args:
        out_dir: the folder to write to (created if missing).
        splits: sentences by split name, as from :func:`synthetic_splits`.

    Returns:
        The written paths by file name (``"train.conll"``, ..., ``"README.txt"``).

    Raises:
        ValueError: a split is empty or a sentence lacks an annotation the files need.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for split, sentences in splits.items():
        if not sentences:
            raise ValueError(f"split {split!r} has no sentences")
        conll, tsv, source, target, trees = [], [], [], [], []
        for sentence in sentences:
            missing = [
                name
                for name, present in (
                    ("pos/chunk/ner fields", {"pos", "chunk", "ner"} <= sentence.fields.keys()),
                    ("label", sentence.label is not None),
                    ("target", sentence.target is not None),
                    ("tree", "tree" in sentence.meta),
                )
                if not present
            ]
            if missing:
                raise ValueError(
                    f"sentence {sentence.path}:{sentence.line} of split {split!r} lacks "
                    f"{', '.join(missing)}"
                )
            fields = sentence.fields
            for row in zip(
                sentence.tokens, fields["pos"], fields["chunk"], fields["ner"], strict=True
            ):
                conll.append(" ".join(row) + "\n")
            conll.append("\n")
            text = " ".join(sentence.tokens)
            tsv.append(f"{sentence.label}\t{text}\n")
            source.append(text + "\n")
            target.append(" ".join(sentence.target) + "\n")  # type: ignore[arg-type]
            trees.append(sentence.meta["tree"] + "\n")
        for suffix, lines in (
            ("conll", conll),
            ("tsv", tsv),
            ("src", source),
            ("tgt", target),
            ("trees", trees),
        ):
            name = f"{split}.{suffix}"
            written[name] = atomic_write_text(out / name, "".join(lines))
    counts = ", ".join(f"{split} {len(sentences)}" for split, sentences in splits.items())
    readme = _README.format(splits=", ".join(splits), counts=counts)
    written["README.txt"] = atomic_write_text(out / "README.txt", readme)
    return written
