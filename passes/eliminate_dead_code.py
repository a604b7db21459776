"""Dead-code elimination.

Rule: a node that no Result depends on is removed (Parameters always stay); Identity
-like no-ops are not special here, frontends do not create them.
"""
from __future__ import annotations

from mo.graph import Graph

from .base import PassReport


def run(graph: Graph) -> PassReport:
    removed = graph.toposort()
    return PassReport("eliminate_dead_code", removed > 0, f"{removed} nodes removed")
