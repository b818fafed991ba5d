"""PyMuPDF without its optional layout analyser.

PyMuPDF 2 imports ``pymupdf.layout`` (from the ``pymupdf-layout`` package it depends on) when it
is imported, and that builds an ONNX layout model at once: about half a second of CPU in every
process that opens a PDF. Only ``Page.get_layout`` uses it, and this project finds figures and
captions with its own layout code, so the import is turned off (an absent submodule is what
PyMuPDF expects when the package is not installed). Import PyMuPDF through this module.
"""

import sys

if "pymupdf" not in sys.modules:
    sys.modules.setdefault("pymupdf.layout", None)  # None in sys.modules: the import raises ImportError

import pymupdf  # noqa: E402

__all__ = ["pymupdf"]
