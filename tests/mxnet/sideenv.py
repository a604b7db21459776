"""The side environment with mxnet 1.9.1 that produces reference models and outputs.

mxnet needs numpy<1.24, so it cannot live in the main environment; the tests build
``.cache/mxnet-venv`` once (``python3.11 -m venv`` + ``pip install mxnet==1.9.1 numpy==1.23.5``)
and run the scripts of ``tests/mxnet/side/`` there. What a script writes is cached under
``.cache/mxnet-models/<script>-<hash of the script>/`` so repeat runs only read files.
Both steps hold an ``fcntl.flock`` so that parallel pytest workers build things once.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"
VENV = CACHE / "mxnet-venv"
MODELS = CACHE / "mxnet-models"
SIDE = Path(__file__).resolve().parent / "side"
REQUIREMENTS = ["mxnet==1.9.1", "numpy==1.23.5"]


class SideEnvError(RuntimeError):
    """The side environment could not be built or a script failed in it."""


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def side_python() -> Path:
    return VENV / "bin" / "python"


def _imports_mxnet(python: Path) -> bool:
    if not python.exists():
        return False
    r = subprocess.run([str(python), "-c", "import mxnet, numpy; assert numpy.__version__ == '1.23.5'"],
                       capture_output=True, timeout=300)
    return r.returncode == 0


def ensure_venv() -> Path:
    """The side environment's python, building the environment first when needed."""
    with _locked(CACHE / "mxnet-venv.lock"):
        marker = VENV / ".mo-ready"
        if _imports_mxnet(side_python()):
            marker.write_text(" ".join(REQUIREMENTS) + "\n")
            return side_python()
        if VENV.exists():
            shutil.rmtree(VENV)
        base = shutil.which("python3.11") or sys.executable
        steps = [[base, "-m", "venv", str(VENV)],
                 [str(side_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                  *REQUIREMENTS]]
        for cmd in steps:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
            if r.returncode != 0:
                tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-15:])
                raise SideEnvError(f"building the mxnet side environment failed at: {' '.join(cmd)}\n{tail}\n"
                                   f"(it needs network access to PyPI for {' '.join(REQUIREMENTS)})")
        if not _imports_mxnet(side_python()):
            r = subprocess.run([str(side_python()), "-c", "import mxnet"], capture_output=True, text=True)
            raise SideEnvError(f"mxnet does not import in {VENV}: {r.stderr.strip().splitlines()[-1:]}")
        marker.write_text(" ".join(REQUIREMENTS) + "\n")
        return side_python()


def script_hash(script: str) -> str:
    h = hashlib.sha256()
    for name in (script, "common.py"):
        p = SIDE / name
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def generate(script: str, timeout: int = 1800) -> Path:
    """Run ``side/<script>`` in the side environment once; returns the folder it filled."""
    python = ensure_venv()
    out = MODELS / f"{Path(script).stem}-{script_hash(script)}"
    with _locked(MODELS / f"{Path(script).stem}.lock"):
        done = out / ".done"
        if done.exists():
            return out
        for stale in MODELS.glob(f"{Path(script).stem}-*"):   # outputs of older versions of the script
            if stale.is_dir():
                shutil.rmtree(stale)
        tmp = out.with_name(out.name + ".partial")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        env = dict(os.environ, MXNET_ENGINE_TYPE="NaiveEngine", OMP_NUM_THREADS="1", PYTHONPATH=str(SIDE))
        r = subprocess.run([str(python), str(SIDE / script), str(tmp)], capture_output=True, text=True,
                           timeout=timeout, env=env, cwd=str(SIDE))
        if r.returncode != 0:
            tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-20:])
            raise SideEnvError(f"side/{script} failed in the mxnet environment:\n{tail}")
        tmp.rename(out)
        (out / ".done").write_text("ok\n")
        return out
