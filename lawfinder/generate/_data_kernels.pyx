# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled loops for the generator's data draws: the same arithmetic as the numpy code in ``data_kernels.py``, in
the same order (no fused multiply-add: setup.py compiles this file with -ffp-contract=off), so both give bit-identical
values. Each function replaces five to ten numpy calls on small arrays, whose fixed cost (~0.5-1 µs each on the
generator's 32-column probes) was most of the data stage's time.

``data_kernels`` imports these when they were compiled and are not older than this file; otherwise its numpy
versions run.
"""

import numpy as np

from libc.math cimport fabs


cdef inline double _point(double a, double b, double u, double clip) nogil:
    """One input value: U(min(a, b), max(a, b)) from a uniform ``u``, clipped to ±clip, rounded to float32."""
    cdef double low = a if a < b else b
    cdef double x = low + fabs(a - b) * u
    if x < -clip:
        x = -clip
    if x > clip:
        x = clip
    return <double>(<float>x)


def probe_inputs(const double[:, :, :] ab, const double[:, :] u, Py_ssize_t tries, Py_ssize_t probe,
                 double clip, Py_ssize_t single_width=1):
    """(d, tries * probe + singles * single_width) inputs: column c belongs to try c // probe among the first
    ``tries``, and the columns after them to the screen draws, ``single_width`` each; try t's interval per variable v
    is given by ab[0, v, t] and ab[1, v, t]."""
    cdef Py_ssize_t d = u.shape[0], cols = u.shape[1], width = tries * probe, v, c, t
    # Bounds are not checked inside the loops, so the shapes are checked here.
    if tries < 0 or probe < 1 or single_width < 1 or cols < width or (cols - width) % single_width \
            or ab.shape[0] != 2 or ab.shape[1] != d or ab.shape[2] < tries + (cols - width) // single_width:
        raise ValueError(f"probe_inputs: intervals {tuple(ab.shape)} do not fit {tries} tries of {probe} points and "
                         f"draws of {single_width} in {cols} columns of {d} variables")
    out = np.empty((d, cols))
    cdef double[:, ::1] X = out
    with nogil:
        for v in range(d):
            for c in range(cols):
                t = c // probe if c < width else tries + (c - width) // single_width
                X[v, c] = _point(ab[0, v, t], ab[1, v, t], u[v, c], clip)
    return out


def try_inputs(const double[:, :, :] ab, const double[:, :] u, Py_ssize_t t, double clip):
    """(d, m) inputs of try ``t`` from (d, m) uniforms."""
    cdef Py_ssize_t d = u.shape[0], m = u.shape[1], v, c
    cdef double a, b
    if not 0 <= t < ab.shape[2] or ab.shape[0] != 2 or ab.shape[1] != d:
        raise ValueError(f"try_inputs: no try {t} of {d} variables in intervals {tuple(ab.shape)}")
    out = np.empty((d, m))
    cdef double[:, ::1] X = out
    with nogil:
        for v in range(d):
            a = ab[0, v, t]
            b = ab[1, v, t]
            for c in range(m):
                X[v, c] = _point(a, b, u[v, c], clip)
    return out


cdef inline bint _within(const double[:] y, Py_ssize_t start, Py_ssize_t stop, double bound) noexcept nogil:
    """Do y[start:stop] all lie within ±bound (NaN does not)?"""
    cdef Py_ssize_t j
    for j in range(start, stop):
        if not fabs(y[j]) <= bound:
            return False
    return True


def probe_verdicts(const double[:] y, Py_ssize_t tries, Py_ssize_t probe, double bound,
                   Py_ssize_t single_width=1):
    """(the tries whose ``probe`` values all lie within ±bound, in order; how many of the screen draws after the
    tries' columns, ``single_width`` values each, have all theirs within it). NaN lies within no bound."""
    cdef Py_ssize_t t, start, width = tries * probe, n = y.shape[0], count = 0
    if tries < 0 or probe < 0 or single_width < 1 or width > n or (n - width) % single_width:
        raise ValueError(f"probe_verdicts: {tries} tries of {probe} values, then draws of {single_width}, do not "
                         f"fit in {n} values")
    out = [t for t in range(tries) if _within(y, t * probe, t * probe + probe, bound)]
    for start in range(width, n, single_width):
        if _within(y, start, start + single_width, bound):
            count += 1
    return out, count


def all_within(const double[:] y, double bound):
    """Do all values lie within ±bound (NaN does not)?"""
    return _within(y, 0, y.shape[0], bound)


def sample_arrays(const double[:, :] probe_x, Py_ssize_t start, Py_ssize_t probe, const double[:] probe_y,
                  rest_x, rest_y):
    """A sample's float32 (n, d) inputs and (n,) values: columns start..start+probe of the probe block, then the
    rest of the draw (``rest_x`` (d, m) and ``rest_y`` (m,), or None)."""
    cdef Py_ssize_t d = probe_x.shape[0], m = 0, v, j
    cdef const double[:, :] rx
    cdef const double[:] ry
    if start < 0 or probe < 0 or start + probe > probe_x.shape[1] or start + probe > probe_y.shape[0]:
        raise ValueError(f"sample_arrays: columns {start}..{start + probe} are not in a probe block of "
                         f"{probe_x.shape[1]} columns and {probe_y.shape[0]} values")
    if rest_x is not None:
        rx = rest_x
        ry = rest_y
        m = rx.shape[1]
        if ry.shape[0] != m or rx.shape[0] != d:
            raise ValueError(f"the rest of the draw has inputs {rx.shape[0]} x {m} and {ry.shape[0]} values")
    x_out = np.empty((probe + m, d), dtype=np.float32)
    y_out = np.empty(probe + m, dtype=np.float32)
    cdef float[:, ::1] X = x_out
    cdef float[::1] Y = y_out
    with nogil:
        for j in range(probe):
            for v in range(d):
                X[j, v] = <float>probe_x[v, start + j]
            Y[j] = <float>probe_y[start + j]
        for j in range(m):
            for v in range(d):
                X[probe + j, v] = <float>rx[v, j]
            Y[probe + j] = <float>ry[j]
    return x_out, y_out
