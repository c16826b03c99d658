"""`new` and `--set`: exactly the targeted value changes, comments stay, bad edits are explained."""

from __future__ import annotations

from typing import Any

import pytest

from scalesim_patterns import catalog
from scalesim_patterns.catalog import CatalogError, apply_sets, parse_set
from scalesim_patterns.model import loads
from scalesim_patterns.model.yamlpos import parse_yaml


def _data(text: str) -> Any:
    return parse_yaml(text).data


def _diff(a: Any, b: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths at which two plain data trees differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                out.append((*path, k))
            else:
                out.extend(_diff(a[k], b[k], (*path, k)))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            p for i, (x, y) in enumerate(zip(a, b, strict=True)) for p in _diff(x, y, (*path, i))
        ]
    return [] if a == b and type(a) is type(b) else [path]


def _comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


@pytest.mark.parametrize("template_id", [t.id for t in catalog.templates()])
def test_new_without_edits_is_the_template(template_id: str) -> None:
    assert catalog.new(template_id) == catalog.template_text(template_id)


@pytest.mark.parametrize(
    ("template_id", "edit", "path", "value"),
    [
        ("ecommerce", "services.order.replicas=5", ("spec", "services", "order", "replicas"), 5),
        (
            "ecommerce",
            "spec.gateway.routes.0.methods.0=POST",
            ("spec", "gateway", "routes", 0, "methods", 0),
            "POST",
        ),
        ("saga", "sagas.place-order.timeout=8s", ("spec", "sagas", "place-order", "timeout"), "8s"),
        ("canary", "mesh.mtls=PERMISSIVE", ("spec", "mesh", "mtls"), "PERMISSIVE"),
        (
            "bulkhead",
            "services.storefront.clients.payments.bulkhead.maxConcurrent=40",
            ("spec", "services", "storefront", "clients", "payments", "bulkhead", "maxConcurrent"),
            40,
        ),
        (
            "social-media",
            "traffic.app-users.users=12000",
            ("spec", "traffic", "app-users", "users"),
            12000,
        ),
        (
            "strangler-fig",
            "gateway.routes[0].split[1].endpoint=customer.handle",
            ("spec", "gateway", "routes", 0, "split", 1, "endpoint"),
            "customer.handle",
        ),
    ],
)
def test_set_changes_exactly_the_target_and_keeps_comments(
    template_id: str, edit: str, path: tuple[Any, ...], value: Any
) -> None:
    before = catalog.template_text(template_id)
    after = catalog.new(template_id, [edit])
    assert _diff(_data(before), _data(after)) == [path]
    node = _data(after)
    for part in path:
        node = node[part]
    assert node == value and type(node) is type(value)
    assert _comments(after) == _comments(before)
    changed = [line for line in after.splitlines() if line not in before.splitlines()]
    assert len(changed) == 1, changed


def test_name_sets_metadata_name_only() -> None:
    before = catalog.template_text("iot")
    after = catalog.new("iot", name="fleet-prod")
    assert _diff(_data(before), _data(after)) == [("metadata", "name")]
    assert loads(after).metadata.name == "fleet-prod"
    assert loads(catalog.new("iot", ["name=fleet-2"])).metadata.name == "fleet-2"


def test_new_keys_follow_the_model_order_and_keep_blank_lines() -> None:
    before = catalog.template_text("ecommerce")
    after = catalog.new(
        "ecommerce",
        [
            "sagas.place-order.timeout=10s",
            "services.notification.endpoints.on-order-placed.errorRate=0.01",
            "services.order.clients.product.timeout=1s",
        ],
    )
    assert sorted(_diff(_data(before), _data(after))) == sorted(
        [
            ("spec", "sagas", "place-order", "timeout"),
            ("spec", "services", "notification", "endpoints", "on-order-placed", "errorRate"),
            ("spec", "services", "order", "clients", "product"),
        ]
    )
    lines = after.splitlines()
    # The blank line that ended the saga block still separates it from `mesh:`.
    timeout = lines.index("      timeout: 10s")
    assert lines[timeout + 1] == "" and lines[timeout + 2] == "  mesh:"
    # errorRate goes after work, as in the model; the section comment stays below it.
    rate = lines.index("          errorRate: 0.01")
    assert "work:" in lines[rate - 1] and lines[rate + 1] == ""
    assert _comments(after) == _comments(before)
    assert after.count("\n\n") == before.count("\n\n")


def test_list_items_can_be_appended_in_the_siblings_style() -> None:
    after = catalog.new(
        "ecommerce",
        [
            "slos.3.name=order-errors",
            "slos.3.target=/orders",
            "slos.3.availability=99",
            "metadata.patterns.7=bulkhead",
        ],
    )
    assert "    - {name: order-errors, target: /orders, availability: 99}" in after
    arch = loads(after)
    assert arch.spec.slos[3].availability == 99
    assert arch.metadata.patterns[-1] == "bulkhead"


def test_editing_an_aliased_block_leaves_the_other_aliases_alone() -> None:
    after = catalog.new("travel-booking", ["services.hotel.clients.hotel-api.timeout=3s"])
    arch = loads(after)
    services = arch.spec.services
    assert services["hotel"].clients["hotel-api"].timeout == 3.0
    assert services["flight"].clients["airline-api"].timeout == 2.0
    assert services["car"].clients["car-api"].timeout == 2.0
    before = loads(catalog.template_text("travel-booking"))
    policy = before.spec.services["flight"].clients["airline-api"]
    assert services["hotel"].clients["hotel-api"].retry == policy.retry


def test_values_mean_what_they_would_in_the_file() -> None:
    after = catalog.new(
        "ecommerce",
        [
            'metadata.description="yes"',
            "services.user.description=null",
            'services.product.description="5"',
            "services.order.endpoints.place.work={type: lognormal, p50: 6ms, p99: 40ms}",
        ],
    )
    data = _data(after)
    assert data["metadata"]["description"] == "yes"
    assert '  description: "yes"' in after  # quoted, or YAML 1.1 would read it as true
    assert data["spec"]["services"]["user"]["description"] is None
    assert data["spec"]["services"]["product"]["description"] == "5"
    work = loads(after).spec.services["order"].endpoints["place"].work
    assert work.p50 == pytest.approx(0.006)  # type: ignore[union-attr]


def test_quoted_segments_reach_keys_with_dots() -> None:
    after = catalog.new("ecommerce", ['metadata.labels."app.kubernetes.io/team"=shop'])
    assert loads(after).metadata.labels == {"app.kubernetes.io/team": "shop"}


def test_parse_set_forms() -> None:
    assert parse_set("a.b.0.c=1").segments == ("a", "b", 0, "c")
    assert parse_set("a.b[0].c=1").segments == ("a", "b", 0, "c")
    assert parse_set('a."0"=x').segments == ("a", "0")
    assert parse_set("a=b=c").value == "b=c"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("services.order.replica=5", "has no field 'replica'; did you mean 'replicas'?"),
        ("services.ordr.replicas=5", "has no entry 'ordr'; did you mean 'order'?"),
        ("nonsense.x=1", "spec has no field 'nonsense'"),
        ("gateway.routes.9.path=/x", "index 9 is out of range: spec.gateway.routes has 4 items"),
        ("gateway.routes.first.path=/x", "is a list; use an item index 0..3"),
        ("services.order.replicas.x=1", "is the value 3, not a mapping or a list"),
        (
            "services.order.replicas=five",
            "--set services.order.replicas=five: spec.services.order.replicas: Input should be a valid integer",
        ),
        ("services.order.replicas=0", "greater than or equal to 1"),
        ("services.order.clients.payment.timeout=5", "expected a duration with a unit"),
        ("services.order.replicas", "expected KEY=VALUE"),
        ("services.order.replicas=", "no value after '='"),
        ("=3", "empty key segment"),
        ("services..replicas=3", "empty key segment"),
        ("services.order.replicas=[1, 2", "the value is not valid YAML"),
        ("name=Shop_1", "--set name=Shop_1: metadata.name: String should match pattern"),
        ("metadata.description=yes", "got True; quote it if it is text"),
    ],
)
def test_bad_sets_are_explained(edit: str, message: str) -> None:
    with pytest.raises(CatalogError) as info:
        catalog.new("ecommerce", [edit])
    assert message in str(info.value)


def test_errors_are_blamed_on_the_set_that_caused_them() -> None:
    with pytest.raises(CatalogError) as info:
        catalog.new(
            "ecommerce",
            ["services.order.replicas=4", "gateway.routes.0.path=/people", "simulation.seed=3"],
        )
    text = str(info.value)
    assert "--set gateway.routes.0.path=/people: spec.traffic.shoppers.mix[2].route" in text
    assert "replicas=4:" not in text and "seed=3:" not in text


def test_unknown_template() -> None:
    with pytest.raises(CatalogError, match="no template 'shop'"):
        catalog.new("shop")


def test_apply_sets_on_any_text() -> None:
    text = catalog.template_text("api-gateway").replace("name: edge", "name: edge-2")
    out = apply_sets(text, ["gateway.replicas=3"])
    assert loads(out).spec.gateway.replicas == 3  # type: ignore[union-attr]
    assert apply_sets(text, []) == text
