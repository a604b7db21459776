"""What every pass returns: whether it changed the graph, and a line for the summary."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class PassReport:
    name: str
    changed: bool
    summary: str = ""

    def __str__(self) -> str:
        return f"{self.name}: {self.summary or ('changed' if self.changed else 'no change')}"
