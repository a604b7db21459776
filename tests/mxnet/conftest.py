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
