"""What is logged: the record's fields and their validation, its binary codec and
plugin metadata, the TensorFlow summary op and its TensorFlow-free twin, the writer."""
