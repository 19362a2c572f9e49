"""Offline SDPO (the papers' WildChat/WildFeedback use): logged conversations become
(x = last k messages, y = assistant turn, o = next user message) samples, then LoRA training.

Parsing is strict and line-numbered (bad lines are skipped or rejected, never guessed at);
training writes its JSONL log one line per step, so a crash keeps everything done so far.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from sdpo.adapters import save_adapter
from sdpo.config import SDPOConfig
from sdpo.errors import ConfigError, SampleError
from sdpo.files import write_replacing
from sdpo.hindsight import HindsightSample, end_of_turn_id

ROLES = ("system", "user", "assistant", "tool")
ON_ERROR = ("skip", "reject")
LOG_FILE = "training_log.jsonl"
ADAPTER_DIR = "adapter"
CHECKPOINT_DIR = "checkpoint"
MANIFEST_FILE = "distill.json"
# How many further bad lines a rejection message names before summarising.
_SHOWN_PROBLEMS = 5


@dataclass(frozen=True)
class OfflineExample:
    """One (x, y, o) tuple: `messages` is x, `response` is y, `follow_up` is o.

    `line` is the 1-based line of the conversation in its file and `turn` the index of the
    assistant message y inside that conversation, so every sample traces back to its source.
    """

    line: int
    turn: int
    messages: list[dict[str, str]]
    response: str
    follow_up: str


@dataclass(frozen=True)
class LineProblem:
    """A malformed line: its 1-based number and what is wrong with it."""

    line: int
    problem: str


@dataclass(frozen=True)
class ParsedConversations:
    """What a conversation file yielded: the tuples, the bad lines (when skipped) and counts."""

    source: str
    examples: list[OfflineExample]
    problems: list[LineProblem]
    conversations: int
    without_tuples: int
    """Valid conversations that held no assistant turn followed by a user message."""


def check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ConfigError(name, f"bad value {value!r}", f"choices: {', '.join(choices)}")


def check_positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(name, f"bad value {value!r}", "need an integer >= 1")


def validate_conversation(value: Any) -> list[dict[str, str]]:
    """The messages of one parsed JSON line; raises ValueError saying what is wrong.

    A conversation is a non-empty list of objects with a `role` in ROLES and a non-empty
    string `content`. Other keys (timestamps, ids in real logs) are allowed and dropped.
    """
    if not isinstance(value, list):
        raise ValueError(f"expected a JSON list of messages, got {type(value).__name__}")
    if not value:
        raise ValueError("empty conversation")
    messages = []
    for index, message in enumerate(value):
        where = f"message {index}"
        if not isinstance(message, dict):
            raise ValueError(f"{where}: expected an object with 'role' and 'content', got {type(message).__name__}")
        for key in ("role", "content"):
            if key not in message:
                raise ValueError(f"{where}: missing {key!r}")
        role, content = message["role"], message["content"]
        if role not in ROLES:
            raise ValueError(f"{where}: unknown role {role!r} (roles: {', '.join(ROLES)})")
        if not isinstance(content, str):
            raise ValueError(f"{where}: 'content' must be a string, got {type(content).__name__}")
        if not content.strip():
            raise ValueError(f"{where}: empty 'content'")
        try:
            content.encode("utf-8")  # a lone \ud800 escape parses, then crashes the writer
        except UnicodeEncodeError as err:
            bad = f"\\u{ord(content[err.start]):04x}"
            raise ValueError(f"{where}: 'content' holds a lone surrogate ({bad}), not valid Unicode") from None
        messages.append({"role": role, "content": content})
    return messages


def split_conversation(messages: Sequence[dict[str, str]], k: int) -> list[tuple[int, list[dict[str, str]], str, str]]:
    """(turn, x, y, o) for every assistant turn that answers a user and gets a user reply.

    x is the last `k` messages before the assistant turn; a leading system message is kept
    on top of those k because it sets the scene for every turn, it is not history.
    """
    check_positive("k", k)
    system = [dict(messages[0])] if messages and messages[0]["role"] == "system" else []
    out = []
    for turn in range(1, len(messages) - 1):
        here, before, after = messages[turn], messages[turn - 1], messages[turn + 1]
        # The hindsight teacher folds o into the user turn that y answers: it must be right before y.
        if here["role"] != "assistant" or before["role"] != "user" or after["role"] != "user":
            continue
        start = max(len(system), turn - k)
        x = system + [dict(m) for m in messages[start:turn]]
        out.append((turn, x, here["content"], after["content"]))
    return out


def parse_conversations(
    lines: Iterable[bytes | str],
    k: int = 4,
    on_error: str = "skip",
    source: str = "<conversations>",
) -> ParsedConversations:
    """Parse JSONL conversations (one JSON list of {role, content} per line; blank lines ignored).

    `on_error="skip"` keeps going and returns the bad lines in `problems`; `"reject"` raises
    `SampleError` naming the first bad line (and how many more there are) after reading all.
    """
    check_positive("k", k)
    check_choice("on_error", on_error, ON_ERROR)
    examples: list[OfflineExample] = []
    problems: list[LineProblem] = []
    conversations = without = 0
    for number, raw in enumerate(lines, start=1):
        try:
            value = _decode_json(raw, first=number == 1)
            if value is _BLANK:
                continue
            messages = validate_conversation(value)
        except ValueError as err:
            problems.append(LineProblem(number, str(err)))
            continue
        conversations += 1
        tuples = split_conversation(messages, k)
        without += not tuples
        examples.extend(OfflineExample(number, turn, x, y, o) for turn, x, y, o in tuples)
    if problems and on_error == "reject":
        first, rest = problems[0], problems[1:]
        more = ""
        if rest:
            shown = ", ".join(str(p.line) for p in rest[:_SHOWN_PROBLEMS])
            more = f"; {len(rest)} more bad line(s): {shown}" + (", ..." if len(rest) > _SHOWN_PROBLEMS else "")
        raise SampleError(
            f"{source}, line {first.line}", first.problem + more,
            "fix the lines or pass on_error='skip' to leave them out",
        )
    return ParsedConversations(source, examples, problems, conversations, without)


def read_conversations(path: str | Path, k: int = 4, on_error: str = "skip") -> ParsedConversations:
    """`parse_conversations` over a file; a missing or unreadable file raises `SampleError`."""
    file = Path(path).expanduser()
    if not file.is_file():
        problem = "is a directory, not a JSONL file" if file.is_dir() else "file not found"
        raise SampleError(str(file), problem, "pass a JSONL file with one conversation per line")
    return parse_conversations(file.read_bytes().split(b"\n"), k=k, on_error=on_error, source=str(file))


# A blank line: neither a conversation nor an error (JSON `null` is an error, so not None).
_BLANK = object()


def _decode_json(raw: bytes | str, first: bool) -> Any:
    if isinstance(raw, bytes):
        if first and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a byte-order mark from Windows editors is not content
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(f"not valid UTF-8 (byte {raw[err.start]:#04x} at column {err.start + 1})") from None
    if not raw.strip():
        return _BLANK
    try:
        return json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"malformed JSON: {err.msg} at column {err.colno}") from None
    except RecursionError:
        # A line nested thousands deep: no conversation is, and the parser would overflow.
        raise ValueError("JSON nested too deeply") from None
    except ValueError:  # Python's int-conversion limit, raised as a bare ValueError
        raise ValueError("integer with more than 4300 digits") from None


# ---------------------------------------------------------------------------- text -> token ids


def encode_response(tokenizer: Any, text: str, eot_id: int | None = None) -> list[int]:
    """Token ids of an assistant turn as the policy would generate it: text, then end of turn."""
    eot = end_of_turn_id(tokenizer) if eot_id is None else eot_id
    return [int(i) for i in tokenizer.encode(text, add_special_tokens=False)] + [eot]


def to_samples(tokenizer: Any, examples: Sequence[OfflineExample]) -> list[HindsightSample]:
    """HindsightSamples of `examples` (response ids end with the end-of-turn token)."""
    eot = end_of_turn_id(tokenizer)
    return [HindsightSample(list(e.messages), encode_response(tokenizer, e.response, eot), e.follow_up) for e in examples]


# ---------------------------------------------------------------------------- training


def batch_order(count: int, batch_size: int, epochs: int, seed: int) -> list[tuple[int, list[int]]]:
    """(epoch, example indices) per update: each epoch a fresh seeded shuffle, last batch may be short."""
    check_positive("batch_size", batch_size)
    check_positive("epochs", epochs)
    order: list[tuple[int, list[int]]] = []
    for epoch in range(epochs):
        indices = list(range(count))
        random.Random(f"{seed}:{epoch}").shuffle(indices)
        order.extend((epoch, indices[i : i + batch_size]) for i in range(0, count, batch_size))
    return order


@dataclass
class DistillResult:
    """Where the outputs went and what the training did."""

    steps: int
    skipped_steps: int
    examples: int
    seconds: float
    log_path: Path
    adapter_path: Path
    checkpoint_path: Path
    final_loss: float | None = None
    records: list[dict[str, Any]] = field(default_factory=list, repr=False)


def distill(
    model: Any,
    tokenizer: Any,
    examples: Sequence[OfflineExample],
    out_dir: str | Path,
    config: Any = None,
    batch_size: int = 4,
    epochs: int = 1,
    save_every: int = 0,
    seed: int = 0,
    on_step: Callable[[dict[str, Any], int], None] | None = None,
    provenance: dict[str, Any] | None = None,
) -> DistillResult:
    """Train LoRA adapters on `model` with SDPO over `examples`.

    Writes `out_dir/training_log.jsonl` (one line per update, flushed as it goes), the
    updater checkpoint every `save_every` updates (0: only at the end) into
    `out_dir/checkpoint`, the final peft adapter into `out_dir/adapter`, and last the
    manifest `out_dir/distill.json` (settings, outcome, paths; `provenance` is merged in,
    e.g. the conversation file and model name). `on_step(log_line, total_steps)` is called
    after each update (progress display).
    """
    from sdpo.updater import SDPOUpdater

    if not examples:
        raise SampleError("examples", "nothing to train on", "give at least one (x, y, o) tuple")
    if isinstance(save_every, bool) or not isinstance(save_every, int) or save_every < 0:
        raise ConfigError("save_every", f"bad value {save_every!r}", "need an integer >= 0 (0: only at the end)")
    order = batch_order(len(examples), batch_size, epochs, seed)
    samples = to_samples(tokenizer, examples)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    updater = SDPOUpdater(model, tokenizer, config or SDPOConfig())
    records: list[dict[str, Any]] = []
    log_path = out / LOG_FILE
    # Never through a link planted in a shared output folder (a dangling one would create its target).
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    with os.fdopen(log_fd, "w", encoding="utf-8") as log:
        for epoch, indices in order:
            record = updater.step([samples[i] for i in indices])
            line = {
                "epoch": epoch,
                **record.to_dict(),
                "sources": [{"line": examples[i].line, "turn": examples[i].turn} for i in indices],
            }
            log.write(json.dumps(line) + "\n")
            log.flush()
            records.append(line)
            if save_every and updater.steps % save_every == 0 and updater.steps < len(order):
                updater.save(out / CHECKPOINT_DIR)
            if on_step is not None:
                on_step(line, len(order))
    updater.save(out / CHECKPOINT_DIR)
    save_adapter(updater.model, out / ADAPTER_DIR)
    losses = [r["loss"] for r in records if not r["skipped"] and r["loss"] is not None]
    result = DistillResult(
        steps=len(records),
        skipped_steps=sum(r["skipped"] for r in records),
        examples=len(examples),
        seconds=time.perf_counter() - started,
        log_path=log_path,
        adapter_path=out / ADAPTER_DIR,
        checkpoint_path=out / CHECKPOINT_DIR,
        final_loss=losses[-1] if losses else None,
        records=records,
    )
    write_manifest(out, result, updater.config, batch_size, epochs, seed, provenance or {})
    return result


def write_manifest(out: Path, result: DistillResult, config: Any, batch_size: int, epochs: int,
                   seed: int, provenance: dict[str, Any]) -> None:
    """`distill.json`: what was trained, how, and where the outputs are (written last, so its
    presence means the distillation finished)."""
    manifest = {
        **provenance,
        "batch_size": batch_size,
        "epochs": epochs,
        "seed": seed,
        "tuples": result.examples,
        "steps": result.steps,
        "skipped_steps": result.skipped_steps,
        "final_loss": result.final_loss,
        "seconds": round(result.seconds, 2),
        "sdpo_config": config.to_dict(),
        "adapter": str(result.adapter_path),
        "checkpoint": str(result.checkpoint_path),
        "training_log": str(result.log_path),
    }
    write_replacing(out / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")
