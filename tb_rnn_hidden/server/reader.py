"""Reads logged checkpoints through TensorBoard's data provider, with a bounded cache.

A step's record can change: a training restarted in the same log dir writes
its steps again, and both loaders then drop the old records from that step on.
So every checkpoint request lists its run and tag again (a step no longer
listed is 404; the plugin-data version is checked there too), and decoded
blobs are cached under the record's identity (its wall time and blob keys,
then also its header's checksum), evicted least recently used once their
bytes exceed the budget.

Listing the tag (`list_blob_sequences`, ~0.3 ms under the Rust data server)
gives its latest step and wall time, which change whenever a record is added
or rewritten; the tag's records (`read_blob_sequences`, ~45 ms under the Rust
data server, 0.3 ms under the Python loader) are read again only then.
"""

from tensorboard import errors
from tensorboard.data import provider

from tb_rnn_hidden import memory_cache
from tb_rnn_hidden.analysis import derived
from tb_rnn_hidden.analysis import neighbors
from tb_rnn_hidden.analysis import token_search
from tb_rnn_hidden.analysis import units
from tb_rnn_hidden.records import codec
from tb_rnn_hidden.records import metadata

# Keep every checkpoint's blob references: read_blob_sequences needs a bound.
_ALL_SAMPLES = 2**31 - 1
DEFAULT_CACHE_BYTES = 1 << 30


class CheckpointReader:
    def __init__(self, data_provider, cache_bytes=DEFAULT_CACHE_BYTES):
        self._data_provider = data_provider
        self._cache = memory_cache.ByteBudgetCache(cache_bytes)

    def list_series(self, ctx, experiment_id):
        """{run: {tag: {"steps", "wall_times", "description", "display_name"}}}.

        A tag whose plugin data cannot be read is listed with an "error"
        instead of failing the whole listing.
        """
        listing = self._data_provider.list_blob_sequences(
            ctx, experiment_id=experiment_id, plugin_name=metadata.PLUGIN_NAME
        )
        sequences = self._data_provider.read_blob_sequences(
            ctx,
            experiment_id=experiment_id,
            plugin_name=metadata.PLUGIN_NAME,
            downsample=_ALL_SAMPLES,
        )
        result = {}
        for run, tags in listing.items():
            for tag, series in tags.items():
                data = sequences.get(run, {}).get(tag, [])
                entry = {
                    "steps": [d.step for d in data],
                    "wall_times": [d.wall_time for d in data],
                    "description": series.description,
                    "display_name": series.display_name,
                }
                try:
                    entry["version"] = metadata.parse_plugin_metadata(series.plugin_content).get(
                        "version", 0
                    )
                except ValueError as e:
                    entry["error"] = str(e)
                result.setdefault(run, {})[tag] = entry
        return result

    def series(self, ctx, experiment_id, run, tag):
        """Every checkpoint of one run and tag listed now (`BlobSequenceDatum`s), or None."""
        time_series = self._listed(ctx, experiment_id, run, tag)
        if time_series is None:
            return None
        return self._records(ctx, experiment_id, run, tag, time_series)

    def _listed(self, ctx, experiment_id, run, tag):
        """The tag's `BlobSequenceTimeSeries` as listed now, or None."""
        listing = self._data_provider.list_blob_sequences(
            ctx, experiment_id=experiment_id, plugin_name=metadata.PLUGIN_NAME,
            run_tag_filter=provider.RunTagFilter(runs=[run], tags=[tag]),
        )
        return listing.get(run, {}).get(tag)

    def _records(self, ctx, experiment_id, run, tag, time_series):
        """The tag's records, read again only when its latest step or wall time changes."""
        latest = (experiment_id, run, tag, time_series.max_step, time_series.max_wall_time)

        def read():
            sequences = self._data_provider.read_blob_sequences(
                ctx,
                experiment_id=experiment_id,
                plugin_name=metadata.PLUGIN_NAME,
                downsample=_ALL_SAMPLES,
                run_tag_filter=provider.RunTagFilter(runs=[run], tags=[tag]),
            )
            return sequences.get(run, {}).get(tag) or []

        return self._cache.get_or_compute(latest + ("series",), read)

    def _datum(self, ctx, experiment_id, run, tag, step):
        """The `BlobSequenceDatum` listed now for one step; NotFoundError if none.

        RecordError if the tag's plugin data is unreadable or the record has the
        wrong number of blobs; NewerRecordError if the plugin data is too new.
        """
        time_series = self._listed(ctx, experiment_id, run, tag)
        if time_series is None:
            raise errors.NotFoundError("no hidden states for run %r, tag %r" % (run, tag))
        _check_plugin_data(time_series.plugin_content)
        data = self._records(ctx, experiment_id, run, tag, time_series)
        for datum in data:
            if datum.step == step:
                # The count a record's version needs is checked with its header (Checkpoint).
                if not datum.values:
                    raise codec.RecordError("record at step %d has no blobs" % step)
                return datum
        raise errors.NotFoundError(
            "run %r, tag %r has no checkpoint at step %d (steps: %s)"
            % (run, tag, step, [d.step for d in data])
        )

    def pair_part(self, a, b, name, compute):
        """`compute()`: data derived from the `Checkpoint`s a and b together (a comparison),
        cached with the checkpoints' own parts under both identities, so that a record
        rewritten on either side is computed again."""
        return self._cache.get_or_compute(("pair", a.identity, b.identity, name), compute)

    def checkpoint(self, ctx, experiment_id, run, tag, step):
        """A `Checkpoint` of the record listed now for (run, tag, step); NotFoundError if absent."""
        datum = self._datum(ctx, experiment_id, run, tag, step)
        keys = tuple(ref.blob_key for ref in datum.values)
        record = (experiment_id, run, tag, step, datum.wall_time, keys)

        def read_blob(index):
            return self._data_provider.read_blob(ctx, blob_key=keys[index])

        return Checkpoint(self._cache, record, read_blob)


def _check_plugin_data(content):
    """NewerRecordError if the tag's plugin data is too new; RecordError if unreadable."""
    try:
        metadata.parse_plugin_metadata(content)
    except metadata.NewerPluginDataError as e:
        raise codec.NewerRecordError(str(e))
    except (TypeError, ValueError) as e:
        raise codec.RecordError(str(e))


class Checkpoint:
    """Lazily decoded parts of one record; each blob is read and verified at most once (cached).

    `record` identifies the record as listed (experiment, run, tag, step, wall
    time, blob keys); parts other than the header are cached under `identity`,
    which adds the header's checksum.
    """

    def __init__(self, cache, record, read_blob):
        self._cache = cache
        self._record = record
        self._read_blob = read_blob

    @property
    def identity(self):
        """A key that changes whenever the record does: what to cache its derived data by."""
        return self._record + (self.header.get("header_crc32c"),)

    def _part(self, name, compute):
        return self._cache.get_or_compute(self.identity + (name,), compute)

    def _blob(self, index):
        blob = self._read_blob(index)
        if not isinstance(blob, bytes):
            raise codec.RecordError(
                "blob %d is %s, not bytes: the record is not a string tensor"
                % (index, type(blob).__name__)
            )
        return blob

    @property
    def header(self):
        return self._cache.get_or_compute(self._record + ("header",), self._decode_header)

    def _decode_header(self):
        """The header, checked, and checked against the number of blobs listed (the
        version first: a newer record may have any number)."""
        header = codec.decode_header(self._blob(metadata.BLOB_HEADER))
        codec.check_blob_count(header, len(self._record[-1]))
        return header

    def _decoded(self, name, index, decode):
        return self._part(name, lambda: decode(self._blob(index), self.header))

    @property
    def lengths(self):
        return self._decoded("lengths", metadata.BLOB_LENGTHS, codec.decode_lengths)

    @property
    def labels(self):
        return self._decoded("labels", metadata.BLOB_LABELS, codec.decode_labels)

    @property
    def probabilities(self):
        return self._decoded(
            "probabilities", metadata.BLOB_PROBABILITIES, codec.decode_probabilities
        )

    @property
    def states(self):
        return self._decoded("states", metadata.BLOB_STATES, codec.decode_states)

    @property
    def vocabulary(self):
        return self._decoded(
            "vocabulary", metadata.BLOB_VOCABULARY, codec.decode_vocabulary
        )

    @property
    def token_ids(self):
        vocabulary = self.vocabulary
        return self._part(
            "token_ids",
            lambda: codec.decode_token_ids(
                self._blob(metadata.BLOB_TOKEN_IDS),
                self.header,
                len(vocabulary or ()),
            ),
        )

    @property
    def annotations(self):
        """The record's annotation tracks (`records.fields.CategoricalTrack` with int32
        `codes`, `NumericTrack` with float32 `values`, [P] each), in header order; []
        for a record without any (and for format versions 1 and 2)."""
        if not self.header["annotations"]:
            return []
        return self._decoded("annotations", metadata.BLOB_ANNOTATIONS, codec.decode_annotations)

    def annotation(self, name):
        """The track called `name`; NotFoundError naming the record's tracks if none is."""
        for track in self.annotations:
            if track.name == name:
                return track
        names = [entry["name"] for entry in self.header["annotations"]]
        raise errors.NotFoundError(
            "this checkpoint has no annotation track %r; its tracks: %s"
            % (name, ", ".join(repr(n) for n in names) if names else "none (logged without "
               "annotations)")
        )

    @property
    def offsets(self):
        """[N + 1] index of each sequence's first step in the step-major arrays."""
        return self._part("offsets", lambda: derived.offsets(self.lengths))

    @property
    def final_probabilities(self):
        """[N, C] the prediction at each sequence's last valid step, or None."""
        return derived.final_probabilities(self.probabilities, self.offsets)

    @property
    def predictions(self):
        """`analysis.derived.Predictions` of each sequence's last step."""
        return self._part(
            "predictions", lambda: derived.predictions(self.final_probabilities, self.labels)
        )

    @property
    def point_predictions(self):
        """`analysis.derived.point_predictions`: [P] int32 argmax of every step, or None."""
        return self._part("point_predictions",
                          lambda: derived.point_predictions(self.probabilities))

    @property
    def confidence_changes(self):
        """`analysis.derived.confidence_changes`: [P] float32, or None without probabilities."""
        probabilities = self.probabilities
        if probabilities is None:
            return None
        return self._part("confidence_changes",
                          lambda: derived.confidence_changes(probabilities, self.offsets))

    def last_flips(self, threshold):
        """`analysis.derived.last_flip_steps` at `threshold`: [N] int32, or None without
        probabilities (the tab's flips, as domain/flips.ts finds them)."""
        predictions = self.point_predictions
        if predictions is None:
            return None
        return self._part(("last_flips", float(threshold)), lambda: derived.last_flip_steps(
            self.offsets, predictions, self.confidence_changes, threshold))

    @property
    def unit_means(self):
        """`analysis.derived.unit_means`: [H] float64 mean of each unit over every step."""
        return self._part("unit_means", lambda: derived.unit_means(self.states))

    @property
    def final_states(self):
        """`analysis.derived.final_states`: [N, H] each sequence's last valid state."""
        return derived.final_states(self.states, self.offsets)

    @property
    def class_separation(self):
        """`analysis.derived.class_separation` of the final states by true label, or None."""
        return self._part("class_separation", lambda: derived.class_separation(self.final_states, self.labels))

    @property
    def distances(self):
        """`analysis.derived.step_distances`: [P - N] float32."""
        return self._part("distances", lambda: derived.step_distances(self.states, self.offsets))

    def on_units(self, threshold):
        """`analysis.units.pack_on` of the states at `threshold`: the bit-packed on/off
        matrix every match query at that threshold reads (P x H / 8 bytes)."""
        return self._part(("on_units", float(threshold)),
                          lambda: units.pack_on(self.states, threshold))

    @property
    def token_text(self):
        """`analysis.token_search.TokenText` of the tokens (regex search), or None."""
        token_ids = self.token_ids
        if token_ids is None:
            return None
        return self._part(
            "token_text",
            lambda: token_search.token_text(token_ids, self.offsets, self.vocabulary),
        )

    @property
    def neighbor_index(self):
        """`analysis.neighbors.ProjectedIndex` of the states (approximate neighbours)."""
        return self._part("neighbor_index", lambda: neighbors.projected_index(self.states))
