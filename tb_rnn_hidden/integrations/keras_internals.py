"""Every private or undocumented Keras API the Keras callback relies on, in one place.

The callback reads a model's layer graph (which layer feeds which, with what
arguments) to replay its recurrent layers and its head. Keras 3 has no public
API for that graph, so each access below names the attribute it reads and why
the callback needs it. All were checked on TensorFlow 2.21 with Keras 3.15;
when upgrading Keras, this module is the one to recheck.
"""

__all__ = [
    "call_args",
    "call_kwargs",
    "first_output",
    "has_layer_graph",
    "inbound_node",
    "input_tensors",
    "inputs_structure",
    "is_getitem",
    "keras_history",
    "nodes_in_graph",
    "sequential_graph",
]


def sequential_graph(model):
    """The Functional graph a Sequential model wraps, or None while it is unbuilt.

    `Sequential._functional` (private): a built Sequential model keeps its
    layers as a Functional model there, the only place its layer graph exists.
    """
    return model._functional


def has_layer_graph(graph):
    """Whether `graph` is a Functional model with a layer graph (not a subclassed one).

    `Function._nodes` (private): only graph models have it.
    """
    return graph is not None and hasattr(graph, "_nodes") and bool(getattr(graph, "inputs", None))


def nodes_in_graph(graph, layer):
    """The nodes (calls) of `layer` that belong to `graph`, not to other models using it.

    `Operation._inbound_nodes` (private) lists every call of a layer;
    `Function._nodes` (private) holds the keys of a graph's nodes, made by
    `keras.src.ops.function.make_node_key` as "<id(layer)>_ib-<node index>".
    """
    return [
        node for i, node in enumerate(layer._inbound_nodes)
        if "%d_ib-%d" % (id(layer), i) in graph._nodes
    ]


def keras_history(tensor):
    """(layer, node index, output index) that produced a symbolic tensor.

    `KerasTensor._keras_history` (private): the only link from a tensor back
    to the layer call that made it, needed to walk from the model's output to
    its top recurrent layer.
    """
    return tensor._keras_history


def inbound_node(layer, node_index):
    """The node (call) of `layer` numbered `node_index` in its `keras_history`.

    `Operation._inbound_nodes` (private), as indexed by `KerasTensor._keras_history`.
    """
    return layer._inbound_nodes[node_index]


# `keras.src.ops.node.Node` is not exported by Keras: its attributes below are
# undocumented. They give the arguments a layer was called with in the model,
# so that the callback can call its replays with the very same inputs.


def call_args(node):
    """The positional arguments of a layer call (`Node.arguments.args`)."""
    return node.arguments.args


def call_kwargs(node):
    """The keyword arguments of a layer call (`Node.arguments.kwargs`), mask included."""
    return node.arguments.kwargs


def input_tensors(node):
    """Every symbolic tensor among a layer call's arguments (`Node.input_tensors`)."""
    return node.input_tensors


def first_output(node):
    """The first symbolic tensor a layer call returned (`Node.output_tensors`)."""
    return node.output_tensors[0]


def inputs_structure(graph):
    """The model's inputs as it was built: one tensor, a list or a dict.

    `Function._inputs_struct` (private): `graph.inputs` is always a flat list,
    and a probe pass built on it would take a dict-input model's probe inputs
    in another structure than `model(...)` does. Falls back to that list.
    """
    return getattr(graph, "_inputs_struct", graph.inputs)


def is_getitem(op):
    """Whether `op` is the operation Keras records for `x[...]` on a symbolic tensor.

    Its class, `keras.src.ops.numpy.GetItem`, is not exported: it is matched
    by name.
    """
    return type(op).__name__ == "GetItem"
