"""NumPy's BLAS on one thread around the reading's small products (``livedigits.util.threads``)."""
import numpy as np
from threadpoolctl import threadpool_info

from livedigits.util.threads import one_blas_thread
from livedigits.vision.normalize import likenesses


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_the_readings_products_run_on_one_blas_thread_and_a_programs_own_count_comes_back():
    before = _blas_threads()
    assert before, "NumPy's BLAS not found"
    with one_blas_thread():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before
    # The crops' likeness is the same product either way: a crop is most like itself.
    crops = np.random.default_rng(0).random((3, 28, 28)).astype(np.float32)
    alike = likenesses(crops, crops)
    assert alike.shape == (3, 3) and np.allclose(np.diag(alike), 1.0, atol=1e-4)
    assert _blas_threads() == before
