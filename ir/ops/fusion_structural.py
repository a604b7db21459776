"""Ops that only the structural fusion passes create: ShuffleChannels."""
from __future__ import annotations

import numpy as np

from ..opset import OPS, OpError, op


def _shuffle_eval(x, a):
    data = x[0]
    axis, g = a["axis"] % data.ndim, a["group"]
    c = data.shape[axis]
    s = data.reshape(data.shape[:axis] + (g, c // g) + data.shape[axis + 1:])
    return [np.swapaxes(s, axis, axis + 1).reshape(data.shape)]


if "ShuffleChannels" not in OPS:
    @op("ShuffleChannels", "opset1", {"axis": ("int", 1), "group": ("int", 1)}, inputs=(1, 1),
        evaluate=_shuffle_eval)
    def shuffle_channels(ins, a):
        """Channels of ``axis`` seen as [group, C/group], transposed to [C/group, group]; shape unchanged."""
        x = ins[0]
        if a["group"] < 1:
            raise OpError(f"group {a['group']} must be positive")
        if x.shape is not None:
            c = x.shape[a["axis"] % len(x.shape)]
            if c >= 0 and c % a["group"]:
                raise OpError(f"{c} channels do not split into {a['group']} groups")
        return [(x.etype, x.shape)]
