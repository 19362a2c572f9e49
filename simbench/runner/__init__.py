"""Running episodes: the pure loop (`episode`), building + IO + checkpoints (`run`), grids (`sweep`)."""
