"""The CRF's likelihood and Viterbi decoding against brute-force enumeration of every path."""

import itertools

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from tfmtl.layers.crf import CRF, crf_decode, crf_log_likelihood  # noqa: E402


def brute_force(emissions, length, transitions, start, end):
    """log Z, the best path and every path's score of one sentence, in float64."""
    num_tags = emissions.shape[1]
    scores = {}
    for path in itertools.product(range(num_tags), repeat=length):
        score = start[path[0]] + end[path[-1]] + sum(emissions[t, y] for t, y in enumerate(path))
        score += sum(transitions[a, b] for a, b in zip(path, path[1:], strict=False))
        scores[path] = score
    values = np.array(list(scores.values()))
    log_z = values.max() + np.log(np.exp(values - values.max()).sum())
    return log_z, max(scores, key=scores.get), scores


def random_case(rng, batch, time, num_tags):
    emissions = rng.normal(size=(batch, time, num_tags)) * 2
    parameters = rng.normal(size=(num_tags + 2, num_tags))
    lengths = rng.integers(1, time + 1, size=batch)
    lengths[0] = time
    tags = rng.integers(0, num_tags, size=(batch, time))
    return emissions, parameters, lengths, tags


@pytest.mark.parametrize("num_tags, time", [(1, 3), (2, 4), (3, 4), (4, 3), (3, 1)])
def test_likelihood_and_decoding_equal_enumeration(num_tags, time):
    rng = np.random.default_rng(num_tags * 10 + time)
    emissions, parameters, lengths, tags = random_case(rng, 5, time, num_tags)
    transitions, start, end = parameters[:num_tags], parameters[num_tags], parameters[-1]
    batch_parameters = np.broadcast_to(parameters, (5, *parameters.shape))
    # float64 through the same graph: the comparison tests the algorithm, not float32 rounding.
    likelihood = crf_log_likelihood(tf.constant(emissions), tf.constant(tags),
                                    tf.constant(lengths), tf.constant(batch_parameters)).numpy()
    decoded = crf_decode(tf.constant(emissions), tf.constant(lengths),
                         tf.constant(batch_parameters)).numpy()
    for row in range(5):
        n = lengths[row]
        log_z, best, scores = brute_force(emissions[row, :n], n, transitions, start, end)
        gold = tuple(tags[row, :n])
        np.testing.assert_allclose(likelihood[row], scores[gold] - log_z, rtol=1e-10, atol=1e-10)
        assert tuple(decoded[row, :n]) == best
        assert not decoded[row, n:].any()
    # The probabilities of all paths of a sentence sum to 1.
    n = lengths[1]
    total = 0.0
    for path in itertools.product(range(num_tags), repeat=n):
        padded = np.zeros((1, time), np.int64)
        padded[0, :n] = path
        total += np.exp(crf_log_likelihood(
            tf.constant(emissions[1:2]), tf.constant(padded), tf.constant(lengths[1:2]),
            tf.constant(batch_parameters[1:2])).numpy()[0])
    np.testing.assert_allclose(total, 1.0, rtol=1e-10)


def test_empty_sentences_and_empty_batches():
    emissions = tf.random.normal([3, 2, 4], dtype=tf.float64)
    parameters = tf.random.normal([3, 6, 4], dtype=tf.float64)
    lengths = tf.constant([0, 2, 0])
    tags = tf.constant([[3, 3], [1, 2], [0, 0]])
    likelihood = crf_log_likelihood(emissions, tags, lengths, parameters).numpy()
    assert likelihood[0] == 0 and likelihood[2] == 0 and likelihood[1] < 0
    decoded = crf_decode(emissions, lengths, parameters).numpy()
    assert decoded.shape == (3, 2) and not decoded[[0, 2]].any()
    # No time step at all (every sentence of a served batch empty).
    none = crf_decode(tf.zeros([2, 0, 4]), tf.constant([0, 0]), tf.zeros([2, 6, 4])).numpy()
    assert none.shape == (2, 0)
    zero = crf_log_likelihood(tf.zeros([2, 0, 4]), tf.zeros([2, 0], tf.int32),
                              tf.constant([0, 0]), tf.zeros([2, 6, 4])).numpy()
    assert zero.tolist() == [0.0, 0.0]


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(7)
    emissions, parameters, lengths, tags = random_case(rng, 3, 4, 3)
    emissions_t = tf.Variable(emissions)
    parameters_t = tf.Variable(np.broadcast_to(parameters, (3, 5, 3)).copy())

    def loss():
        return tf.reduce_sum(crf_log_likelihood(emissions_t, tf.constant(tags),
                                                tf.constant(lengths), parameters_t))

    with tf.GradientTape() as tape:
        value = loss()
    grads = tape.gradient(value, [emissions_t, parameters_t])
    for variable, grad in zip([emissions_t, parameters_t], grads, strict=True):
        flat = variable.numpy().reshape(-1)
        numeric = np.zeros_like(flat)
        for index in range(flat.size):
            for sign in (1, -1):
                changed = flat.copy()
                changed[index] += sign * 1e-6
                variable.assign(changed.reshape(variable.shape))
                numeric[index] += sign * loss().numpy() / 2e-6
            variable.assign(flat.reshape(variable.shape))
        np.testing.assert_allclose(tf.convert_to_tensor(grad).numpy().reshape(-1), numeric,
                                   rtol=1e-5, atol=1e-7)


def test_layer_is_a_model_output_and_trains_in_a_graph_of_stock_ops():
    import keras

    words = keras.Input((None, 8))
    emissions = keras.layers.Dense(3)(words)
    crf = CRF(3, name="crf")
    model = keras.Model(words, {"logits": emissions, "crf": crf(emissions)})
    outputs = model(tf.zeros([2, 5, 8]))
    assert outputs["crf"].shape == (2, 5, 3)
    assert crf.trainable_weights[0].shape == (5, 3)
    assert keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(crf)
                                                 ).num_tags == 3

    @tf.function(input_signature=[tf.TensorSpec([None, None, 3]), tf.TensorSpec([None], tf.int32)])
    def decode(emissions, lengths):
        return crf_decode(emissions, lengths, crf(emissions))

    graph = decode.get_concrete_function().graph.as_graph_def()
    ops = {node.op for node in graph.node} | {
        node.op for function in graph.library.function for node in function.node_def}
    from tensorflow.python.framework import op_def_registry

    assert all(op_def_registry.get(op) is not None for op in ops)
    assert not any(op.startswith("Tfmtl") or op.startswith("Addons") for op in ops)


@pytest.mark.parametrize("num_tags, time", [(2, 4), (3, 3), (3, 1)])
def test_marginals_equal_enumeration(num_tags, time):
    from tfmtl.layers.crf import crf_marginals

    rng = np.random.default_rng(3 + num_tags + time)
    emissions, parameters, lengths, _ = random_case(rng, 4, time, num_tags)
    transitions, start, end = parameters[:num_tags], parameters[num_tags], parameters[-1]
    marginals = crf_marginals(tf.constant(emissions), tf.constant(lengths), tf.constant(
        np.broadcast_to(parameters, (4, *parameters.shape)))).numpy()
    for row in range(4):
        n = lengths[row]
        log_z, _, scores = brute_force(emissions[row, :n], n, transitions, start, end)
        want = np.zeros((time, num_tags))
        for path, score in scores.items():
            for t, y in enumerate(path):
                want[t, y] += np.exp(score - log_z)
        np.testing.assert_allclose(marginals[row], want, rtol=1e-9, atol=1e-12)
