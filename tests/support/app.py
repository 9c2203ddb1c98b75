"""The app in process on a test's services, and bearer tokens for its people.

The fixtures take the `services` fixture of the folder that uses them: a conftest imports them to offer them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import pytest
from starlette.testclient import TestClient

from catalog.api.app import create_app
from catalog.api.auth import issue_token
from catalog.principal import SYSTEM
from catalog.services import Services


def token_for(services: Services, person_id: str) -> str:
    """A bearer token for one of the services' people, signed with the services' settings."""
    return issue_token(services.reads.person(SYSTEM, person_id), services.ctx.settings.auth)


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    """The app `catalog serve` runs, in process; a server error answers 500 as it would when served."""
    with TestClient(create_app(services), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def token(services: Services) -> Callable[[str], str]:
    """Issues a bearer token for a person of the test's services."""
    return partial(token_for, services)
