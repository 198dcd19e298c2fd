"""The server's heap: glibc's malloc keeps what a burst of uploads took unless told otherwise."""

from __future__ import annotations


def fewer_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives each thread that allocates its own malloc arena and rarely returns their memory:
    after a burst of uploads decoded on many threads the server stays at its peak size. A few
    arenas keep it near what it uses. (No-op off glibc.)"""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def trim_malloc() -> None:
    """Hand freed heap memory back to the system (glibc); no-op elsewhere."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
