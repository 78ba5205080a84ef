cdef class Engine:
    cdef public object index
    cdef public bint rules
    cdef public object candidates
    cdef public object heads
    cdef public Py_ssize_t memo_limit
    cdef public dict memo
    cdef public dict sizes
    cdef public list keep
    cdef public dict cflags
    cdef public object _hint
    cdef public bint no_c
    cdef public dict nonneg
    cdef public dict signs
    cdef public dict evens
    cdef public object scale
    cdef public object split_sign
    cdef public object is_nonneg
    cdef public object even_context
    cdef public object negated_odd
    cdef public object build_abs
    cdef public object sum_from_state
    cpdef node(self, op, kids)
    cpdef bint has_c(self, t)
    cpdef Py_ssize_t size(self, t)
    cdef _build(self, op, kids, key)
    cdef _rewrite(self, t)
    cdef _settle_inside(self, t)
    cdef _settle_fresh(self, x)
