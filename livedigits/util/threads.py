"""NumPy's BLAS on one thread for the reading's small matrix products.

The reading multiplies small matrices: :func:`livedigits.vision.normalize.likenesses` sets a few digit crops,
each shifted nine ways, against a page's crops (a few hundred rows of 784 numbers). On the two cores it is
made for, the BLAS that NumPy ships starts a thread per core for such a product, and those threads wait for
cores the segmentation, the classifier and the other sources hold: a worksheet read whole took 362-500 ms of CPU
with the default threads and 54-149 ms with one (five of six sheets; load average 12-13). The product itself is
under a millisecond on one thread.

The thread count is set around each product and put back after it (``threadpoolctl``, which finds the BLAS
NumPy loaded, whichever it is, and sets its threads through that library's own call; it is written and kept
by the scikit-learn and joblib developers, where a hand-written ``ctypes`` call would have to know each BLAS's
file name and function), so that a program using livedigits from Python keeps its own BLAS threads for its own
products. Entering and leaving costs about 11 microseconds.
"""
from __future__ import annotations

from functools import lru_cache

from threadpoolctl import ThreadpoolController


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    # The BLAS libraries this process has loaded, found once (about 1 ms), after NumPy is imported.
    return ThreadpoolController()


def one_blas_thread():
    """A context in which NumPy's BLAS runs on one thread; the count it had is put back on leaving. Where two
    threads enter at once, the one that leaves last may leave the count at one, which the reading's products
    want anyway."""
    return _controller().limit(limits=1, user_api="blas")
