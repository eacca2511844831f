"""The sign-in throttle and server-side sessions on PostgreSQL (row locks, ON CONFLICT)."""

from __future__ import annotations

import pytest
from test_accounts_api import (  # noqa: F401 - collected here, on PostgreSQL
    test_a_cookie_saved_before_sign_out_is_refused_afterwards,
    test_concurrent_wrong_passwords_are_counted_before_the_hash,
    test_others_failures_on_a_shared_address_do_not_lock_out_the_owner,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def backend() -> str:
    return "postgres"
