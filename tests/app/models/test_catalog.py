"""First-launch suggestions: the largest small model that fits this machine."""

from __future__ import annotations

from app.models.catalog import STARTERS, first_launch, recommended_starter
from app.models.fit import Machine

GB = 1_000_000_000


def machine(available_gb: float, total_gb: float = 16) -> Machine:
    return Machine(int(total_gb * GB), int(available_gb * GB), False, 0, 0)


def test_a_roomy_machine_gets_the_largest_starter() -> None:
    assert recommended_starter(machine(30, 32)) == STARTERS[-1]


def test_a_small_laptop_gets_a_small_model() -> None:
    pick = recommended_starter(machine(2.5, 4))
    assert pick is not None and pick.approx_bytes < 2 * GB


def test_nothing_is_suggested_when_nothing_fits() -> None:
    assert recommended_starter(machine(0.3, 1)) is None


def test_starters_are_ordered_smallest_first() -> None:
    sizes = [s.approx_bytes for s in STARTERS]
    assert sizes == sorted(sizes)


def test_first_launch_offline_explains_how_to_import() -> None:
    advice = first_launch(True, machine(8))
    assert not advice.offer_hub and advice.starter is None
    assert ".gguf" in advice.body and "import" in advice.body


def test_first_launch_online_offers_a_starter_that_fits() -> None:
    advice = first_launch(False, machine(8))
    assert advice.offer_hub and advice.starter is not None


def test_first_launch_without_the_hub_offers_importing_and_says_why() -> None:
    advice = first_launch(False, machine(30, 32), reachable=False)
    assert not advice.offer_hub and advice.starter is None and advice.offer_retry
    assert "can't reach the Hugging Face Hub" in advice.body and "import" in advice.body


def test_first_launch_offers_no_download_until_the_hub_answered() -> None:
    advice = first_launch(False, machine(30, 32), reachable=None)
    assert advice.checking and not advice.offer_hub and advice.starter is None
