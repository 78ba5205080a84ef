"""A fixture for tests of tiny torch models: one intra-op thread (import it into a test module to switch it on)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models gain nothing from intra-op threads; on a shared 2-core box spinning threads slowed them 20x."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
