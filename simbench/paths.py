"""Where simbench's shipped files live, and what any path a user passes must satisfy.

Commands accept either a persona file path or the id of a shipped persona ("concise"),
so resolving that reference happens here, once; `check_path_length` is the one check of a
path's length every flag that takes a path runs before the path is touched.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from simbench.errors import InputError
from simbench.registry import closest

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
PACKAGE_DATA_DIR = PACKAGE_DIR / "prompts" / "data"
# The wheel maps the repository's personas/ folder here (pyproject.toml); a checkout has no copy.
PACKAGED_PERSONAS = PACKAGE_DIR / "shipped_personas"
# Conciseness is the preference SmolLM2-135M measurably learns from hindsight
# (docs/LOG.md, 2026-11-26).
DEFAULT_PERSONA = "concise"
PERSONA_SUFFIXES = (".yaml", ".yml")
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Linux's limits: a longer file name or path makes every system call on it fail with
# ENAMETOOLONG, which Path.exists()/is_file() raise instead of answering False.
NAME_MAX = 255
PATH_MAX = 4096


def check_path_length(path: str | Path, flag: str) -> None:
    """`path` fits the file system's limits (NAME_MAX bytes per name, PATH_MAX in all), else
    one `InputError` naming `flag`."""
    raw = os.fsencode(str(path))
    if len(raw) >= PATH_MAX:  # the limit counts the terminating NUL byte
        raise InputError(flag, f"path is {len(raw)} bytes, above the {PATH_MAX - 1}-byte limit", "use a shorter path")
    longest = max(raw.split(b"/"), key=len)
    if len(longest) > NAME_MAX:
        raise InputError(flag, f"a file or folder name in the path is {len(longest)} bytes, above the "
                         f"{NAME_MAX}-byte limit", "use shorter names")


def check_can_create(path: Path, flag: str, hint: str) -> None:
    """`path` (absent) can be created: its nearest existing ancestor is a writable folder.
    Else one `InputError` naming `flag`."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(flag, f"cannot create {path}: {parent} is not a folder", hint)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(flag, f"cannot create {path}: {parent} is not writable", hint)


def personas_dir() -> Path:
    """The shipped personas: package data `simbench/shipped_personas/` in an installed wheel, else the
    repository's top-level personas/ folder (a source checkout or editable install)."""
    folder = _personas_folder()
    if folder is not None:
        return folder
    hint = "reinstall simbench-online, or pass a persona file path"
    raise InputError(str(PACKAGED_PERSONAS), "shipped personas folder not found", hint)


def shipped_personas() -> list[Path]:
    """Every shipped persona file, sorted by name."""
    return sorted(p for p in personas_dir().iterdir() if p.suffix in PERSONA_SUFFIXES and p.is_file())


def default_persona_path() -> Path:
    """The default persona file (personas/concise.yaml)."""
    return resolve_persona(DEFAULT_PERSONA)


def resolve_persona(ref: str | Path, flag: str = "persona") -> Path:
    """A persona file from a path, or from the id of a shipped persona ("concise")."""
    check_path_length(ref, flag)
    path = Path(ref)
    if path.is_file():
        return path
    if path.exists():
        raise InputError(f"{flag} {str(ref)!r}", "is not a file")
    shipped = _shipped_path(path)
    if shipped is not None:
        return shipped
    text = str(ref)
    if _ID.match(text):
        for suffix in PERSONA_SUFFIXES:
            candidate = personas_dir() / f"{text}{suffix}"
            if candidate.is_file():
                return candidate

    hint = _persona_hint(text) if _personas_folder() is not None else None
    raise InputError(f"{flag} {text!r}", "no such persona file or shipped persona id", hint)


def _personas_folder() -> Path | None:
    """The first shipped-personas folder that exists (see `personas_dir`), or None."""
    return next((f for f in (PACKAGED_PERSONAS, REPO_ROOT / "personas") if f.is_dir()), None)


def _shipped_path(path: Path) -> Path | None:
    """`personas/...` (as README commands write it) read from the shipped personas when the
    cwd holds no such file, so those commands also work from an installed wheel."""
    parts = path.parts
    if path.is_absolute() or len(parts) < 2 or parts[0] != "personas" or ".." in parts:
        return None
    if not _personas_folder() is not None:
        return None
    candidate = personas_dir().joinpath(*parts[1:])
    return candidate if candidate.is_file() else None


def _persona_hint(text: str) -> str:
    """"did you mean" over the shipped ids and the personas in sub-folders, which are named
    here as "<folder>-<id>" (how users write them: "paper-no-emojis") but suggested by their
    path, the only way to pass them; a top-level id never stands in for a sub-folder's one."""
    names: dict[str, str] = {p.stem: p.stem for p in shipped_personas()}
    for folder in sorted(d for d in personas_dir().iterdir() if d.is_dir()):
        for path in sorted(p for p in folder.iterdir() if p.suffix in PERSONA_SUFFIXES and p.is_file()):
            names[f"{folder.name}-{path.stem}"] = _shown(path)
    key = text.removesuffix(Path(text).suffix) if Path(text).suffix in PERSONA_SUFFIXES else text
    close = closest(key.replace("/", "-").removeprefix("personas-"), list(names))
    if close is None:
        return f"shipped persona ids: {', '.join(p.stem for p in shipped_personas())}"
    return f"did you mean {names[close]!r}?"


def _shown(path: Path) -> str:
    """`path` relative to the working folder when it is inside it (shorter to copy), else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
