"""Padded batch shapes: the few fixed sizes a compiled training step sees.

A compiled step (and a CUDA graph) is specialised to its input shapes, and every new (points, tokens) pair costs a
compilation and a graph. Rounding the padded point count and token length up to one of a few buckets keeps that
cache small; padding is masked (points) or ignored by the loss (tokens), so it does not change the loss. Torch-free:
the feed computes the padded sizes from the Arrow batch before it builds any tensor.
"""

from __future__ import annotations

import math

BUCKETS = 4      # sizes per axis
MULTIPLE = 8     # every padded size is a multiple of this (tensor-core friendly)


def linear_buckets(limit: int, count: int = BUCKETS, multiple: int = MULTIPLE) -> tuple[int, ...]:
    """``count`` sizes evenly spaced up to ``limit``, each rounded up to a multiple of ``multiple``."""
    if limit < 1 or count < 1 or multiple < 1:
        raise ValueError(f"linear_buckets needs limit, count and multiple >= 1, got {limit}, {count}, {multiple}")
    return tuple(sorted({multiple * math.ceil(limit * k / count / multiple) for k in range(1, count + 1)}))


def bucket_size(size: int, buckets: tuple[int, ...], multiple: int = MULTIPLE) -> int:
    """The smallest bucket holding ``size``; beyond the largest (or with no buckets), ``size`` rounded up to a
    multiple of ``multiple``."""
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    for bucket in sorted(buckets):
        if bucket >= size:
            return bucket
    return max(multiple, multiple * math.ceil(size / multiple))
