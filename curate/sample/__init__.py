"""The embedded sample corpus: compound figures from real medical pixels, with ground truth.

``generate_sample`` is imported lazily so ``python -m curate.sample.generate`` runs cleanly.
"""

from __future__ import annotations

__all__ = ["generate_sample"]


def __getattr__(name: str):
    if name == "generate_sample":
        from curate.sample.generate import generate_sample

        return generate_sample
    raise AttributeError(name)
