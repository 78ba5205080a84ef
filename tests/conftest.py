"""Shared fixtures: one Ray session for the whole pytest run (Ray's start-up costs seconds; tests share it)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


@pytest.fixture(scope="session")
def ray_session():
    """A local Ray with 2 CPUs and no GPU, started once and shut down after the last test."""
    import ray

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, num_gpus=0, include_dashboard=False,
                 object_store_memory=256 << 20, log_to_driver=False)
    yield ray
    ray.shutdown()


# CI runs property tests with a fixed seed so that a rare random example can't turn main red unannounced; locally
# every run draws new examples (that is how the round-trip and lambdify bugs get found).
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
