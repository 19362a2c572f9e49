"""Rows of a data set through `datasets`: a hub id, or a local json/jsonl/parquet file or folder.

The one place `datasets` is imported; a missing column is caught here, before any row is
converted, as one error naming the source and the column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Sequence

from simbench.distribution import install_hint
from simbench.errors import InputError, missing_package
from simbench.paths import check_path_length

# Local files `datasets` reads by suffix; a folder is read as the files of one format inside it.
FORMATS = {".json": "json", ".jsonl": "json", ".parquet": "parquet"}


def load_rows(src: str, split: str, columns: Sequence[str], schema: str) -> Iterator[dict[str, Any]]:
    """The rows of `src` (its `split`), each a dict; `columns` must all be present."""
    try:
        import datasets
    except ImportError as err:
        raise missing_package("simbench data", "datasets", str(err), install_hint("data")) from None
    check_path_length(src, "SRC")
    builder, files = _local_files(Path(src).expanduser())
    try:
        if builder is None:
            table = datasets.load_dataset(src, split=split)
        else:
            table = datasets.load_dataset(builder, data_files=[str(f) for f in files], split="train")
    except Exception as err:  # datasets raises many kinds (network, format, missing split)
        problem = " ".join(str(err).split())[:300] or type(err).__name__
        hint = ("pass a local json, jsonl or parquet file" if builder is None
                else "check the file is valid JSON lines or parquet")
        raise InputError(src, f"cannot load: {problem}", hint) from None
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InputError(
            f"{src}: column {missing[0]!r}", "missing",
            f"the {schema} schema has the columns {', '.join(columns)}; found {', '.join(table.column_names)}",
        )
    yield from table


def _local_files(path: Path) -> tuple[str | None, list[Path]]:
    """(datasets builder, files) of a local source; (None, []) for a hub id."""
    if path.is_file():
        builder = FORMATS.get(path.suffix.lower())
        if builder is None:
            raise InputError(str(path), f"unsupported file type {path.suffix!r}",
                             f"give a {', '.join(sorted(FORMATS))} file")
        return builder, [path]
    if path.is_dir():
        for builder in ("parquet", "json"):
            files = sorted(f for f in path.rglob("*") if f.is_file() and FORMATS.get(f.suffix.lower()) == builder)
            if files:
                return builder, files
        raise InputError(str(path), "folder holds no json, jsonl or parquet file", "pass a data file or a hub id")
    if path.suffix.lower() in FORMATS:
        raise InputError(str(path), "file not found", "check the path, or give a hub id such as nvidia/HelpSteer2")
    return None, []
