"""Atomic file output and figure rendering (matplotlib's Agg canvas, no global backend)."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from ncp_driver import atomic
from ncp_driver.audit.errors import AuditError
from ncp_driver.replay.plot import figure_png

__all__ = ["atomic_write_bytes", "atomic_write_text", "figure_png", "save_figure"]


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """The core's atomic write, with a failure raised as :class:`AuditError`."""
    try:
        return atomic.atomic_write_bytes(path, data)
    except OSError as exc:
        raise AuditError(f"cannot write {path}: {exc}") from exc


def atomic_write_text(path: Path | str, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def save_figure(fig: Figure, path: Path | str, dpi: int = 100) -> Path:
    """Render ``fig`` to a PNG file, atomically."""
    return atomic_write_bytes(path, figure_png(fig, dpi=dpi))
