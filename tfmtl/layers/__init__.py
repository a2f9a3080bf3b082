"""Keras building blocks: LSTM stacks, character features, word dropout, pooling.

Layers take plain arguments, never a config; the model builders in
:mod:`tfmtl.models` read the config and assemble them.
"""

from tfmtl.layers.char_bilstm import CharBiLSTM
from tfmtl.layers.char_cnn import CharCNN
from tfmtl.layers.lstm import LSTMS, make_lstm
from tfmtl.layers.lstm_stack import LSTMStack
from tfmtl.layers.masked_pooling import MaskedPooling
from tfmtl.layers.word_dropout import WordDropout

__all__ = ["LSTMS", "CharBiLSTM", "CharCNN", "LSTMStack", "MaskedPooling", "WordDropout",
           "make_lstm"]
