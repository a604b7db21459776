"""CI floor on the ONNX backend node suite (generated from the installed onnx package).

Every tensor case is converted in-process through mo's Python API, run in the
OpenVINO runtime and judged as ../shared/tools/onnx_conformance.py judges it. The
test fails when fewer cases pass than the committed floor in node_suite_floor.txt.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from .node_suite import generate, run_suite, summarize

FLOOR_FILE = Path(__file__).with_name("node_suite_floor.txt")


@pytest.mark.slow
def test_node_suite_floor(tmp_path_factory: pytest.TempPathFactory) -> None:
    suite = tmp_path_factory.mktemp("onnx_node_suite")
    generated = generate(str(suite))
    assert generated > 1500, f"only {generated} cases generated"
    results = run_suite(str(suite), jobs=2)
    passed, total = summarize(results)
    log = Path(suite) / "results.tsv"
    log.write_text("".join(f"{st}\t{k}\t{why}\n" for k, (st, why) in sorted(results.items())))
    floor = int(FLOOR_FILE.read_text().split()[0])
    print(f"\nnode suite: {passed}/{total} passed via mo (floor {floor}); per-case results in {log}")
    assert total > 1500
    assert passed >= floor, f"{passed}/{total} node-suite cases pass, below the floor of {floor}; see {log}"
