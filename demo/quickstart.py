"""Quick start: train a small Keras LSTM, log its hidden states every epoch, open TensorBoard.

    python demo/quickstart.py --logdir demo_logs          # train, log, serve
    python demo/quickstart.py --logdir demo_logs --no-serve

The data is a generated review language, offline: sentences of filler words
with "good"/"bad", optionally negated by "not" ("not good" is negative).
The label is the sentiment of the last opinion. Per-step predictions are the
model's output head applied to the LSTM state at every step.
"""

import argparse
import os
import subprocess
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

FILLER = ["the", "film", "was", "plot", "acting", "and", "quite", "really", "story", "a"]
VOCABULARY = ["<pad>"] + FILLER + ["good", "bad", "not", "but"]
CLASS_NAMES = ["negative", "positive"]


def make_reviews(count, max_length, rng):
    """Token ids [count, max_length] (post-padded with 0), lengths and labels."""
    index = {word: i for i, word in enumerate(VOCABULARY)}
    ids = np.zeros((count, max_length), dtype=np.int32)
    lengths = np.zeros(count, dtype=np.int32)
    labels = np.zeros(count, dtype=np.int32)
    for n in range(count):
        words, label = [], int(rng.integers(2))
        for clause in range(int(rng.integers(1, 3))):
            if clause:
                words.append("but")
            words += list(rng.choice(FILLER, size=int(rng.integers(1, 4))))
            negate = rng.random() < 0.4
            label = int(rng.integers(2))
            opinion = ("good" if label else "bad") if not negate else ("bad" if label else "good")
            words += (["not"] if negate else []) + [opinion]
            words += list(rng.choice(FILLER, size=int(rng.integers(0, 3))))
        words = words[:max_length]
        ids[n, : len(words)] = [index[w] for w in words]
        lengths[n], labels[n] = len(words), label
    return ids, lengths, labels


def build_models(units=16):
    """The classifier, and a twin sharing its layers that outputs every step."""
    import tensorflow as tf

    inputs = tf.keras.Input(shape=(None,), dtype="int32")
    embedding = tf.keras.layers.Embedding(len(VOCABULARY), 8, mask_zero=True)
    lstm = tf.keras.layers.LSTM(units, return_sequences=True, name="lstm")
    head = tf.keras.layers.Dense(len(CLASS_NAMES), activation="softmax")
    states = lstm(embedding(inputs))
    # Prediction at the last valid step: the LSTM carries its state over padding.
    classifier = tf.keras.Model(inputs, head(states[:, -1]))
    per_step = tf.keras.Model(inputs, [states, head(states)])
    classifier.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return classifier, per_step


def log_checkpoint(per_step, probe, epoch):
    from tb_rnn_hidden import summary

    ids, lengths, labels = probe
    states, probabilities = per_step.predict(ids, verbose=0)
    tokens = np.array(VOCABULARY, dtype=object)[ids]
    summary.hidden_states(
        "lstm",
        states,
        probabilities,
        tokens=tokens,
        lengths=lengths,
        labels=labels,
        class_names=CLASS_NAMES,
        step=epoch,
        description="LSTM(16) of the quick-start sentiment model, on 200 probe reviews.",
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="demo_logs")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--no-serve", action="store_true", help="log only, do not start TensorBoard")
    parser.add_argument("--port", default="6006")
    args = parser.parse_args()

    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    train_ids, _, train_labels = make_reviews(4000, 16, rng)
    probe = make_reviews(200, 16, rng)
    classifier, per_step = build_models()
    writer = tf.summary.create_file_writer(os.path.join(args.logdir, "quickstart"))
    with writer.as_default():
        log_checkpoint(per_step, probe, 0)  # untrained
        for epoch in range(1, args.epochs + 1):
            print("epoch %d/%d" % (epoch, args.epochs))
            classifier.fit(train_ids, train_labels, batch_size=64, epochs=1, verbose=2)
            log_checkpoint(per_step, probe, epoch)
    writer.close()
    _, accuracy = classifier.evaluate(probe[0], probe[2], verbose=0)
    print("probe accuracy after %d epochs: %.3f" % (args.epochs, accuracy))
    print("logged %d checkpoints to %s" % (args.epochs + 1, args.logdir))
    if not args.no_serve:
        print("starting TensorBoard; open the 'RNN Hidden States' tab (Ctrl+C to stop)")
        subprocess.call(
            [sys.executable, "-m", "tensorboard.main", "--logdir", args.logdir, "--port", args.port]
        )


if __name__ == "__main__":
    main()
