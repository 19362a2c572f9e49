"""The feedback-reading preset: its recipe (rewrites, data, training)."""
