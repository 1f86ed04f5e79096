"""Cost of HiddenStateCallback per logged epoch, as a share of the epoch's training time.

Not a test: run it by hand and record the output in bench/RESULTS.md.

    python bench/callback_bench.py [--epochs 3]

Model and data are the demo's (demo/train.py, generated reviews): 8,000
training sequences padded to 40 steps, Embedding(16) + LSTM(32) + softmax,
batch 64, and 300 probe sequences. Baseline: one training epoch (fit, no
callback, verbose=0), measured in the same run. Goal: under 5%.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "demo"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()

    import datasets
    import tensorflow as tf
    import train

    from tb_rnn_hidden.keras import HiddenStateCallback

    config = train.CONFIGS["generated"]
    data = datasets.generated()
    tf.keras.utils.set_random_seed(0)
    model = train.build_model(len(data.vocabulary), 2, config["embedding"], config["units"])
    fit = dict(batch_size=config["batch_size"], verbose=0)
    model.fit(data.x_train, data.y_train, epochs=1, **fit)  # warm up tracing

    epoch_times = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.fit(data.x_train, data.y_train, epochs=1, **fit)
        epoch_times.append(time.perf_counter() - start)

    probe_x, probe_y = data.x_test[: config["probe"]], data.y_test[: config["probe"]]
    callback = HiddenStateCallback(
        tempfile.mkdtemp(prefix="callback_bench_"), probe_x, probe_y,
        vocabulary=data.vocabulary, class_names=data.class_names,
    )
    callback.set_model(model)
    start = time.perf_counter()
    callback.on_train_begin({})  # builds the probe model once, logs step 0
    first = time.perf_counter() - start
    log_times = []
    for epoch in range(args.epochs):
        start = time.perf_counter()
        callback.on_epoch_end(epoch, {})
        log_times.append(time.perf_counter() - start)
    callback.on_train_end({})

    epoch = statistics.median(epoch_times)
    log = statistics.median(log_times)
    print("data: %d training sequences x %d steps, LSTM(%d), %d probe sequences"
          % (len(data.x_train), data.x_train.shape[1], config["units"], len(probe_x)))
    print("medians of %d\n" % args.epochs)
    print("| what | seconds |")
    print("|---|---|")
    print("| training epoch (baseline) | %.3f |" % epoch)
    print("| callback, first log (builds the probe model, logs step 0) | %.3f |" % first)
    print("| callback, per logged epoch | %.3f |" % log)
    print("\ncallback per logged epoch / training epoch: %.1f%% (goal < 5%%)" % (100 * log / epoch))


if __name__ == "__main__":
    main()
