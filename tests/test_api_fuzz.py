"""Schema fuzzing (Schemathesis) of the whole API against its own description, as a
counsellor's read-write token on a seeded college: no server error, no answer that breaks the
schema, no undocumented status code. Bounded: a few examples per operation."""

from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from caretrack.extensions import db
from caretrack.services.api_tokens import create_token
from tests import factories

pytestmark = pytest.mark.api_fuzz


@pytest.fixture
def api_schema(app, college):
    for n in range(5):
        factories.StudentFactory(counsellor=college.counsellor, student_number=f"0{n}2020")
    factories.CategoryFactory(code="hubei", name_zh="在湖北")
    factories.ReferralFactory(student=college.graduate, supervisor=college.supervisor,
                              referred_by=college.counsellor)
    db.session.commit()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def counsellor_headers(college):
    _token, secret = create_token(college.counsellor, name="fuzz", scope="read_write", days=7,
                                  now=datetime.now(UTC))
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


#: A rule's refusal of schema-valid data (a 422 with its code) is the API working, so
#: "positive data acceptance" is not asked for.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def test_the_api_keeps_its_description(api_schema, counsellor_headers):
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=4, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case):
            case.call_and_validate(headers=counsellor_headers, checks=CHECKS)

        call()
