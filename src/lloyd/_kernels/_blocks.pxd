# Shared by the ahead-of-time (Cython) kernels: the fixed block layout of every pass.
# Rows are split into contiguous blocks of whole CHUNK-row chunks; the layout depends on the
# data's shape alone, never on the number of threads, so sums merged in block order are the same
# bit for bit whatever the thread count (the rule ``common.block_bounds`` states for numba).

cdef enum:
    CHUNK = 256


cdef inline Py_ssize_t rows_per_block(Py_ssize_t n_samples, Py_ssize_t n_blocks) noexcept nogil:
    """Rows in every block but the last: whole chunks, as ``common.block_bounds``."""
    cdef Py_ssize_t n_chunks = (n_samples + CHUNK - 1) // CHUNK
    return (n_chunks + n_blocks - 1) // n_blocks * CHUNK
