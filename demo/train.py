"""Train a recurrent classifier, log its hidden states every epoch, open TensorBoard.

    python demo/train.py                         # generated reviews, offline (the main job)
    python demo/train.py --dataset imdb          # the paper's IMDB case (Keras' files needed)
    python demo/train.py --dataset reuters       # the paper's Reuters top-5 topics case
    python demo/train.py --dataset digits        # scikit-learn's digits, rows as 8 steps (offline)
    python demo/train.py --probe 4500            # a larger probe set (~52k points per checkpoint)
    python demo/train.py --no-serve --quick      # small and fast: log only

Logging is one line in `fit`: `callbacks=[HiddenStateCallback(logdir, probe_x, probe_y, ...)]`.
It logs the untrained model as step 0, then every epoch.
"""

import argparse
import os
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import datasets  # noqa: E402  (the demo's own modules, beside this script)
import serving  # noqa: E402

# Per data set: model size, probe set and training defaults (IMDB and Reuters as in the paper).
CONFIGS = {
    "generated": dict(embedding=16, units=32, probe=300, epochs=6, batch_size=64),
    "imdb": dict(embedding=32, units=100, probe=100, epochs=3, batch_size=64),
    "reuters": dict(embedding=32, units=20, probe=500, epochs=10, batch_size=64),
    # Numeric sequences: no embedding; the test half (898 digits, 7,184 points).
    "digits": dict(embedding=None, units=32, probe=898, epochs=12, batch_size=16, learning_rate=0.005),
}


def load(name, data_dir, quick, probe):
    if name == "generated":
        if quick:
            return datasets.generated(num_test=500)
        return datasets.generated(num_test=max(2000, probe or 0))
    if name == "digits":
        return datasets.digits(train_fraction=0.5)
    loader = {"imdb": datasets.imdb, "reuters": datasets.reuters}[name]
    return loader(data_dir)


def build_model(data, embedding, units, learning_rate=0.001):
    """Token ids through an embedding (masked padding), or numeric steps as they are."""
    import tensorflow as tf

    if embedding is None:
        inputs = [tf.keras.Input(shape=data.x_train.shape[1:], dtype="float32")]
    else:
        inputs = [
            tf.keras.Input(shape=(None,), dtype="int32"),
            tf.keras.layers.Embedding(len(data.vocabulary), embedding, mask_zero=True),
        ]
    model = tf.keras.Sequential(
        inputs + [
            tf.keras.layers.LSTM(units, name="lstm"),
            tf.keras.layers.Dense(len(data.class_names), activation="softmax", name="prediction"),
        ]
    )
    model.compile(tf.keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(CONFIGS), default="generated")
    serving.add_arguments(parser)
    parser.add_argument("--data-dir", help="folder with Keras' dataset files "
                        "(default: $KERAS_HOME/datasets or ~/.keras/datasets)")
    parser.add_argument("--epochs", type=int, help="default depends on the data set")
    parser.add_argument("--quick", action="store_true", help="smaller test set, 4 epochs (tests)")
    parser.add_argument("--every-n-batches", type=int,
                        help="log a checkpoint every N training batches instead of every epoch")
    parser.add_argument("--probe", type=int,
                        help="probe sequences logged at every checkpoint (default depends on "
                        "the data set; the generated reviews have ~11.6 steps each)")
    args = parser.parse_args(argv)

    try:
        data = load(args.dataset, args.data_dir, args.quick, args.probe)
    except datasets.MissingDatasetError as e:
        sys.exit("error: %s" % e)

    import tensorflow as tf

    from tb_rnn_hidden.keras import HiddenStateCallback

    config = CONFIGS[args.dataset]
    epochs = args.epochs or (4 if args.quick else config["epochs"])
    tf.keras.utils.set_random_seed(0)
    model = build_model(data, config["embedding"], config["units"],
                        config.get("learning_rate", 0.001))
    probe = args.probe or config["probe"]
    probe_x, probe_y = data.x_test[:probe], data.y_test[:probe]
    run_dir = os.path.join(args.logdir, data.name)
    callback = HiddenStateCallback(
        run_dir,
        probe_x,
        probe_y,
        vocabulary=data.vocabulary,
        class_names=data.class_names,
        every_n_batches=args.every_n_batches,
        description="LSTM(%d) on the first %d test sequences of %s"
        % (config["units"], len(probe_x), data.name),
    )
    print("training on %d %s sequences, logging %d probe sequences to %s every epoch"
          % (len(data.x_train), data.name, len(probe_x), run_dir))
    start = time.time()
    model.fit(data.x_train, data.y_train, batch_size=config["batch_size"], epochs=epochs,
              validation_data=(data.x_test, data.y_test), callbacks=[callback], verbose=serving.keras_verbosity(args.quick))
    _, accuracy = model.evaluate(data.x_test, data.y_test, verbose=0)
    print("test accuracy: %.3f on %d test sequences (%.0f s)"
          % (accuracy, len(data.x_test), time.time() - start))
    if args.every_n_batches:
        batches = epochs * -(-len(data.x_train) // config["batch_size"])
        print("logged %d checkpoints (step 0 = untrained, then every %d batches) to %s"
              % (batches // args.every_n_batches + 1, args.every_n_batches, run_dir))
    else:
        print("logged %d checkpoints (epoch 0 = untrained) to %s" % (epochs + 1, run_dir))
    serving.open_tensorboard(args)
    return accuracy


if __name__ == "__main__":
    main()
