"""Shape arithmetic shared by the op declarations (``-1`` = dynamic dim, ``None`` = dynamic rank)."""
from __future__ import annotations

from typing import Sequence

from mo.graph import Shape

from .opset import OpError


def broadcast(a: Shape, b: Shape, mode: str = "numpy") -> Shape:
    """NumPy broadcasting of two shapes; ``none`` mode requires equal shapes."""
    if a is None or b is None:
        return None
    if mode == "none":
        if len(a) != len(b):
            raise OpError(f"shapes {list(a)} and {list(b)} differ and broadcasting is off")
        return tuple(x if x >= 0 else y for x, y in zip(a, b))
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(a, b):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x < 0:
            out.append(y if y > 1 else -1)
        elif y < 0:
            out.append(x)
        elif x == y:
            out.append(x)
        else:
            raise OpError(f"shapes {list(a)} and {list(b)} cannot be broadcast")
    return tuple(out)


def broadcast_all(shapes: Sequence[Shape]) -> Shape:
    out: Shape = ()
    for s in shapes:
        out = broadcast(out, s)
    return out


def norm_axis(axis: int, rank: int, what: str = "axis") -> int:
    if not -rank <= axis < max(rank, 1):
        raise OpError(f"{what} {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def numel(shape: Shape) -> int:
    """Element count, or -1 when some dim is dynamic."""
    if shape is None:
        return -1
    n = 1
    for d in shape:
        if d < 0:
            return -1
        n *= d
    return n


def dim_mul(a: int, b: int) -> int:
    return -1 if a < 0 or b < 0 else a * b


def dim_add(a: int, b: int) -> int:
    return -1 if a < 0 or b < 0 else a + b


def merge_dim(a: int, b: int) -> int:
    return b if a < 0 else a


def pooled_dim(size: int, kernel: int, stride: int, pad_begin: int, pad_end: int, dilation: int = 1,
               ceil: bool = False) -> int:
    if size < 0:
        return -1
    eff = dilation * (kernel - 1) + 1
    span = size + pad_begin + pad_end - eff
    if ceil:
        out = -(-span // stride) + 1
        # the last window must start inside the input or left padding
        if (out - 1) * stride >= size + pad_begin:
            out -= 1
        return max(out, 0)
    return max(span // stride + 1, 0)


def auto_pads(size: int, kernel: int, stride: int, dilation: int, mode: str) -> tuple[int, int]:
    """Pads that SAME_UPPER / SAME_LOWER give for one spatial dim."""
    if size < 0:
        return 0, 0
    eff = dilation * (kernel - 1) + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + eff - size, 0)
    small, big = total // 2, total - total // 2
    return (small, big) if mode == "same_upper" else (big, small)
