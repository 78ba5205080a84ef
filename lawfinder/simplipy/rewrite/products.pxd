cdef class ProductState:
    cdef public object coef
    cdef public dict factors
    cdef public bint reshape
    cdef public object contains_c
    cpdef add(self, base, e)
cpdef factors(eng, t, e, ProductState st)
