"""Property-based tests of the JSON API from its own OpenAPI schema (schemathesis):
whatever a client sends that the schema allows — or breaks on purpose — the server never
answers with a 5xx, and answers only with status codes the schema declares.

Runs as a member (the role whose writes reach the ballot and ranking rules); a bounded
number of examples per operation keeps it under a minute. The operations are driven
one by one through Hypothesis, so the schema can come from a fixture-built app.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance
from server_helpers import bearer

EXAMPLES_PER_OPERATION = 10
SKIP = {("POST", "/api/v1/tokens")}  # wrong passwords would trip the sign-in rate limit


def test_no_server_errors(app, world):
    world.open_round("Schemathesis round")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = bearer(world, "m1")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    checked = 0
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIP:
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            case.call_and_validate(
                headers=headers, checks=[not_a_server_error, status_code_conformance]
            )

        check()
        checked += 1
    assert checked == len(operations) - len(SKIP)


def test_sign_in_endpoint_never_errors(app, world):
    """The token endpoint, with generated credentials for a user that may be locked out."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = schema.find_operation_by_path("POST", "/api/v1/tokens")

    @given(case=operation.as_strategy(), name=st.sampled_from(["nobody", "m2", "x" * 64]))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case, name) -> None:
        if isinstance(case.body, dict) and "username" in case.body:
            case.body["username"] = name if name != "m2" else "nobody-else"
        case.call_and_validate(checks=[not_a_server_error, status_code_conformance])

    check()
