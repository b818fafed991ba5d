"""BLAS threads inside a pipeline worker.

A worker owns one core (Ray starts its workers with ``OMP_NUM_THREADS=1``; the local runner
does not), yet OpenBLAS splits a large enough product across a thread per core and spins them:
on the small products of the glyph reader and the markers' arrow test that costs many times
the CPU of one thread. Code with such products runs them under ``one_blas_thread()``.
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def blas_controller():
    """threadpoolctl's view of the process's thread pools, built once (it inspects loaded libraries)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread():
    """A context manager: BLAS on one thread inside, the previous setting restored after."""
    return blas_controller().limit(limits=1, user_api="blas")
