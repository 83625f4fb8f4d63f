import math

import pytest
import torch

from collapsekit.data import get_dataset, list_datasets, parse_spec
from collapsekit.errors import CollapsekitError


def test_ring8_has_eight_distinct_modes_on_radius_two():
    ring = get_dataset("ring8")
    assert ring.modes_total == 8
    assert torch.allclose(ring.centres.norm(dim=1), torch.full((8,), 2.0, dtype=torch.float64))
    pairwise = torch.cdist(ring.centres, ring.centres) + torch.eye(8, dtype=torch.float64) * 10
    assert pairwise.min() == pytest.approx(2 * 2.0 * math.sin(math.pi / 8))  # neighbours, no repeated angle
    assert ring.std == 0.02 and ring.quality_radius == pytest.approx(0.06)


def test_grid25_centres_are_the_grid():
    grid = get_dataset("grid25")
    expected = {(float(x), float(y)) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert {tuple(c.tolist()) for c in grid.centres} == expected
    assert grid.std == 0.05
    assert torch.allclose(grid.mode_weights, torch.full((25,), 1 / 25, dtype=torch.float64))


def test_parameters_from_the_spec_string():
    ring = get_dataset("ring8:radius=1,std=0.01")
    assert ring.std == 0.01
    assert torch.allclose(ring.centres.norm(dim=1), torch.ones(8, dtype=torch.float64))
    assert get_dataset(ring.spec).spec == ring.spec  # the canonical spec rebuilds the dataset
    assert parse_spec("grid25: side = 3 , std=0.1") == ("grid25", {"side": "3", "std": "0.1"})


@pytest.mark.parametrize(
    "spec, message",
    [
        ("ring9", "unknown dataset 'ring9'; choose one of: "),
        ("ring8:radius", "is not key=value"),
        ("ring8:colour=red", "has no parameter 'colour'; valid: modes, radius, std"),
        ("ring8:std=wide", "std='wide' is not a valid float"),
        ("ring8:std=-1", "std must be positive"),
        ("grid25:side=0", "grid needs side >= 1"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(CollapsekitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        get_dataset(spec)


def test_unknown_dataset_lists_the_valid_names():
    with pytest.raises(CollapsekitError) as error:
        get_dataset("nope")
    for name in list_datasets():
        assert name in str(error.value)


def test_sampling_is_seeded_and_lands_on_the_modes():
    ring = get_dataset("ring8")
    first = ring.sample(2000, generator=torch.Generator().manual_seed(7))
    second = ring.sample(2000, generator=torch.Generator().manual_seed(7))
    other = ring.sample(2000, generator=torch.Generator().manual_seed(8))
    assert torch.equal(first, second) and not torch.equal(first, other)
    assert first.shape == (2000, 2) and first.dtype == torch.float32
    mode, high_quality = ring.assign(first)
    # within 3 std in 2-D: P(chi_2 <= 3) = 1 - exp(-9/2) = 0.98889
    assert high_quality.double().mean().item() == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    assert torch.bincount(mode, minlength=8).min() > 200  # every mode gets about 250


def test_assign_rejects_bad_samples():
    ring = get_dataset("ring8")
    with pytest.raises(CollapsekitError, match=r"shape \(10, 3\), but ring8 expects \(N, 2\)"):
        ring.assign(torch.zeros(10, 3))
    with pytest.raises(CollapsekitError, match="NaN or inf in 1 of 4 rows"):
        ring.assign(torch.tensor([[0.0, 0.0], [1.0, float("nan")], [0.0, 1.0], [2.0, 0.0]]))
    with pytest.raises(CollapsekitError, match="must be a tensor or array"):
        ring.assign(object())
