"""Local model directories: resolution, device choice, mixed precision.

Models are only ever read from local paths (``local_files_only``): a run must not depend
on a hub being reachable, and a typo must fail at once with the path in the message.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


class RoiConfigError(ValueError):
    """A region model path or setting is unusable (missing, not a model, wrong kind)."""


def resolve_model_dir(path: Path | str) -> Path:
    """The directory holding ``config.json``: ``path`` itself, or for an HF-cache repo folder
    (``models--org--name``) its newest snapshot. Raises RoiConfigError naming the path."""
    path = Path(path).expanduser()
    if not path.exists():
        raise RoiConfigError(f"region model path does not exist: {path}")
    if (path / "config.json").is_file():
        return path
    snapshots = path / "snapshots"
    if snapshots.is_dir():
        found = [s for s in snapshots.iterdir() if (s / "config.json").is_file()]
        if found:
            return max(found, key=lambda s: s.stat().st_mtime)
    raise RoiConfigError(f"no config.json in region model directory (nor in its snapshots/): {path}")


def torch_device(device: str) -> torch.device:
    """``torch.device`` for a config string; a CUDA request without CUDA is a config error."""
    # torch is imported here, not at the top: the run config imports this package (RoiConfig),
    # and every worker of every stage would pay about a second of CPU to import torch.
    import torch

    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RoiConfigError(f"device {device!r} requested but CUDA is not available")
    return dev


def autocast(device: torch.device):
    """bf16 autocast on CUDA; a no-op elsewhere (CPU autocast is slower and changes outputs)."""
    if device.type == "cuda":
        import torch

        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
