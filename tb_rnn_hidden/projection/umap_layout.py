"""UMAP layouts (umap-learn, the optional extra), rotated onto a neighbour's layout."""

from tb_rnn_hidden.projection import points


def project_umap(x, params, init, reference, report):
    """Called by `compute` only once it found umap-learn importable."""
    import umap

    n = x.shape[0]
    if not params.n_neighbors < n:
        raise ValueError(
            "n_neighbors is %d; expected n_neighbors < P = %d for these points: lower n_neighbors"
            % (params.n_neighbors, n)
        )
    report(0.0, "umap")
    x = points.prepare(x, params)
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=params.n_neighbors,
        min_dist=params.min_dist,
        metric="euclidean",
        random_state=params.seed,
        init=init if init is not None else "spectral",
    )
    y = reducer.fit_transform(x)
    # UMAP's own optimisation moves an init a lot (Procrustes disparity to it 0.06-0.08
    # on tanh-RNN states, about that of an independent run); rotating the result onto
    # the neighbour at least removes the flips and turns a user would see.
    return points.rotated(x, y, init)
