"""HiddenStateCallback on real Keras models: train, then read the logs back through the plugin.

Every logged array is checked against a reference computed independently of
the callback: a numpy LSTM loop, or a return_sequences=True copy of the layer
built by hand and given the same weights, at the weights of that checkpoint
(step 0: the weights before fit; last step: after fit).
"""

import json
import os
import sys
import urllib.parse

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from tb_rnn_hidden.keras import HiddenStateCallback  # noqa: E402
from tests.support.plugin_client import PREFIX, make_client  # noqa: E402

RUN = "run"
VOCAB = ["<pad>", "the", "film", "was", "not", "good", "bad", "but", "plot", "a"]
ATOL = 1e-5


# Data and reading back -----------------------------------------------------


def token_data(n=48, t=8, pre=False, seed=0, pad=True):
    """Token ids [n, t] with random lengths (>= 2), padded with 0 before or after."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((n, t), dtype=np.int32)
    lengths = rng.integers(2, t + 1, size=n) if pad else np.full(n, t)
    lengths[0] = t
    for i, k in enumerate(lengths):
        row = rng.integers(1, len(VOCAB), size=k)
        if pre:
            ids[i, t - k:] = row
        else:
            ids[i, :k] = row
    labels = rng.integers(0, 2, size=n)
    return ids, labels


class InitialWeights(keras.callbacks.Callback):
    """The weights at train begin, after the callback under test (which may build the model)."""

    def on_train_begin(self, logs=None):
        self.weights = [w.copy() for w in self.model.get_weights()]


def fit(model, x, y, cb, epochs=2, loss="sparse_categorical_crossentropy"):
    """Compiles, fits with the callback; returns the weights before training."""
    model.compile(keras.optimizers.Adam(0.05), loss)
    if x.dtype.kind == "U":  # Keras fits string arrays only from a tf.data pipeline
        x, y = tf.data.Dataset.from_tensor_slices((x, y)).batch(16), None
    initial = InitialWeights()
    model.fit(x, y, batch_size=None if y is None else 16, epochs=epochs, verbose=0,
              shuffle=y is not None, callbacks=[cb, initial])
    return initial.weights


def read(logdir, tag, step):
    """One checkpoint through TensorBoard's app: info, and per-sequence lists of arrays."""
    client = make_client(logdir)
    q = "?" + urllib.parse.urlencode(dict(run=RUN, tag=tag, step=step))

    def array(route, expected=200):
        response = client.get(PREFIX + route + q + ("&dtype=float32" if route == "/states" else ""))
        assert response.status_code == expected, response.get_data(as_text=True)
        if expected != 200:
            return None
        shape = tuple(int(d) for d in response.headers["X-Array-Shape"].split(","))
        dtype = np.dtype(response.headers["X-Array-Dtype"]).newbyteorder("<")
        return np.frombuffer(response.get_data(), dtype=dtype).reshape(shape)

    info = json.loads(client.get(PREFIX + "/sequences" + q).get_data())
    splits = np.cumsum(info["lengths"])[:-1]
    states = np.split(array("/states"), splits)
    probabilities = (
        np.split(array("/probabilities"), splits) if info["has_probabilities"] else None
    )
    tokens = None
    if info["has_tokens"]:
        ids = np.split(array("/tokens"), splits)
        tokens = [[info["vocabulary"][i] for i in row] for row in ids]
    else:
        array("/tokens", expected=404)
    return info, states, probabilities, tokens


def steps(logdir):
    tags = json.loads(make_client(logdir).get(PREFIX + "/tags").get_data())
    return {tag: entry["steps"] for tag, entry in tags[RUN].items()}


def assert_rows(logged, reference, valid):
    """logged[i] (valid steps only) equals reference[i] at its valid steps, in order."""
    assert len(logged) == len(reference)
    for i, row in enumerate(logged):
        np.testing.assert_allclose(row, reference[i][valid[i]], atol=ATOL, rtol=0)


def assert_last_step_is_prediction(probabilities, model, x):
    predicted = model.predict(x, verbose=0)
    last = np.stack([row[-1] for row in probabilities])
    if predicted.shape[-1] == 1:  # sigmoid: stored as [1 - p, p]
        predicted = np.concatenate([1 - predicted, predicted], axis=-1)
    np.testing.assert_allclose(last, predicted, atol=ATOL, rtol=0)


def sequence_twin(layer, weights, inputs, mask=None):
    """The layer's per-step outputs from a return_sequences=True copy given `weights`."""
    config = dict(layer.get_config(), name=layer.name + "_twin")
    if isinstance(layer, keras.layers.Bidirectional):
        config["merge_mode"] = "concat"  # [forward, backward], as logged
        inner = dict(config["layer"])
        inner["config"] = dict(inner["config"], return_sequences=True)
        config["layer"] = inner
        config.pop("backward_layer", None)
    else:
        config["return_sequences"] = True
    twin = type(layer).from_config(config)
    twin(inputs[:1])
    twin.set_weights(weights)
    return np.asarray(twin(inputs, mask=mask))


def layer_weights(model, weights, layer):
    """The slice of model.get_weights()-ordered `weights` that belongs to `layer`."""
    ids = [id(v) for v in model.weights]
    return [weights[ids.index(id(v))] for v in layer.weights]


def features_before(model, layer, x, weights=None):
    """The layer's input features, computed by the model's layers below it (at `weights`)."""
    current = model.get_weights()
    if weights is not None:
        model.set_weights(weights)
    try:
        features = layer.input  # [sequences, mask] where the layer was given a mask
        features = features[0] if isinstance(features, list) else features
        return np.asarray(keras.Model(model.inputs[0], features)(x))
    finally:
        model.set_weights(current)


# A numpy LSTM -------------------------------------------------------------


def numpy_lstm(x, mask, kernel, recurrent_kernel, bias):
    """Hidden and cell states at every step; masked steps carry the state (Keras semantics)."""
    n, t, _ = x.shape
    units = recurrent_kernel.shape[0]
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    h = np.zeros((n, units))
    c = np.zeros((n, units))
    hs, cs = np.zeros((n, t, units)), np.zeros((n, t, units))
    for step in range(t):
        z = x[:, step] @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = np.split(z, 4, axis=1)  # Keras gate order: i, f, c, o
        c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h_new = sigmoid(o) * np.tanh(c_new)
        m = mask[:, step : step + 1]
        h, c = np.where(m, h_new, h), np.where(m, c_new, c)
        hs[:, step], cs[:, step] = h, c
    return hs, cs


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_masked_lstm_matches_numpy_loop(logdir, padding):
    keras.utils.set_random_seed(1)
    x, y = token_data(pre=padding == "pre")
    probe, probe_y = x[:12], y[:12]
    inputs = keras.Input((x.shape[1],), dtype="int32")
    emb = keras.layers.Embedding(len(VOCAB), 3, mask_zero=True)
    lstm = keras.layers.LSTM(4, name="lstm")
    head = keras.layers.Dense(2, activation="softmax")
    model = keras.Model(inputs, head(lstm(emb(inputs))))
    cb = HiddenStateCallback(
        os.path.join(logdir, RUN), probe, probe_y, vocabulary=VOCAB,
        class_names=["negative", "positive"], cell_states=True, precision="float32")
    before = fit(model, x, y, cb)

    assert steps(logdir) == {"lstm": [0, 1, 2], "lstm/cell": [0, 1, 2]}
    valid = probe != 0
    for step, weights in ((0, before), (2, model.get_weights())):
        (e,) = layer_weights(model, weights, emb)
        k, rk, b = layer_weights(model, weights, lstm)
        w, wb = layer_weights(model, weights, head)
        hs, cs = numpy_lstm(e[probe], valid, k, rk, b)
        info, states, probabilities, tokens = read(logdir, "lstm", step)
        assert info["lengths"] == valid.sum(1).tolist()
        assert info["labels"] == probe_y.tolist()
        assert info["class_names"] == ["negative", "positive"]
        assert tokens == [[VOCAB[i] for i in row[row != 0]] for row in probe]
        assert_rows(states, hs, valid)
        logits = hs @ w + wb
        softmax = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        assert_rows(probabilities, softmax, valid)
        _, cells, _, _ = read(logdir, "lstm/cell", step)
        assert_rows(cells, cs, valid)
        if padding == "pre":  # step 0 is the first real token, not the padding before it
            first = valid.argmax(axis=1)
            np.testing.assert_allclose(
                np.stack([row[0] for row in states]), hs[np.arange(len(probe)), first], atol=ATOL)
        if step == 0:
            untrained = states
    assert_last_step_is_prediction(probabilities, model, probe)
    assert max(np.abs(a - b).max() for a, b in zip(untrained, states)) > 1e-2


# Layer kinds against a hand-built return_sequences=True twin -------------


@pytest.mark.parametrize("kind", ["GRU", "SimpleRNN"])
def test_gru_and_simple_rnn_last_step_layers(logdir, kind):
    """Sequential (the SimpleRNN one without Input: Keras builds it only in the first
    training step, the callback builds it first), no mask, sigmoid head: all steps
    valid, probabilities [N, T, 1]."""
    keras.utils.set_random_seed(2)
    x, y = token_data(pad=False, seed=2)
    probe = x[:10]
    maybe_input = [keras.Input((x.shape[1],), dtype="int32")] if kind == "GRU" else []
    model = keras.Sequential(maybe_input + [
        keras.layers.Embedding(len(VOCAB), 3),
        getattr(keras.layers, kind)(5, name="rnn"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    cb = HiddenStateCallback(os.path.join(logdir, RUN), probe, y[:10].astype(float),
                             precision="float32")
    rnn = model.get_layer("rnn")
    assert model.built == (kind == "GRU")
    before = fit(model, x, y, cb, loss="binary_crossentropy")
    assert steps(logdir) == {"rnn": [0, 1, 2]}
    valid = np.ones(probe.shape, dtype=bool)
    for step, weights in ((0, before), (2, model.get_weights())):
        reference = sequence_twin(rnn, layer_weights(model, weights, rnn),
                                  features_before(model, rnn, probe, weights))
        info, states, probabilities, tokens = read(logdir, "rnn", step)
        assert info["lengths"] == [x.shape[1]] * 10
        assert info["labels"] == y[:10].tolist()
        assert info["num_classes"] == 2  # a sigmoid output is read as 2 classes
        assert tokens == [[str(i) for i in row] for row in probe]  # ids without vocabulary
        assert_rows(states, reference, valid)
    assert_last_step_is_prediction(probabilities, model, probe)


@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
def test_bidirectional_lstm(logdir, merge_mode):
    keras.utils.set_random_seed(3)
    x, y = token_data(seed=3)
    probe = x[:10]
    inputs = keras.Input((x.shape[1],), dtype="int32")
    h = keras.layers.Embedding(len(VOCAB), 3, mask_zero=True)(inputs)
    bi = keras.layers.Bidirectional(keras.layers.LSTM(3), merge_mode=merge_mode, name="bi")
    head = keras.layers.Dense(2, activation="softmax")
    model = keras.Model(inputs, head(bi(h)))
    cb = HiddenStateCallback(os.path.join(logdir, RUN), probe, vocabulary=VOCAB,
                             cell_states=True, precision="float32")
    before = fit(model, x, y, cb)
    assert steps(logdir) == {"bi": [0, 1, 2], "bi/cell": [0, 1, 2]}
    valid = probe != 0
    for step, weights in ((0, before), (2, model.get_weights())):
        features = features_before(model, bi, probe, weights)
        reference = sequence_twin(bi, layer_weights(model, weights, bi), features, mask=valid)
        info, states, probabilities, tokens = read(logdir, "bi", step)
        assert info["state_size"] == 6  # [forward 3, backward 3], whatever the merge mode
        assert info["lengths"] == valid.sum(1).tolist()
        assert_rows(states, reference, valid)
        # Probabilities: the head on the per-step output, merged as the layer merges.
        merged = reference if merge_mode == "concat" else reference[..., :3] + reference[..., 3:]
        w, b = layer_weights(model, weights, head)
        logits = merged @ w + b
        assert_rows(probabilities, np.exp(logits) / np.exp(logits).sum(-1, keepdims=True), valid)
    _, cells, _, _ = read(logdir, "bi/cell", 2)
    assert cells[0].shape == (x.shape[1], 6)
    # The forward half at the last valid step and the backward half at step 0
    # are the layer's own final states.
    forward, backward = (np.asarray(l(features, mask=valid))
                         for l in (bi.forward_layer, bi.backward_layer))
    np.testing.assert_allclose(np.stack([r[-1, :3] for r in states]), forward, atol=ATOL)
    np.testing.assert_allclose(np.stack([r[0, 3:] for r in states]), backward, atol=ATOL)


def test_stacked_lstm_gru_each_tag(logdir):
    keras.utils.set_random_seed(4)
    x, y = token_data(seed=4)
    probe = x[:10]
    inputs = keras.Input((x.shape[1],), dtype="int32")
    emb = keras.layers.Embedding(len(VOCAB), 3, mask_zero=True)
    lower = keras.layers.LSTM(4, return_sequences=True, name="lower")
    upper = keras.layers.GRU(3, name="upper")
    head = keras.layers.Dense(2, activation="softmax")
    model = keras.Model(inputs, head(upper(lower(emb(inputs)))))
    cb = HiddenStateCallback(os.path.join(logdir, RUN), probe, vocabulary=VOCAB,
                             precision="float32")
    fit(model, x, y, cb)
    assert steps(logdir) == {"lower": [0, 1, 2], "upper": [0, 1, 2]}
    valid = probe != 0
    weights = model.get_weights()
    for layer in (lower, upper):
        reference = sequence_twin(layer, layer_weights(model, weights, layer),
                                  features_before(model, layer, probe), mask=valid)
        info, states, probabilities, tokens = read(logdir, layer.name, 2)
        assert_rows(states, reference, valid)
        assert tokens == [[VOCAB[i] for i in row[row != 0]] for row in probe]
        assert_last_step_is_prediction(probabilities, model, probe)  # logged with each layer


def test_masking_on_float_sequences_has_no_tokens(logdir):
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((40, 6, 2)).astype(np.float32)
    lengths = rng.integers(2, 7, size=40)
    for i, k in enumerate(lengths):
        x[i, : 6 - k] = 0.0  # pre-padded time series
    y = rng.integers(0, 3, size=40)
    probe = x[:8]
    model = keras.Sequential([
        keras.Input((6, 2)),
        keras.layers.Masking(0.0),
        keras.layers.LSTM(3, name="lstm"),
        keras.layers.Dense(3, activation="softmax"),
    ])
    cb = HiddenStateCallback(os.path.join(logdir, RUN), probe, keras.utils.to_categorical(y[:8], 3),
                             class_names=["a", "b", "c"], precision="float32")
    fit(model, x, y, cb)
    lstm = model.get_layer("lstm")
    valid = np.any(probe != 0, axis=-1)
    reference = sequence_twin(lstm, lstm.get_weights(), probe, mask=valid)
    info, states, probabilities, tokens = read(logdir, "lstm", 2)
    assert tokens is None and not info["has_tokens"]
    assert info["lengths"] == lengths[:8].tolist()
    assert info["labels"] == y[:8].tolist()  # one-hot labels -> argmax
    assert info["class_names"] == ["a", "b", "c"]
    assert_rows(states, reference, valid)
    assert_last_step_is_prediction(probabilities, model, probe)


# Heads --------------------------------------------------------------------


def test_last_step_slice_head(logdir):
    """LSTM(return_sequences=True) then `[:, -1]` then Dense: the slice is per-step identity."""
    keras.utils.set_random_seed(6)
    x, y = token_data(seed=6)
    probe = x[:10]
    inputs = keras.Input((None,), dtype="int32")
    states = keras.layers.LSTM(4, return_sequences=True, name="lstm")(
        keras.layers.Embedding(len(VOCAB), 3, mask_zero=True)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(states[:, -1]))
    cb = HiddenStateCallback(os.path.join(logdir, RUN), probe, vocabulary=dict(enumerate(VOCAB)),
                             precision="float32")
    fit(model, x, y, cb)
    info, logged, probabilities, tokens = read(logdir, "lstm", 2)
    valid = probe != 0
    reference = keras.Model(model.inputs[0], states)(probe).numpy()
    assert_rows(logged, reference, valid)
    assert tokens == [[VOCAB[i] for i in row[row != 0]] for row in probe]
    assert_last_step_is_prediction(probabilities, model, probe)


def pooled_model(t=7):
    inputs = keras.Input((t,), dtype="int32")
    h = keras.layers.Embedding(len(VOCAB), 3)(inputs)
    h = keras.layers.LSTM(4, return_sequences=True, name="lstm")(h)
    h = keras.layers.GlobalAveragePooling1D()(h)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="head")(h))


def test_pooling_head_needs_probability_fn(logdir):
    keras.utils.set_random_seed(7)
    x, y = token_data(pad=False, t=7, seed=7)
    model = pooled_model()
    cb = HiddenStateCallback(os.path.join(logdir, RUN), x[:5])
    model.compile("adam", "sparse_categorical_crossentropy")
    expected = r"GlobalAveragePooling1D.*combines all steps.*probability_fn"
    with pytest.raises(ValueError, match=expected):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[cb])
    assert int(model.optimizer.iterations) == 0  # raised before any training step


def test_pooling_head_with_probability_fn(logdir):
    keras.utils.set_random_seed(8)
    x, y = token_data(pad=False, t=7, seed=8)
    probe = x[:6]
    model = pooled_model()

    def prefix_mean_head(states):  # the model's prediction on every prefix
        head = model.get_layer("head")
        means = np.cumsum(states, axis=1) / np.arange(1, states.shape[1] + 1)[None, :, None]
        return np.asarray(head(means.reshape(-1, states.shape[-1]))).reshape(
            states.shape[0], states.shape[1], -1)

    cb = HiddenStateCallback(os.path.join(logdir, RUN), probe, probability_fn=prefix_mean_head,
                             precision="float32")
    fit(model, x, y, cb)
    assert steps(logdir) == {"lstm": [0, 1, 2]}
    _, _, probabilities, _ = read(logdir, "lstm", 2)
    assert_last_step_is_prediction(probabilities, model, probe)


def test_logits_head_is_refused_with_a_clear_message(logdir):
    inputs = keras.Input((5,), dtype="int32")
    h = keras.layers.GRU(3, name="gru")(keras.layers.Embedding(10, 3)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(4, name="logits")(h))
    cb = HiddenStateCallback(os.path.join(logdir, RUN), np.ones((3, 5), dtype=np.int32))
    cb.set_model(model)
    with pytest.raises(ValueError, match=r"logits.*'logits'.*'linear'.*softmax or sigmoid"):
        cb.on_train_begin()


# Text, steps, arguments ---------------------------------------------------


def test_text_vectorization_tokens(logdir):
    keras.utils.set_random_seed(9)
    texts = np.array(["the film was good", "not good", "the plot was bad but good",
                      "bad", "a film", "good good bad"] * 4)
    y = np.arange(len(texts)) % 2
    vectorize = keras.layers.TextVectorization(output_sequence_length=6)
    vectorize.adapt(texts)
    inputs = keras.Input((1,), dtype="string")
    h = keras.layers.Embedding(vectorize.vocabulary_size(), 3, mask_zero=True)(vectorize(inputs))
    h = keras.layers.LSTM(3, name="lstm")(h)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(h))
    probe = texts[:6, None]
    cb = HiddenStateCallback(os.path.join(logdir, RUN), probe, y[:6])
    fit(model, texts[:, None], y, cb, epochs=1)
    info, _, probabilities, tokens = read(logdir, "lstm", 1)
    assert tokens == [t.split() for t in texts[:6]]
    assert info["lengths"] == [len(t.split()) for t in texts[:6]]
    np.testing.assert_allclose(
        np.stack([p[-1] for p in probabilities]), model.predict(tf.constant(probe), verbose=0),
        atol=ATOL)


def small_model():
    inputs = keras.Input((6,), dtype="int32")
    h = keras.layers.SimpleRNN(2, name="rnn")(keras.layers.Embedding(len(VOCAB), 2)(inputs))
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(h))


def test_every_n_batches_and_repeated_fit_calls(logdir, tmp_path):
    x, y = token_data(n=32, t=6, pad=False, seed=10)
    model = small_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    cb = HiddenStateCallback(str(tmp_path / "b" / RUN), x[:4], every_n_batches=3)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[cb])  # 8 batches
    assert steps(str(tmp_path / "b")) == {"rnn": [0, 3, 6]}

    cb = HiddenStateCallback(os.path.join(logdir, RUN), x[:4], every_n_epochs=2)
    for _ in range(4):  # one epoch per fit call, as a hand-written training loop does
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[cb])
    model.fit(x, y, batch_size=8, initial_epoch=7, epochs=8, verbose=0, callbacks=[cb])
    assert steps(logdir) == {"rnn": [0, 2, 4, 8]}


def test_argument_and_model_errors(logdir):
    probe = np.ones((3, 6), dtype=np.int32)
    with pytest.raises(ValueError, match=r"`probe_labels` has shape \(4,\); expected \[N=3\]"):
        HiddenStateCallback(logdir, probe, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="`every_n_epochs` is 0; expected a positive integer"):
        HiddenStateCallback(logdir, probe, every_n_epochs=0)
    with pytest.raises(ValueError, match="`vocabulary` is 'abc'"):
        HiddenStateCallback(logdir, probe, vocabulary="abc")

    model = small_model()
    cb = HiddenStateCallback(logdir, probe, layers=["lstm"])
    cb.set_model(model)
    with pytest.raises(ValueError, match=r"'lstm' is not a layer of model .*\['rnn'\]"):
        cb.on_train_begin()
    cb = HiddenStateCallback(logdir, probe, layers=[model.layers[1]])
    cb.set_model(model)
    expected = r"is a layer of type Embedding, not a recurrent layer.*\['rnn'\]"
    with pytest.raises(ValueError, match=expected):
        cb.on_train_begin()
    cb = HiddenStateCallback(logdir, probe.astype(np.float32)[..., None], vocabulary=VOCAB)
    cb.set_model(keras.Sequential([keras.Input((6, 1)), keras.layers.GRU(2),
                                   keras.layers.Dense(2, activation="softmax")]))
    with pytest.raises(ValueError, match="not token ids"):
        cb.on_train_begin()

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.rnn = keras.layers.LSTM(2)

        def call(self, x):
            return self.rnn(x)

    cb = HiddenStateCallback(logdir, probe)
    cb.set_model(Subclassed())
    with pytest.raises(ValueError, match="subclassed Subclassed; .*Sequential and functional"):
        cb.on_train_begin()


# Annotation tracks ----------------------------------------------------------


def read_annotations(logdir, tag, step):
    """{name: (header entry, [per sequence] values)} of one checkpoint, served by /annotations."""
    client = make_client(logdir)
    q = dict(run=RUN, tag=tag, step=step)
    info = json.loads(client.get(PREFIX + "/sequences?" + urllib.parse.urlencode(q)).get_data())
    splits = np.cumsum(info["lengths"])[:-1]
    tracks = {}
    for entry in info["annotations"]:
        response = client.get(
            PREFIX + "/annotations?" + urllib.parse.urlencode(dict(q, name=entry["name"])))
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.headers["X-Annotation-Kind"] == entry["kind"]
        dtype = "<i4" if entry["kind"] == "categorical" else "<f4"
        assert response.headers["X-Array-Dtype"] == np.dtype(dtype).name
        values = np.frombuffer(response.get_data(), dtype=dtype)
        if entry["kind"] == "categorical":
            values = np.array(entry["categories"], dtype=object)[values]
        tracks[entry["name"]] = (entry, np.split(values, splits))
    return tracks


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_annotations_given_once_are_logged_with_every_checkpoint_and_layer(logdir, padding):
    """The demo's call: HiddenStateCallback(..., annotations={"depth": depth}), depth [N, T]
    ints in input order; pre-padded steps move with the states."""
    keras.utils.set_random_seed(3)
    x, y = token_data(n=24, pre=padding == "pre")
    probe = x[:10]
    valid = probe != 0
    depth = np.cumsum(np.where(probe % 2 == 0, 1, -1), axis=1) * valid  # ints, 0 at padding
    words = np.array(VOCAB, dtype=object)[probe]  # a categorical track: the token itself
    inputs = keras.Input((x.shape[1],), dtype="int32")
    hidden = keras.layers.Embedding(len(VOCAB), 3, mask_zero=True)(inputs)
    hidden = keras.layers.GRU(4, return_sequences=True, name="gru")(hidden)
    hidden = keras.layers.LSTM(3, name="lstm")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(hidden))
    cb = HiddenStateCallback(os.path.join(logdir, RUN), probe, vocabulary=VOCAB,
                             annotations={"depth": depth, "word": words})
    fit(model, x, y, cb, epochs=2)

    assert steps(logdir) == {"gru": [0, 1, 2], "lstm": [0, 1, 2]}
    expected_depth = [row[ok] for row, ok in zip(depth, valid)]
    for tag in ("gru", "lstm"):
        for step in (0, 2):
            tracks = read_annotations(logdir, tag, step)
            assert list(tracks) == ["depth", "word"]
            entry, served = tracks["depth"]
            assert entry == {"name": "depth", "kind": "numeric",
                             "min": float(min(r.min() for r in expected_depth)),
                             "max": float(max(r.max() for r in expected_depth))}
            for row, expected in zip(served, expected_depth):
                np.testing.assert_array_equal(row, expected.astype(np.float32))
            entry, served = tracks["word"]
            assert entry["categories"] == sorted(set(words[valid].tolist()))
            assert [list(row) for row in served] == [list(w[ok]) for w, ok in zip(words, valid)]


def test_annotations_are_checked_when_the_callback_is_made(logdir):
    probe = np.ones((5, 7), np.int32)
    cases = [
        ([[1] * 7] * 5, r"`annotations` is a list of 5 items; expected a mapping"),
        ({"depth": np.zeros((4, 7))},
         r"`annotations\['depth'\]` has shape \(4, 7\); expected \(5, \?\)"),
        ({"depth": np.zeros(5)}, r"`annotations\['depth'\]` has shape \(5,\); expected \(5, \?\)"),
        ({"": np.zeros((5, 7))}, r"`annotations` has the name ''; expected a non-empty name"),
        ({"z": np.zeros((5, 7), np.complex64)},
         r"`annotations\['z'\]` has dtype complex64; expected strings"),
    ]
    for annotations, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            HiddenStateCallback(logdir, probe, annotations=annotations)


def test_annotations_with_other_steps_than_the_layer_are_named_when_training_begins(logdir):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((6, 8, 2)).astype(np.float32)
    model = keras.Sequential([keras.Input((8, 2)), keras.layers.Conv1D(3, 3), keras.layers.GRU(2),
                              keras.layers.Dense(2, activation="softmax")])
    cb = HiddenStateCallback(logdir, x, annotations={"depth": np.zeros((6, 8))})
    cb.set_model(model)
    with pytest.raises(ValueError, match=r"`annotations\['depth'\]` has 8 steps but layer "
                                         r"'gru\w*' has 6; expected one value per step"):
        cb.on_train_begin()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
