"""Data for the demo: generated languages (offline), digits, and the paper's two cases.

The generated ones are a review language (negation, contrast) for the
classifier of `train.py`, and LSTMVis' first case, a bracket language with
each step's nesting depth, for the language model of `nesting.py`.

The IMDB and Reuters cases read Keras' own dataset files (`imdb.npz`,
`reuters.npz` and their word indexes) with Keras' preprocessing (shuffle
seed 113, start/OOV markers, index offset 3). They read the files directly
instead of calling `keras.datasets.*.load_data`, which would try to download
them, so a machine without internet gets a clear message instead.
"""

import json
import os
from dataclasses import dataclass, field

import numpy as np

PAD, START, OOV, INDEX_FROM = 0, 1, 2, 3


@dataclass
class Dataset:
    """Padded token ids, labels, and what the demo needs to describe them."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    vocabulary: list  # id -> token
    class_names: list
    notes: dict = field(default_factory=dict)
    # Per-step tracks of the test sequences, {name: [N, T]}: the logging API's `annotations`.
    test_annotations: dict = field(default_factory=dict)


# --- Generated review language -------------------------------------------------

_SUBJECTS = ["the film", "the plot", "the acting", "the ending", "the music", "the story"]
_VERBS = ["was", "is", "seemed", "felt"]
_ADVERBS = ["really", "quite", "very", "truly"]
_POSITIVE = ["good", "great", "wonderful", "brilliant", "fun"]
_NEGATIVE = ["bad", "awful", "boring", "dull", "terrible"]
_FILLER = ["overall", "honestly", "i think", "in the end", "at times"]
GENERATED_WORDS = sorted(
    {w for phrase in _SUBJECTS + _VERBS + _ADVERBS + _POSITIVE + _NEGATIVE + _FILLER
     for w in phrase.split()} | {"not", "but", "although", "though", ",", "."}
)


def _clause(rng):
    """One opinion clause and its sentiment (1 positive, 0 negative)."""
    positive = rng.random() < 0.5
    negated = rng.random() < 0.35
    words = list(rng.choice(_SUBJECTS).split()) + [str(rng.choice(_VERBS))]
    if negated:
        words.append("not")
    if rng.random() < 0.4:
        words.append(str(rng.choice(_ADVERBS)))
    words.append(str(rng.choice(_POSITIVE if positive else _NEGATIVE)))
    return words, int(positive != negated)


def generate_review(rng):
    """A review and its label: the sentiment of the clause that wins.

    "A , but B": B decides (chains of "but" too: the last clause wins).
    "although A , B": B decides. "A , though B": A decides, so the model
    must remember A across B. Negation flips a clause: "the film was not
    good" is negative. A trained model's per-step predictions flip at "not",
    at "but" and at each adjective, and hold through "though".
    """
    words = [w for w in rng.choice(_FILLER).split()] if rng.random() < 0.3 else []
    first, label = _clause(rng)
    form = rng.random()
    if form < 0.3:
        words += first
        for _ in range(int(rng.integers(1, 3))):
            clause, label = _clause(rng)
            words += [",", "but"] + clause
    elif form < 0.45:
        second, label = _clause(rng)
        words += ["although"] + first + [","] + second
    elif form < 0.65:
        second, _ = _clause(rng)
        words += first + [",", "though"] + second
    else:
        words += first
    return words + ["."], label


def generated(num_train=8000, num_test=2000, max_length=40, seed=0):
    rng = np.random.default_rng(seed)
    vocabulary = ["<pad>", "<start>", "<oov>"] + GENERATED_WORDS
    index = {w: i for i, w in enumerate(vocabulary)}

    def make(count):
        ids = np.zeros((count, max_length), dtype=np.int32)
        labels = np.zeros(count, dtype=np.int32)
        for n in range(count):
            words, labels[n] = generate_review(rng)
            tokens = [index[w] for w in words][-max_length:]
            ids[n, max_length - len(tokens):] = tokens  # pre-padded, like pad_sequences
        return ids, labels

    x_train, y_train = make(num_train)
    x_test, y_test = make(num_test)
    return Dataset("generated", x_train, y_train, x_test, y_test, vocabulary,
                   ["negative", "positive"])


# --- Bracket language (LSTMVis' "parenthesis nesting" case) -----------------

NESTING_FILLERS = ("a", "b", "c", "d")
# Token ids: 0 pads; class k (the next character) is token id k + 1; the last class ends.
NESTING_VOCABULARY = ["<pad>", "(", ")"] + list(NESTING_FILLERS)
NESTING_CLASSES = NESTING_VOCABULARY[1:] + ["<end>"]


def bracket_sequence(rng, length, max_depth=4, p_open=0.35, p_close=0.25):
    """One balanced bracket string of `length` characters, and its depth after each one.

    A random walk: at each character open a bracket (unless at `max_depth`,
    or there is no room left to close it), close one (unless at depth 0), or
    write a filler letter; the last characters close whatever is still open.
    The depth at a step is the nesting depth after reading its character: an
    opening bracket counts itself, a closing one does not, so a bracketed
    range "(...)" is at depth >= 1 from its "(" up to, not including, its ")".
    Opening is likelier than closing so that deep nestings are common.
    """
    chars, depths, depth = [], [], 0
    while len(chars) + depth < length:
        room = length - len(chars) - depth  # characters left beyond the forced closes
        weights = np.array([
            p_open if depth < max_depth and room >= 2 else 0.0,
            p_close if depth > 0 else 0.0,
            1.0 - p_open - p_close,
        ])
        move = rng.choice(3, p=weights / weights.sum())
        if move == 0:
            depth += 1
            chars.append("(")
        elif move == 1:
            depth -= 1
            chars.append(")")
        else:
            chars.append(str(rng.choice(NESTING_FILLERS)))
        depths.append(depth)
    for depth in range(depth - 1, -1, -1):
        chars.append(")")
        depths.append(depth)
    return chars, depths


def nesting(num_train=4000, num_test=1000, min_length=20, max_length=48, max_depth=4, seed=0):
    """LSTMVis' bracket language as a next-character task, with the depth of every step.

    x: [N, max_length] token ids (`NESTING_VOCABULARY`), post-padded with 0.
    y: [N, max_length] the class of the next character (`NESTING_CLASSES`),
    "<end>" after the last one; 0 at padding (masked). Closing is impossible
    at depth 0, opening at `max_depth`, and a string ends only at depth 0, so
    predicting the next character well takes counting open brackets: the
    units that come to do so are the ones the LSTMVis story finds.
    `test_annotations["depth"]` [N, max_length] int32 is the depth after each
    test character (0 at padding). Lengths are uniform in [min_length, max_length].
    The test strings come from a generator of their own: they do not depend on
    `num_train`, so a quick run logs the same probe strings as a full one.
    """

    def make(count, stream):
        rng = np.random.default_rng([seed, stream])
        x = np.zeros((count, max_length), dtype=np.int32)
        y = np.zeros((count, max_length), dtype=np.int32)
        depth = np.zeros((count, max_length), dtype=np.int32)
        for n in range(count):
            length = int(rng.integers(min_length, max_length + 1))
            chars, depths = bracket_sequence(rng, length, max_depth)
            ids = [NESTING_VOCABULARY.index(c) for c in chars]
            x[n, :length] = ids
            y[n, :length] = [i - 1 for i in ids[1:]] + [len(NESTING_CLASSES) - 1]
            depth[n, :length] = depths
        return x, y, depth

    x_train, y_train, _ = make(num_train, 0)
    x_test, y_test, depth_test = make(num_test, 1)
    return Dataset("nesting", x_train, y_train, x_test, y_test, list(NESTING_VOCABULARY),
                   list(NESTING_CLASSES), test_annotations={"depth": depth_test})


# --- Handwritten digits (scikit-learn's bundled copy) ---------------------------


def digits(train_fraction=0.75, seed=0):
    """scikit-learn's 1,797 handwritten digits (8 x 8 pixels), read row by row.

    Each image is a sequence of 8 steps (its pixel rows, top to bottom) of 8
    values scaled to [0, 1]: a numeric sequence without tokens, 10 classes.
    The data ship inside scikit-learn (`sklearn.datasets.load_digits`), so this
    case runs offline. The test split is shuffled with `seed`.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)  # [N, 8 rows, 8 columns]
    y = bunch.target.astype(np.int32)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    split = int(round(len(x) * train_fraction))
    return Dataset("digits", x[:split], y[:split], x[split:], y[split:], None,
                   [str(d) for d in bunch.target_names])


# --- Keras dataset files -------------------------------------------------------


def keras_datasets_dir():
    """Where Keras keeps downloaded data sets: $KERAS_HOME/datasets or ~/.keras/datasets."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "datasets")


class MissingDatasetError(RuntimeError):
    pass


def _require(directory, names, dataset):
    paths = [os.path.join(directory, n) for n in names]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise MissingDatasetError(
            "The %s data set is not on this machine, and this demo does not download it.\n"
            "Missing: %s\n"
            "Put Keras' files there (on a machine with internet, "
            "`keras.datasets.%s.load_data()` and `keras.datasets.%s.get_word_index()` "
            "save them under ~/.keras/datasets/), or point --data-dir (or KERAS_HOME) at "
            "a folder that has them." % (dataset, ", ".join(missing), dataset, dataset)
        )
    return paths


def _vocabulary(word_index_path, size):
    with open(word_index_path) as f:
        word_index = json.load(f)
    vocabulary = ["<pad>", "<start>", "<oov>"] + ["<unused>"] * (size - INDEX_FROM)
    for word, i in word_index.items():
        if i + INDEX_FROM < size:
            vocabulary[i + INDEX_FROM] = word
    return vocabulary


def _keras_ids(sequences, num_words):
    """Keras' load_data preprocessing: start marker, index offset, OOV beyond num_words."""
    return [
        [START] + [w + INDEX_FROM if w + INDEX_FROM < num_words else OOV for w in seq]
        for seq in sequences
    ]


def _pad(sequences, max_length):
    """keras.utils.pad_sequences defaults: keep the last tokens, pad in front."""
    ids = np.zeros((len(sequences), max_length), dtype=np.int32)
    for n, seq in enumerate(sequences):
        seq = seq[-max_length:]
        ids[n, max_length - len(seq):] = seq
    return ids


def imdb(data_dir=None, num_words=10000, max_length=100):
    """The paper's IMDB case: reviews as the last 100 tokens, binary sentiment."""
    npz, word_index = _require(data_dir or keras_datasets_dir(),
                               ["imdb.npz", "imdb_word_index.json"], "imdb")
    with np.load(npz, allow_pickle=True) as f:
        x_train, y_train, x_test, y_test = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    rng = np.random.RandomState(113)
    train_order = np.arange(len(x_train))
    rng.shuffle(train_order)
    test_order = np.arange(len(x_test))
    rng.shuffle(test_order)
    x_train, y_train = x_train[train_order], y_train[train_order]
    x_test, y_test = x_test[test_order], y_test[test_order]
    return Dataset(
        "imdb",
        _pad(_keras_ids(x_train, num_words), max_length), np.asarray(y_train, np.int32),
        _pad(_keras_ids(x_test, num_words), max_length), np.asarray(y_test, np.int32),
        _vocabulary(word_index, num_words), ["negative", "positive"],
    )


# The label names of Keras' Reuters data set (keras.datasets.reuters.get_label_names).
REUTERS_TOPICS = (
    "cocoa grain veg-oil earn acq wheat copper housing money-supply coffee sugar trade "
    "reserves ship cotton carcass crude nat-gas cpi money-fx interest gnp meal-feed alum "
    "oilseed gold tin strategic-metal livestock retail ipi iron-steel rubber heat jobs lei "
    "bop zinc orange pet-chem dlr gas silver wpi hog lead"
).split()


def reuters(data_dir=None, num_words=10000, max_length=100, num_topics=5):
    """The paper's Reuters case: the most frequent topics (earn, acq, crude, money-fx, grain)."""
    npz, word_index = _require(data_dir or keras_datasets_dir(),
                               ["reuters.npz", "reuters_word_index.json"], "reuters")
    with np.load(npz, allow_pickle=True) as f:
        xs, labels = f["x"], f["y"]
    rng = np.random.RandomState(113)
    order = np.arange(len(xs))
    rng.shuffle(order)
    xs, labels = xs[order], np.asarray(labels[order], np.int64)
    split = int(len(xs) * 0.8)  # keras' test_split=0.2
    counts = np.bincount(labels[:split], minlength=len(REUTERS_TOPICS))
    topics = sorted(np.argsort(-counts, kind="stable")[:num_topics].tolist())
    remap = {t: k for k, t in enumerate(topics)}
    keep = np.isin(labels, topics)
    ids = _pad(_keras_ids(xs, num_words), max_length)
    y = np.array([remap.get(int(t), -1) for t in labels], np.int32)
    train, test = keep.copy(), keep.copy()
    train[split:] = False
    test[:split] = False
    return Dataset(
        "reuters", ids[train], y[train], ids[test], y[test],
        _vocabulary(word_index, num_words), [REUTERS_TOPICS[t] for t in topics],
    )
