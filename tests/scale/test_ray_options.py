"""Ray executor options on literal inputs: how many actors a cluster holds, and bad values."""

from __future__ import annotations

import pytest

from sal_cli.errors import SalError
from sal_cli.scale.ray_exec import RayOptions, _fit


@pytest.mark.parametrize(("resources", "cpus", "gpus", "actors"), [
    ({"CPU": 2.0}, 1.0, 0.0, 2),                # the CPU test machine: 2 actors
    ({"CPU": 64.0, "GPU": 8.0}, 1.0, 1.0, 8),   # one actor per GPU
    ({"CPU": 64.0, "GPU": 8.0}, 4.0, 0.5, 16),  # two small actors per GPU
    ({"CPU": 1.0}, 2.0, 0.0, 1),                # never fewer than one
])
def test_actors_fit_by_gpus_when_they_take_gpus_else_by_cpus(resources, cpus, gpus, actors):
    assert _fit(resources, cpus, gpus) == actors


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"actors": -1}, "`--actors` must be >= 0, got -1"),
    ({"retries": -2}, "`--retries` must be >= 0, got -2"),
    ({"num_gpus": -0.5}, "`--num-gpus` must be >= 0, got -0.5"),
    ({"num_cpus": 0}, "`--num-cpus` must be > 0, got 0"),
])
def test_bad_ray_options_are_refused(kwargs, message):
    with pytest.raises(SalError, match=message):
        RayOptions(**kwargs)
