"""Errors a user can act on. The CLI prints them on one line and exits with code 2."""
from __future__ import annotations


class MoError(Exception):
    """Base of mo's user-facing errors: the message says what is wrong and where."""

    exit_code = 2


class InputError(MoError):
    """The model file is missing, unreadable, truncated or not of the expected format."""


class UnsupportedOpsError(MoError):
    """The model uses ops no converter handles; lists every one with its count."""

    def __init__(self, path: str, framework: str, missing: dict[str, int], examples: dict[str, str] | None = None):
        self.missing = dict(missing)
        parts = []
        for op, n in sorted(missing.items(), key=lambda kv: (-kv[1], kv[0])):
            ex = f" (e.g. node {examples[op]!r})" if examples and op in examples else ""
            parts.append(f"{op} x{n}{ex}")
        super().__init__(f"{path}: {len(missing)} unsupported {framework} op type(s): " + ", ".join(parts)
                         + "; add a converter with --extensions")


class ConversionError(MoError):
    """A converter or pass failed on a node; the message names the file, node and op."""


class OptionError(MoError):
    """A command-line option or Python API argument is invalid."""


class ValidationError(MoError):
    """--validate found outputs differing beyond tolerance."""

    exit_code = 1
