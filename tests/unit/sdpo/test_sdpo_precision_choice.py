"""`--precision auto` by measurement (sdpo/precision_choice.py): the faster path that passes its
known-error probe, measured once per CPU/torch and cached; an explicit bf16 that does not
compute in bf16 is refused, never recorded."""

from __future__ import annotations

import json

import pytest
from tinymodels import make_tiny_llama

from sdpo import precision_choice as choice
from sdpo.config import SDPOConfig
from sdpo.errors import ConfigError
from sdpo.precision import ProbeResult
from sdpo.updater import SDPOUpdater

KEY = {"cpu": "Test CPU 1", "flags": "avx2 fma", "torch": "2.13.0+cpu"}
GOOD = {"fp32": ProbeResult("fp32", 3e-7, 4e-7), "bf16": ProbeResult("bf16", 4e-3, 3e-3)}
# What oneDNN's ignored fp32_precision="bf16" flag gave on an AVX-512 BF16 CPU without AMX.
SILENT = {"fp32": GOOD["fp32"], "bf16": ProbeResult("bf16", 3e-7, 4e-7)}


def measured(probes, fp32=(0.01, 0.1), bf16=(0.02, 0.2)) -> choice.Measurement:
    seconds = {"fp32": dict(zip(("matmul", "step"), fp32))}
    if probes["bf16"].computes_as_named():
        seconds["bf16"] = dict(zip(("matmul", "step"), bf16))
    return choice.Measurement(key=KEY, measured="2026-12-08", probes=probes, seconds=seconds)


def test_auto_takes_the_faster_path_and_says_why():
    slower = choice.choose(measured(GOOD, bf16=(0.02, 0.2)))
    assert slower.path == "fp32"
    assert slower.reason.startswith("bf16 2.00x slower in start-up timing") and "Test CPU 1, avx2 fma" in slower.reason
    faster = choice.choose(measured(GOOD, bf16=(0.005, 0.05)))
    assert faster.path == "bf16" and faster.reason.startswith("bf16 2.00x faster")


def test_auto_never_takes_a_bf16_path_that_failed_its_probe():
    silent = choice.choose(measured(SILENT, bf16=(0.001, 0.01)))
    assert silent.path == "fp32" and "failed its known-error probe (error 4.0e-07" in silent.reason


def test_explicit_bf16_is_refused_where_its_probe_fails_and_fp32_needs_no_measurement():
    with pytest.raises(choice.PrecisionUnavailable, match="does not compute in bf16 on this CPU"):
        choice.resolve("bf16", "cpu", lambda: measured(SILENT))
    honoured = choice.resolve("bf16", "cpu", lambda: measured(GOOD))  # slower, but asked for
    assert honoured.path == "bf16" and "bf16-sized" in honoured.reason

    def never() -> choice.Measurement:
        raise AssertionError("fp32 and off-CPU auto must not measure")

    assert choice.resolve("fp32", "cpu", never) == choice.PathChoice("fp32", "asked for")
    assert choice.resolve("auto", "cuda:0", never).path == "fp32"
    with pytest.raises(choice.PrecisionUnavailable, match="CPU path"):
        choice.resolve("bf16", "cuda", never)
    with pytest.raises(ValueError, match="one of fp32, bf16, auto"):
        choice.resolve("fp16", "cpu", never)


def test_the_measurement_is_cached_per_cpu_and_torch_version(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMBENCH_CACHE", str(tmp_path))
    taken = []

    def measure_now() -> choice.Measurement:
        taken.append(1)
        return choice.Measurement(key=choice.machine_key(), measured="2026-12-08", probes=GOOD,
                                  seconds=measured(GOOD).seconds)

    first = choice.cached_measurement(measure_now)
    again = choice.cached_measurement(measure_now)
    assert len(taken) == 1 and again == first
    path = choice.cache_file(choice.machine_key())
    assert path.parent == tmp_path / "precision" and json.loads(path.read_text())["key"] == choice.machine_key()
    for field, value in (("cpu", "Other CPU"), ("torch", "9.9.9")):
        assert choice.cache_file({**choice.machine_key(), field: value}) != path
    # A file that does not hold this machine's key (or no JSON) is measured over, never trusted.
    path.write_text(json.dumps({**first.to_json(), "key": {**first.key, "torch": "0.1"}}))
    choice.cached_measurement(measure_now)
    path.write_text("{not json")
    choice.cached_measurement(measure_now)
    assert len(taken) == 3


def test_this_machine_is_measured_in_seconds_and_auto_picks_a_path_that_passed(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMBENCH_CACHE", str(tmp_path))
    result = choice.resolve("auto", "cpu")
    measurement = choice.cached_measurement()  # the one resolve just cached
    assert measurement.probes["fp32"].computes_as_named()
    assert measurement.probes[result.path].computes_as_named() and result.path in measurement.seconds
    assert result == choice.choose(measurement)


def test_an_updater_refuses_bf16_where_the_machine_measurement_shows_no_bf16(tmp_path, monkeypatch, smol_tokenizer):
    # The cached measurement is this machine's record; a CPU whose bf16 copies came out
    # fp32-exact would have written this one.
    monkeypatch.setenv("SIMBENCH_CACHE", str(tmp_path))
    failing = choice.Measurement(key=choice.machine_key(), measured="2026-12-08", probes=SILENT,
                                 seconds=measured(SILENT).seconds)
    choice.cached_measurement(lambda: failing)
    with pytest.raises(ConfigError, match="matmul_precision: the bf16 path does not compute in bf16"):
        SDPOUpdater(make_tiny_llama(smol_tokenizer), smol_tokenizer, SDPOConfig(matmul_precision="bf16"))
    auto = SDPOUpdater(make_tiny_llama(smol_tokenizer), smol_tokenizer, SDPOConfig(matmul_precision="auto"))
    assert auto.matmul_path == "fp32" and "failed its known-error probe" in auto.matmul_reason
