"""What is derived from a logged checkpoint, computed once and served by every route."""
