"""Fixtures: the mxnet side environment and the models it generates (built once, cached)."""
from __future__ import annotations

from pathlib import Path

import pytest

from . import sideenv


def _generated(script: str) -> Path:
    try:
        return sideenv.generate(script)
    except sideenv.SideEnvError as e:   # a failure, not a skip: CI must build the side environment
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(scope="session")
def zoo_dir() -> Path:
    return _generated("make_zoo.py")


@pytest.fixture(scope="session")
def ops_dir() -> Path:
    return _generated("make_ops.py")


UNAVAILABLE = "side-environment-unavailable"


def pytest_generate_tests(metafunc):
    """``op_case`` runs once per case the side script generated (it runs at collection, once, cached).

    When the side environment cannot be built, one case named ``side-environment-unavailable``
    stands in for them and fails with the reason.
    """
    if "op_case" not in metafunc.fixturenames:
        return
    import json
    try:
        names = [c["name"] for c in json.loads((sideenv.generate("make_ops.py") / "manifest.json").read_text())]
    except sideenv.SideEnvError:
        names = [UNAVAILABLE]
    metafunc.parametrize("op_case", names)
