"""Schemathesis over the whole OpenAPI document, against the app in-process (WSGI): for inputs it
generates from the document, every answer conforms to the document and none is a 500.

Runs where schemathesis is installed (requirements-dev.txt); skipped, and said so, elsewhere.
tests/test_api.py holds a smaller generated-input run that needs only Hypothesis."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

from cdt.extensions import db  # noqa: E402


@pytest.fixture
def officer_token(app):
    """A team in the officer's commune, and the officer's token (the secret)."""
    from cdt.api import tokens
    from tests.factories import create_user, gen_team, gen_village, unit

    app.config["CDT_API_RATE_LIMIT"] = "1000000/minute"
    with app.app_context():
        gen_team(gen_village(unit("02866")), members=2)
        officer = create_user("commune_officer", "02866", username="schemathesis-officer")
        _token, secret = tokens.create(officer, "schemathesis", date.today() + timedelta(days=1))
        db.session.commit()
    return secret


@pytest.mark.bare
def test_the_api_conforms_to_its_document(app, officer_token):
    """Every operation of /api/v1/openapi.json, with every check but "schema-valid data accepted": some
    requests valid one parameter at a time are refused for their combination (a 400 that the page gives
    too, e.g. `by=province` inside a commune)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {officer_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 11
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        run()
