"""Run-folder logs: versioned JSONL record schemas and crash-safe appending/reading."""
