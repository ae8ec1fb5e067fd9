"""Picking services by name (`--service`), as the budget, gate and report commands do."""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.slo.load import UnknownServices, load, select

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def services():  # type: ignore[no-untyped-def]
    result = load([str(REPO / "slo-specs")])
    assert not result.problems
    return result.services


def test_no_name_means_every_service(services) -> None:  # type: ignore[no-untyped-def]
    assert [s.name for s in select(services, None)] == [s.name for s in services]
    assert [s.name for s in select(services, [])] == [s.name for s in services]


def test_named_services_keep_the_specs_order(services) -> None:  # type: ignore[no-untyped-def]
    assert [s.name for s in select(services, ["search-api", "checkout-api", "search-api"])] == [
        "checkout-api", "search-api"]


def test_unknown_names_are_all_listed_with_the_known_ones(services) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownServices) as exc:
        select(services, ["zeta-api", "checkout-api", "cart-api"])
    assert exc.value.missing == ["cart-api", "zeta-api"]
    assert exc.value.known == [s.name for s in services]
    assert str(exc.value) == ("no such service: cart-api, zeta-api (known: checkout-api, feature-flags, "
                              "order-worker, search-api)")
