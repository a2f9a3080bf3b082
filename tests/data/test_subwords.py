"""SentencePiece subwords: deterministic training, tfmtl's special ids, exact round trips,
no <unk> for training words or unseen characters."""

import pytest

from tfmtl.data.subwords import BOS_ID, EOS_ID, PAD_ID, UNK_ID, Subwords, train_sentencepiece

TEXT = [
    "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.",
    "Mehrere Männer mit Schutzhelmen bedienen ein Antriebsradsystem.",
    "Ein kleines Mädchen klettert in ein Spielhaus aus Holz.",
    "Ein Mann in einem blauen Hemd steht auf einer Leiter und putzt ein Fenster.",
    "Zwei Männer stehen am Herd und bereiten Essen zu.",
] * 20


@pytest.fixture(scope="module")
def model():
    return train_sentencepiece(TEXT, vocab_size=400)


def test_training_is_deterministic_and_keeps_tfmtls_ids(model):
    assert train_sentencepiece(TEXT, vocab_size=400) == model
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_proto=model)
    assert (processor.pad_id(), processor.unk_id(), processor.bos_id(),
            processor.eos_id()) == (PAD_ID, UNK_ID, BOS_ID, EOS_ID)
    assert processor.get_piece_size() <= 400


def test_round_trip_without_unk(model, tmp_path):
    subwords = Subwords(model)
    sentences = [*TEXT[:5], "Ein Ärzteteam: 3 Köche über 😀 Straße!"]  # Unseen characters.
    ids = subwords.encode_batch(sentences)
    assert all(UNK_ID not in row and PAD_ID not in row for row in ids)
    assert subwords.decode_batch(ids) == sentences
    # Padding, start and end ids are dropped when decoding.
    padded = [[BOS_ID, *row, EOS_ID, PAD_ID, PAD_ID] for row in ids[:2]]
    assert subwords.decode_batch(padded) == sentences[:2]
    path = tmp_path / "de.model"
    subwords.save(path)
    assert Subwords.load(path).encode_batch(sentences[:1])[0].tolist() == ids[0].tolist()
    assert subwords.vocab_size <= 400


def test_errors():
    with pytest.raises(ValueError, match="cannot train a subword model of 100 pieces: "
                       "Vocabulary size is smaller than required_chars"):
        train_sentencepiece(TEXT, vocab_size=100)
    with pytest.raises(ValueError, match="no text"):
        train_sentencepiece(["", "  "], vocab_size=50)
    with pytest.raises(ValueError, match="model_type must be one of"):
        train_sentencepiece(TEXT, vocab_size=50, model_type="word")


def test_on_multi30k(shared_data):
    path = shared_data("multi30k_en_de") / "train.de"
    lines = path.read_text(encoding="utf-8").splitlines()[:3000]
    subwords = Subwords(train_sentencepiece(lines, vocab_size=2000))
    ids = subwords.encode_batch(lines[:500])
    assert all(UNK_ID not in row for row in ids)
    assert subwords.decode_batch(ids) == lines[:500]
    # Subwords: fewer pieces than characters, more than words.
    pieces = sum(len(row) for row in ids)
    assert sum(len(s.split()) for s in lines[:500]) < pieces < sum(len(s) for s in lines[:500])
