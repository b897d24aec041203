"""The example domains load into the model the catalogue and the pipeline rely on."""

from __future__ import annotations

from pipeline.contract import Action, Backstage, Catalogue, Lifecycle
from pipeline.contract.schemas import validator_for

EXPECTED = {
    "payments": {"Payment.Authorised.Ecom", "Payment.Authorised.Pos", "Payment.AuthorisedV2.Ecom",
                 "Payment.AuthorisedV2.Pos", "Payment.Captured.Ecom", "Payment.Refunded.Ecom", "Payment.Declined.Ecom"},
    "orders": {"Order.Created.Uk", "Order.Created.Ie", "Order.Shipped.Uk", "Order.Cancelled.Uk"},
    "baskets": {"Basket.Created.Eu", "Basket.ItemAdded.Eu", "Basket.Paid.Eu", "Basket.Abandoned.Eu"},
}


def test_examples_are_strictly_valid(examples_catalogue: Catalogue) -> None:
    assert [str(d) for d in examples_catalogue.errors] == []


def test_each_document_holds_its_events(examples_catalogue: Catalogue) -> None:
    found = {doc.id: {e.name for e in doc.events} for doc in examples_catalogue.documents}
    assert found == EXPECTED


def test_both_asyncapi_majors_are_normalised_with_versions(examples_catalogue: Catalogue) -> None:
    versions = {doc.id: (doc.asyncapi, doc.info.version) for doc in examples_catalogue.documents}
    assert versions["orders"][0] == "2.6.0"
    assert versions["payments"][0] == versions["baskets"][0] == "3.0.0"
    for doc in examples_catalogue.documents:
        assert all(event.version == doc.info.version for event in doc.events)


def test_names_split_into_the_hierarchy(examples_catalogue: Catalogue) -> None:
    event = examples_catalogue.event("Payment.AuthorisedV2.Ecom")
    assert event.parts == ("Payment", "AuthorisedV2", "Ecom")


def test_direction_is_normalised_across_majors(examples_catalogue: Catalogue) -> None:
    v2 = examples_catalogue.event("Payment.AuthorisedV2.Ecom")
    assert v2.producers == ("payments",)  # AsyncAPI 3 `send`
    assert v2.consumers == ("orders",)  # AsyncAPI 2 `publish` = the orders application receives it
    created = examples_catalogue.event("Order.Created.Uk")
    assert created.producers == ("orders",)  # AsyncAPI 2 `subscribe` = the orders application sends it
    ie = examples_catalogue.event("Order.Created.Ie")
    assert {op.action for op in ie.operations} == {Action.SEND, Action.RECEIVE}
    assert ie.consumers == ("baskets",)


def test_a_message_no_operation_names_is_still_an_event(examples_catalogue: Catalogue) -> None:
    abandoned = examples_catalogue.event("Basket.Abandoned.Eu")
    assert abandoned.operations == ()
    assert abandoned.payload is not None and abandoned.examples


def test_external_refs_are_bundled_into_defs(examples_catalogue: Catalogue) -> None:
    schema = examples_catalogue.event("Order.Created.Uk").payload
    assert schema is not None
    defs = schema.definitions
    assert {"money", "address", "line-item", "Currency"} <= set(defs)
    text = repr(schema.document)
    assert "./" not in text and ".yaml" not in text  # every reference now points into the bundle


def test_the_recursive_schema_stays_a_reference(examples_catalogue: Catalogue) -> None:
    line_item = examples_catalogue.event("Order.Created.Uk").payload.definitions["line-item"]
    assert line_item["properties"]["components"]["items"] == {"$ref": "#/$defs/line-item"}


def test_every_example_validates_against_the_bundled_schema(examples_catalogue: Catalogue) -> None:
    for event in examples_catalogue.events:
        assert event.examples, event.name
        validator = validator_for(event.payload.document, event.payload.dialect)
        for example in event.examples:
            assert list(validator.iter_errors(example.payload)) == [], (event.name, example.name)


def test_traits_bring_in_the_headers(examples_catalogue: Catalogue) -> None:
    for event in examples_catalogue.events:
        assert event.headers is not None, event.name
        assert "correlationId" in event.headers.document["properties"]


def test_extensions_and_lifecycle_reach_the_model(examples_catalogue: Catalogue) -> None:
    v1 = examples_catalogue.event("Payment.Authorised.Ecom")
    assert v1.deprecated
    assert v1.extension("x-lifecycle")["supersededBy"].startswith("Payment.AuthorisedV2")
    assert v1.lifecycle == Lifecycle("deprecated", "Payment.AuthorisedV2.Ecom", "2026-12-31")
    assert v1.lifecycle.retiring
    assert examples_catalogue.event("Payment.AuthorisedV2.Ecom").lifecycle == Lifecycle("active")
    assert "patch" in v1.extension("x-enrichment")
    payments = next(d for d in examples_catalogue.documents if d.id == "payments")
    assert payments.extensions["x-eventbridge"]["source"]
    assert payments.owner and payments.owner.startswith("group:")
    assert payments.backstage == Backstage("group:default/payments-team", "checkout", "payments", "production")


def test_every_model_object_says_where_it_came_from(examples_catalogue: Catalogue) -> None:
    event = examples_catalogue.event("Basket.Paid.Eu")
    assert event.location.file.endswith("baskets.yaml") and event.location.line
    assert event.location.pointer.startswith("/components/messages/")
    assert event.examples[0].location.pointer.endswith("/examples/0")
    assert event.payload.location.line
    for operation in event.operations:
        assert operation.location.line


def test_document_metadata_says_where_it_came_from(examples_catalogue: Catalogue) -> None:
    payments = next(d for d in examples_catalogue.documents if d.id == "payments")
    assert payments.info.location.pointer == "/info" and payments.info.location.line
    assert all(tag.location and tag.location.line for tag in payments.tags)
    assert all(server.location.line for server in payments.servers)


def test_a_malformed_lifecycle_keeps_only_its_well_typed_members() -> None:
    # The contract checks report the bad members; the model must still be usable in lenient mode.
    assert Lifecycle.from_extension({"status": 3, "supersededBy": "Order.Created.Uk", "sunset": ""}) == Lifecycle(
        None, "Order.Created.Uk", None)
    assert Lifecycle.from_extension("deprecated") is None
    assert Lifecycle.from_extension(None) is None  # a message that declares none
    assert not Lifecycle("active").retiring


def test_a_malformed_backstage_block_keeps_only_its_well_typed_members() -> None:
    assert Backstage.from_extension({"owner": "team-a", "system": 7, "lifecycle": ""}) == Backstage("team-a")
    assert Backstage.from_extension(None) is None
