"""LSTMVis' first case: a character-level LSTM on a bracket language, logged with each step's depth.

    python demo/nesting.py                     # ~1 min: train, log every epoch, open TensorBoard
    python demo/nesting.py --no-serve --quick  # ~20 s: 6 epochs, log only (tests)

The model reads strings such as "c(ba(()d(abd(b)(b))))" one character at a
time and predicts the next character (a language model, as in LSTMVis). A
string closes only what it opened, opens at most 4 deep and ends only at
depth 0, so predicting well takes counting: some hidden units come to be on
while the depth is at least 2, 3 or 4. (Its next-character accuracy stays
near 0.41: the letters and brackets are random, only the grammar can be
learned.) The probe strings are logged with an annotation track `depth`
(the nesting depth after each character), the untrained model as step 0
and then every epoch, so the tab can show which units track depth, where
else they are on, and when they appeared. See "The LSTMVis story in five minutes" in README.md.

This is its own script rather than a `--dataset` of `train.py`: that one
trains sequence classifiers, this one a per-step language model (targets
at every step, no sequence labels).
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import datasets  # noqa: E402  (the demo's own modules, beside this script)
import serving  # noqa: E402

RUN = "nesting"
# Model and training. --quick stops after 6 epochs: by then some units track depth (see README).
UNITS, EMBEDDING, BATCH_SIZE, LEARNING_RATE = 32, 8, 32, 0.01
NUM_TRAIN, NUM_TEST = 4000, 500
EPOCHS, QUICK_EPOCHS = 12, 6


def build_model(data):
    """Characters through an embedding (padding masked), an LSTM, the next character at every step."""
    import tensorflow as tf

    model = tf.keras.Sequential([
        tf.keras.Input(shape=(None,), dtype="int32"),
        tf.keras.layers.Embedding(len(data.vocabulary), EMBEDDING, mask_zero=True),
        tf.keras.layers.LSTM(UNITS, return_sequences=True, name="lstm"),
        tf.keras.layers.Dense(len(data.class_names), activation="softmax", name="prediction"),
    ])
    model.compile(tf.keras.optimizers.Adam(LEARNING_RATE), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    serving.add_arguments(parser, default_logdir="nesting_logs")
    parser.add_argument("--epochs", type=int, help="default %d (%d with --quick)"
                        % (EPOCHS, QUICK_EPOCHS))
    parser.add_argument("--quick", action="store_true", help="%d epochs (tests)" % QUICK_EPOCHS)
    parser.add_argument("--probe", type=int, default=200,
                        help="probe strings logged at every checkpoint (~34 characters each)")
    args = parser.parse_args(argv)

    data = datasets.nesting(num_train=NUM_TRAIN, num_test=NUM_TEST)  # seeded: the same every run
    epochs = args.epochs or (QUICK_EPOCHS if args.quick else EPOCHS)

    import tensorflow as tf

    from tb_rnn_hidden.keras import HiddenStateCallback

    tf.keras.utils.set_random_seed(0)
    model = build_model(data)
    probe_x = data.x_test[:args.probe]
    depth = data.test_annotations["depth"][:args.probe]
    run_dir = os.path.join(args.logdir, RUN)
    callback = HiddenStateCallback(
        run_dir,
        probe_x,
        vocabulary=data.vocabulary,
        class_names=data.class_names,
        annotations={"depth": depth},
        description="LSTM(%d) language model on bracket strings: the next character at every "
        "step, for the first %d test strings; annotation `depth` is the nesting depth after "
        "each character" % (UNITS, len(probe_x)),
    )
    print("training on %d bracket strings, logging %d probe strings to %s every epoch"
          % (len(data.x_train), len(probe_x), run_dir))
    start = time.time()
    mask = (data.x_train > 0).astype("float32")  # per-step weights: padding does not count
    model.fit(data.x_train, data.y_train, sample_weight=mask, batch_size=BATCH_SIZE,
              epochs=epochs, callbacks=[callback], verbose=serving.keras_verbosity(args.quick))
    _, accuracy = model.evaluate(data.x_test, data.y_test, sample_weight=(data.x_test > 0)
                                 .astype("float32"), verbose=0)
    print("next-character accuracy: %.3f on %d test strings (%.0f s)"
          % (accuracy, len(data.x_test), time.time() - start))
    print("logged %d checkpoints (epoch 0 = untrained) to %s" % (epochs + 1, run_dir))
    serving.open_tensorboard(args)
    return accuracy


if __name__ == "__main__":
    main()
