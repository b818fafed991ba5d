"""BLAS and OpenCV threads inside a pipeline worker.

A worker owns one core (Ray starts its workers with ``OMP_NUM_THREADS=1``; the local runner
does not), yet OpenBLAS splits a large enough product across a thread per core and spins them:
on the small products of the glyph reader and the markers' arrow test that costs many times
the CPU of one thread. Code with such products runs them under ``one_blas_thread()``.
OpenCV's own pool (pthreads, one thread per core whatever ``OMP_NUM_THREADS`` says) does the
same with the labelling, morphology and colour conversions of figures and panels a few hundred
pixels a side: its idle threads busy-wait between calls (tag_image over the sample's 55 figures
and panels took ~40 % more CPU on two threads than on one, BENCHMARKS round 7). The runner runs
every part under ``one_opencv_thread()``.
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
