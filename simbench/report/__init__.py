"""Reports built from run folders alone: terminal tables, markdown and self-contained HTML."""
