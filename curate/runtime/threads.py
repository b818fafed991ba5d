"""BLAS and OpenCV threads inside a pipeline worker.

A worker owns one core (Ray starts its workers with ``OMP_NUM_THREADS=1``; the local runner
does not), yet OpenBLAS splits a large enough product across a thread per core and spins them:
on the small products of the glyph reader and the markers' arrow test that costs many times
the CPU of one thread. Code with such products runs them under ``one_blas_thread()``.
OpenCV's own pool (pthreads, one thread per core whatever ``OMP_NUM_THREADS`` says) does the
same with the calls on a few hundred pixels a side that image cues are made of: its idle
threads busy-wait between calls (tag_image over the sample's 55 figures and panels took ~40 %
more CPU on two threads than on one, BENCHMARKS round 7); ``one_cv_thread()`` keeps such
code on the calling thread.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager


@functools.lru_cache(maxsize=1)
def blas_controller():
    """threadpoolctl's view of the process's thread pools, built once (it inspects loaded libraries)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """A context manager: BLAS on one thread inside, the previous setting restored after."""
    return blas_controller().limit(limits=1, user_api="blas")


@contextmanager
def one_cv_thread() -> Iterator[None]:
    """OpenCV on the calling thread inside, the previous thread count restored after
    (OpenCV's results do not depend on it: a parallel call splits rows, not sums)."""
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(before)
