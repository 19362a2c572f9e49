"""The CPU flags a manifest and the teachability map record (they choose torch's kernels)."""

from __future__ import annotations

from simbench.runner.provenance import cpu_flags


def test_cpu_flags_keeps_the_simd_extensions_in_a_fixed_order(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f fma avx2 avx amx_bf16 ssse3\n\n"
                    "processor\t: 1\nflags\t\t: fpu sse2 avx512f fma avx2 avx amx_bf16 ssse3\n")
    assert cpu_flags(info) == "avx avx2 fma avx512f amx_bf16"


def test_cpu_flags_reads_arm_features_and_tolerates_no_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nFeatures\t: fp asimd evtstrm crc32\n")
    assert cpu_flags(info) == "asimd"
    assert cpu_flags(tmp_path / "missing") == ""
