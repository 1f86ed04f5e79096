"""The TensorBoard side: the loader and its flags, the route table, request parsing
and the JSON error envelope, and the checkpoint reader."""
