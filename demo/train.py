"""Train recurrent classifiers, log their hidden states every epoch, open TensorBoard.

    python demo/train.py                         # generated reviews, offline (the main job)
    python demo/train.py --cells lstm            # the LSTM alone (one run)
    python demo/train.py --dataset imdb          # the paper's IMDB case (Keras' files needed)
    python demo/train.py --dataset reuters       # the paper's Reuters top-5 topics case
    python demo/train.py --dataset digits        # scikit-learn's digits, rows as 8 steps (offline)
    python demo/train.py --probe 4500            # a larger probe set (~52k points per checkpoint)
    python demo/train.py --no-serve --quick      # small and fast: log only

By default an LSTM (run `<dataset>`, tag "lstm") and a GRU of the same size
(run `<dataset>-gru`, tag "gru") train on the same data from the same seed and
log the same probe sequences, so that compare mode has two runs to put side
by side. Logging is one line in `fit`:
`callbacks=[HiddenStateCallback(logdir, probe_x, probe_y, ...)]`. It logs the
untrained model as step 0, then every epoch.
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


# Per recurrent cell: its Keras layer (named as the tag it logs) and the suffix of its run's name.
CELLS = {"lstm": ("LSTM", ""), "gru": ("GRU", "-gru")}


def cell_list(value):
    """`--cells`: comma-separated names from CELLS, each once, in the order given."""
    cells = [cell.strip().lower() for cell in value.split(",") if cell.strip()]
    unknown = [cell for cell in cells if cell not in CELLS]
    if not cells or unknown or len(set(cells)) != len(cells):
        raise argparse.ArgumentTypeError(
            "%r: expected distinct cells from %s, comma-separated (e.g. lstm,gru)"
            % (value, ", ".join(CELLS)))
    return cells


def load(name, data_dir, quick, probe):
    if name == "generated":
        if quick:
            return datasets.generated(num_test=500)
        return datasets.generated(num_test=max(2000, probe or 0))
    if name == "digits":
        return datasets.digits(train_fraction=0.5)
    loader = {"imdb": datasets.imdb, "reuters": datasets.reuters}[name]
    return loader(data_dir)


def build_model(data, embedding, units, learning_rate=0.001, cell="lstm"):
    """Token ids through an embedding (masked padding), or numeric steps as they are, into `cell`."""
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
            getattr(tf.keras.layers, CELLS[cell][0])(units, name=cell),
            tf.keras.layers.Dense(len(data.class_names), activation="softmax", name="prediction"),
        ]
    )
    model.compile(tf.keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def run_name(data, cell):
    """The run a cell's model logs to: the data set's name, "-gru" added for the GRU."""
    return data.name + CELLS[cell][1]


def train_cell(cell, data, args, probe_x, probe_y):
    """Trains one model with `cell` from seed 0, logging the probe set to its own run.

    Returns its test accuracy and the step of its last checkpoint.
    """
    import tensorflow as tf

    from tb_rnn_hidden.keras import HiddenStateCallback

    config = CONFIGS[args.dataset]
    epochs = args.epochs or (4 if args.quick else config["epochs"])
    layer = CELLS[cell][0]
    tf.keras.utils.set_random_seed(0)  # each model alike, whichever trains first
    model = build_model(data, config["embedding"], config["units"],
                        config.get("learning_rate", 0.001), cell)
    run_dir = os.path.join(args.logdir, run_name(data, cell))
    callback = HiddenStateCallback(
        run_dir,
        probe_x,
        probe_y,
        vocabulary=data.vocabulary,
        class_names=data.class_names,
        every_n_batches=args.every_n_batches,
        description="%s(%d) on the first %d test sequences of %s"
        % (layer, config["units"], len(probe_x), data.name),
    )
    print("training %s(%d) on %d %s sequences, logging %d probe sequences to %s every %s"
          % (layer, config["units"], len(data.x_train), data.name, len(probe_x), run_dir,
             "%d batches" % args.every_n_batches if args.every_n_batches else "epoch"))
    start = time.time()
    model.fit(data.x_train, data.y_train, batch_size=config["batch_size"], epochs=epochs,
              validation_data=(data.x_test, data.y_test), callbacks=[callback],
              verbose=serving.keras_verbosity(args.quick))
    _, accuracy = model.evaluate(data.x_test, data.y_test, verbose=0)
    print("%s test accuracy: %.3f on %d test sequences (%.0f s)"
          % (layer, accuracy, len(data.x_test), time.time() - start))
    if args.every_n_batches:
        batches = epochs * -(-len(data.x_train) // config["batch_size"])
        print("logged %d checkpoints (step 0 = untrained, then every %d batches) to %s"
              % (batches // args.every_n_batches + 1, args.every_n_batches, run_dir))
        return accuracy, batches - batches % args.every_n_batches
    print("logged %d checkpoints (epoch 0 = untrained) to %s" % (epochs + 1, run_dir))
    return accuracy, epochs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(CONFIGS), default="generated")
    parser.add_argument("--cells", type=cell_list, default="lstm,gru",
                        help="the models to train, one run each: lstm (run <dataset>), "
                        "gru (run <dataset>-gru); default lstm,gru")
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

    probe = args.probe or CONFIGS[args.dataset]["probe"]
    probe_x, probe_y = data.x_test[:probe], data.y_test[:probe]
    trained = {cell: train_cell(cell, data, args, probe_x, probe_y) for cell in args.cells}
    serving.open_tensorboard(args, expected={
        run_name(data, cell): (cell, last_step) for cell, (_, last_step) in trained.items()})
    return {cell: accuracy for cell, (accuracy, _) in trained.items()}


if __name__ == "__main__":
    main()
