"""Keras building blocks: LSTM stacks, character features, word dropout, pooling.

Layers take plain arguments, never a config; the model builders in
:mod:`tfmtl.models` read the config and assemble them.
"""

from tfmtl.layers.char_bilstm import CharBiLSTM
from tfmtl.layers.char_cnn import CharCNN
from tfmtl.layers.column_mixing import ColumnMixing
from tfmtl.layers.domain_loss import DomainLoss
from tfmtl.layers.encoder_features import EncoderFeatures
from tfmtl.layers.layer_mixing import LayerMixing
from tfmtl.layers.lstm import LSTMS, make_lstm
from tfmtl.layers.lstm_stack import LSTMStack
from tfmtl.layers.masked_pooling import MaskedPooling
from tfmtl.layers.orthogonality import Orthogonality
from tfmtl.layers.weight_distance import WeightDistance
from tfmtl.layers.word_dropout import WordDropout

__all__ = ["LSTMS", "CharBiLSTM", "CharCNN", "ColumnMixing", "DomainLoss", "EncoderFeatures",
           "LayerMixing", "LSTMStack", "MaskedPooling", "Orthogonality", "WeightDistance",
           "WordDropout", "make_lstm"]
