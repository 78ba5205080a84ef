cdef class SumState:
    cdef public dict terms
    cdef public object const
    cdef public bint has_c
    cdef public object contains_c
    cpdef add(self, mono, k)

cpdef sum_terms(t, k, SumState st)
cpdef leaf_number(t)
