"""The API answers what its OpenAPI description promises, checked by schemathesis.

A Tech BA and an Implementation Lead of the demo engagement (which has a contract, a catalog, a
mapping, reviews and a test run) call every operation of the live schema with generated input,
valid and invalid. No answer may be a server error, and every answer must have a documented status
code, a documented content type and a body that matches the documented schema.

Bounded so the whole module stays around a minute or two: a few examples per operation and mode,
derandomized (the same cases every run), no shrinking. Operations run reads first, then writes,
then deletes (DELETE runs on the same engagement, last, so nothing after it depends on what it
removed). The demo job is left out: it sleeps by design (seconds per step).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
import werkzeug.test
from django.conf import settings
from django.contrib.auth.models import User
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from workbench.demo import DEMO_SLUG, load_demo

pytestmark = pytest.mark.django_db

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# OPENAPI_FUZZ_SCALE=10 multiplies the examples for a deeper (slower) hunt by hand.
SCALE = int(os.environ.get("OPENAPI_FUZZ_SCALE", "1"))
EXAMPLES = {GenerationMode.POSITIVE: 3 * SCALE, GenerationMode.NEGATIVE: 2 * SCALE}
LEFT_OUT = re.compile(r"/demo-job/$")  # sleeps by design; its own tests cover it
METHOD_ORDER = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}


def session_credentials(user: User) -> dict[str, dict[str, str]]:
    """How the fuzzer signs in: a session cookie plus a CSRF token, as a browser would.

    The one place that knows the authentication scheme (a token header would go here instead).
    """
    client = Client()
    client.force_login(user)
    csrf = _get_new_csrf_string()
    cookies = {
        settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
        settings.CSRF_COOKIE_NAME: csrf,
    }
    return {"cookies": cookies, "headers": {"X-CSRFToken": csrf}}


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """The app in-process, on this test's database connection (as Django's test client does:
    the per-request connection clean-up would otherwise close the test transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@dataclass
class Findings:
    operations: int = 0
    cases: int = 0
    failures: list[str] = field(default_factory=list)


def fuzz(app: WSGIHandler, user: User) -> Findings:
    credentials = session_credentials(user)
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", app, headers=_cookie_header(credentials)
    )
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda op: (METHOD_ORDER[op.method.upper()], op.path),
    )
    findings = Findings()
    for operation in operations:
        if LEFT_OUT.search(operation.path):
            continue
        findings.operations += 1
        path_parameters = _real_path_parameters(app, operation.path, credentials)
        for mode, examples in EXAMPLES.items():
            if mode is GenerationMode.NEGATIVE and not _has_free_input(operation, path_parameters):
                continue  # nothing left to make invalid: looking for it is slow and finds nothing
            _fuzz_operation(app, operation, mode, examples, path_parameters, credentials, findings)
    return findings


def _fuzz_operation(
    app: WSGIHandler,
    operation: Any,
    mode: GenerationMode,
    examples: int,
    path_parameters: dict[str, Any],
    credentials: dict[str, dict[str, str]],
    findings: Findings,
) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @hypothesis_settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the report names the case
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        findings.cases += 1
        response = case.call(app=app, **_merged(case, credentials))
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup) as failure:  # a Failure, or a FailureGroup
            findings.failures.append(
                f"{operation.method.upper()} {operation.path} [{mode.value}] "
                f"→ {response.status_code}: {_describe(failure)}\n    {case.as_curl_command()}"
            )

    try:
        run()
    except Unsatisfiable:
        # Path parameters are pinned to real rows; an operation with no other input has no
        # invalid variant left to generate.
        if mode is not GenerationMode.NEGATIVE:
            raise


def _has_free_input(operation: Any, path_parameters: dict[str, Any]) -> bool:
    free_path = {p.name for p in operation.path_parameters} - set(path_parameters)
    return bool(free_path or len(operation.query) or len(operation.body))


def _merged(case: Any, credentials: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The credentials win over generated cookies/headers of the same name."""
    return {
        "cookies": {**(case.cookies or {}), **credentials["cookies"]},
        "headers": {**(case.headers or {}), **credentials["headers"]},
    }


def _cookie_header(credentials: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    cookie = "; ".join(f"{k}={v}" for k, v in credentials["cookies"].items())
    return {"headers": {"Cookie": cookie}}


def _real_path_parameters(
    app: WSGIHandler, path: str, credentials: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """The demo engagement, and the first object of the list above `{id}`/`{number}`, so cases
    reach real rows rather than 404 every time."""
    parameters: dict[str, Any] = {}
    if "{engagement_slug}" in path:
        parameters["engagement_slug"] = DEMO_SLUG
    if "{slug}" in path:
        parameters["slug"] = DEMO_SLUG
    for name in ("id", "number"):
        marker = "{" + name + "}"
        if marker in path:
            listing = path.split(marker)[0].format(engagement_slug=DEMO_SLUG, slug=DEMO_SLUG)
            value = _first_of(app, listing, name, credentials)
            if value is not None:
                parameters[name] = value
    return parameters


def _first_of(
    app: WSGIHandler, listing: str, key: str, credentials: dict[str, dict[str, str]]
) -> Any:
    # Werkzeug's client, not Django's: Django's reconnects the connection clean-up afterwards.
    client = werkzeug.test.Client(app)
    for name, value in credentials["cookies"].items():
        client.set_cookie(name, value)
    answer = client.get(listing)
    if answer.status_code != 200:
        return None
    body = answer.json
    rows = body.get("results", []) if isinstance(body, dict) else body
    return rows[0].get(key) if rows and isinstance(rows[0], dict) else None


def _describe(failure: BaseException) -> str:
    parts = getattr(failure, "exceptions", None) or [failure]
    return " | ".join(
        f"{getattr(part, 'title', type(part).__name__)}: {getattr(part, 'message', str(part))[:400]}"
        for part in parts
    )


def _assert_clean(role: str, findings: Findings) -> None:
    print(
        f"\nschemathesis as {role}: {findings.operations} operations, {findings.cases} cases, "
        f"{len(findings.failures)} failures"
    )
    assert findings.operations > 100, "the schema lost operations"
    assert not findings.failures, "\n".join(findings.failures)


@pytest.fixture
def demo_users() -> Callable[[str], User]:
    load_demo()
    return lambda username: User.objects.get(username=username)


def test_a_tech_ba_gets_only_documented_answers_from_every_operation(wsgi_app, demo_users):
    _assert_clean("Tech BA", fuzz(wsgi_app, demo_users("ba")))


def test_a_lead_gets_only_documented_answers_from_every_operation(wsgi_app, demo_users):
    _assert_clean("Lead", fuzz(wsgi_app, demo_users("lead")))
