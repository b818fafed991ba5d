"""BLAS threads inside a pipeline worker.

A worker owns one core (Ray starts its workers with ``OMP_NUM_THREADS=1``; the local runner
does not), yet OpenBLAS splits a large enough product across a thread per core and spins them:
on the small products of the glyph reader and the markers' arrow test that costs many times
the CPU of one thread. Code with such products runs them under ``one_blas_thread()``. OpenCV's own thread pool
(one thread per core, whatever Ray sets) splits labelling, morphology and colour conversion
of even a small panel the same way; ``one_opencv_thread()`` keeps those on the calling thread.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator


@functools.lru_cache(maxsize=1)
def blas_controller():
    """threadpoolctl's view of the process's thread pools, built once (it inspects loaded libraries)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """A context manager: BLAS on one thread inside, the previous setting restored after."""
    return blas_controller().limit(limits=1, user_api="blas")


@contextlib.contextmanager
def one_opencv_thread() -> Iterator[None]:
    """A context manager: OpenCV's parallel loops on one thread inside, the previous count
    restored after (the results do not depend on it; the CPU spent does)."""
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before)
