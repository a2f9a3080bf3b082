"""A model trained with FusedLSTM and GradientReversal exports with stock ops only."""

import keras
import numpy as np
import tensorflow as tf

from tfmtl.ops import FusedLSTM, GradientReversal, to_stock


def _model(lstm=FusedLSTM, reversal=lambda: GradientReversal("ganin")):
    tokens = keras.Input((6,), dtype="int32", name="tokens")
    h = keras.layers.Embedding(30, 8, mask_zero=True)(tokens)
    h = keras.layers.Bidirectional(lstm(5, return_sequences=True))(h)
    tags = keras.layers.Dense(4, name="tags")(h)
    pooled = lstm(5)(h)
    domain = keras.layers.Dense(2, name="domain")(reversal()(pooled))
    return keras.Model(tokens, {"tags": tags, "domain": domain})


def _ops_in_saved_model(path):
    from tensorflow.core.protobuf import saved_model_pb2

    sm = saved_model_pb2.SavedModel()
    sm.ParseFromString((path / "saved_model.pb").read_bytes())
    ops = set()
    for meta in sm.meta_graphs:
        ops.update(n.op for n in meta.graph_def.node)
        for f in meta.graph_def.library.function:
            ops.update(n.op for n in f.node_def)
    return ops


def test_export_uses_stock_ops_only(tmp_path):
    model = _model()
    rng = np.random.default_rng(0)
    x = rng.integers(1, 30, size=(3, 6)).astype(np.int32)
    x[1, 3:] = 0
    # One training step so the weights are the fused layers' own.
    opt = keras.optimizers.SGD(0.1)
    with tf.GradientTape() as tape:
        out = model(x, training=True)
        loss = tf.reduce_sum(out["tags"]) + tf.reduce_sum(out["domain"])
    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_weights),
                            model.trainable_weights, strict=True))

    stock = to_stock(model)
    assert not any(isinstance(layer, (FusedLSTM, GradientReversal)) for layer in stock.layers)
    expected = model(x, training=False)
    got = stock(x, training=False)
    for key in expected:
        np.testing.assert_allclose(got[key].numpy(), expected[key].numpy(), rtol=1e-5, atol=1e-6)

    path = tmp_path / "export" / "1"
    stock.export(str(path), format="tf_saved_model")
    ops = _ops_in_saved_model(path)
    assert ops and not any(op.startswith("Tfmtl") for op in ops), sorted(ops)
    reloaded = tf.saved_model.load(str(path))
    served = reloaded.serve(tf.constant(x))
    for key in expected:
        np.testing.assert_allclose(served[key].numpy(), expected[key].numpy(), rtol=1e-5,
                                   atol=1e-6)


def test_checkpoint_restores_into_stock_model(tmp_path):
    """The same architecture built with stock layers restores the training checkpoint."""
    model = _model()
    x = np.array([[1, 2, 3, 0, 0, 0]], np.int32)
    model(x)
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "ckpt"))
    stock = _model(keras.layers.LSTM, keras.layers.Identity)
    stock(x)
    tf.train.Checkpoint(model=stock).restore(path).expect_partial().assert_existing_objects_matched()
    np.testing.assert_allclose(stock(x)["tags"].numpy(), model(x)["tags"].numpy(), rtol=1e-5,
                               atol=1e-6)
