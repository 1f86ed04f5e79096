"""The alignment rule on small real checkpoints: a Keras LSTM trained on handwritten digits.

The checkpoints are those of `demo/train.py --dataset digits` (scikit-learn's bundled
8 x 8 digits read row by row; real training from the untrained model on), shortened to
6 epochs and 200 probe images (1,600 points), read back through TensorBoard's data
provider. Every expectation is measured here against a cold layout of the same
checkpoint: trustworthiness (k=10) of an aligned layout within 0.01 of the cold one's.
"""

import subprocess
import sys

import numpy as np
import pytest
from scipy.spatial import procrustes
from sklearn.manifold import trustworthiness

from tb_rnn_hidden import projection
from tb_rnn_hidden.projection import quality, tsne
from tests.support.paths import DEMO
from tests.support.plugin_client import make_data_provider

PARAMS = projection.ProjectionParams(align="neighbor")


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    """{step: [1600, 32] float32} of a real training run, untrained model = step 0."""
    from tensorboard import context

    from tb_rnn_hidden.server import reader as checkpoint_reader

    logdir = str(tmp_path_factory.mktemp("digits") / "logs")
    result = subprocess.run(
        [sys.executable, DEMO, "--dataset", "digits", "--probe", "200", "--epochs", "6",
         "--cells", "lstm", "--no-serve", "--logdir", logdir],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    reader = checkpoint_reader.CheckpointReader(make_data_provider(logdir, {"rnn_hidden": 0}))
    ctx = context.RequestContext()
    steps = reader.list_series(ctx, "")["digits"]["lstm"]["steps"]
    assert steps == list(range(7))
    return {s: np.asarray(reader.checkpoint(ctx, "", "digits", "lstm", s).states, np.float32)
            for s in steps}


@pytest.fixture(scope="module")
def cold(states):
    return {step: projection.compute(x, projection.ProjectionParams()) for step, x in states.items()}


def trust(x, y):
    return trustworthiness(x, y, n_neighbors=10)


def test_every_checkpoint_chained_from_the_newest_is_as_faithful_as_a_cold_layout(states, cold):
    steps = sorted(states, reverse=True)
    previous = cold[steps[0]]
    modes = {}
    for step, after in zip(steps[1:], steps):
        layout = projection.compute(states[step], PARAMS, init=previous.coords, reference=previous.info)
        x = states[step]
        assert trust(x, layout.coords) >= trust(x, cold[step].coords) - 0.01, (step, layout.info)
        modes[step] = layout.info["mode"]
        if layout.info["mode"] == "warm":
            # Close to its neighbour: far below the disparity of two cold layouts.
            aligned = procrustes(previous.coords, layout.coords)[2]
            independent = procrustes(cold[after].coords, cold[step].coords)[2]
            assert aligned < independent / 2, (step, aligned, independent)
            # The chain's reference is a faithful layout's, never a warm one's own.
            assert layout.info["reference_trustworthiness"] == previous.info["reference_trustworthiness"]
        else:
            assert layout.info["mode"] == "relayout"
            assert layout.info["reference_trustworthiness"] == layout.info["trustworthiness"]
        previous = layout
    # Late training moves the states little: the last transition keeps the warm start.
    assert modes[steps[1]] == "warm", modes


def test_the_untrained_model_never_wears_the_trained_models_layout(states, cold):
    # Play from the newest checkpoint: step 0 aligned to the last layout directly.
    last = max(states)
    layout = projection.compute(states[0], PARAMS, init=cold[last].coords, reference=cold[last].info)
    info = layout.info
    assert info["mode"] == "relayout", info
    # The warm start it tried was judged unfaithful, and the re-layout is not.
    assert info["warm_trustworthiness"] < info["reference_trustworthiness"] - tsne.WARM_TOLERANCE
    assert info["warm_iterations"] <= tsne.WARM_PROBE
    assert trust(states[0], layout.coords) >= trust(states[0], cold[0].coords) - 0.01
    # Rotated onto the neighbour: no flip or turn against it.
    centred = layout.coords - layout.coords.mean(axis=0)
    rotated = quality.procrustes_rotate(centred, cold[last].coords)
    np.testing.assert_allclose(rotated - rotated.mean(axis=0), centred, atol=1e-3 * np.abs(centred).max())


def test_info_reports_the_work_done(states, cold):
    last = max(states)
    info = cold[last].info
    assert info["mode"] == "cold" and info["converged"] is True
    assert info["early_exaggeration_iterations"] == tsne.EARLY_EXAGGERATION_ITERATIONS
    assert 0 < info["iterations"] <= PARAMS.iterations and info["iterations"] % tsne.CHUNK == 0
    assert info["trustworthiness"] == pytest.approx(quality.trustworthiness(states[last], cold[last].coords), abs=1e-5)
    assert info["reference_trustworthiness"] == info["trustworthiness"]
    assert info["kl_divergence"] > 0
