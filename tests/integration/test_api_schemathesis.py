"""Schemathesis against /api/v1 in-process (WSGI): every operation of the OpenAPI document,
a bounded number of generated requests each, with a merchant's token and the default checks
(server errors, status codes, content types, response schemas, negative data rejection,
ignored auth). `positive_data_acceptance` is left out: schema-valid ids and masses that name
nothing in this database (listing 0, 0.00 g) are rightly refused with 422 by the domain."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

EXAMPLES = int(os.environ.get("QC_SCHEMATHESIS_EXAMPLES", "8"))


@pytest.mark.filterwarnings("ignore")  # schemathesis/hypothesis internals warn; the checks decide
def test_api_conforms_to_its_openapi_document(app, world, token):
    auth = token("merchant1")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        @given(operation.as_strategy())
        def run(case):
            case.call_and_validate(headers=auth, excluded_checks=[positive_data_acceptance])

        try:
            run()
        except BaseException as exc:  # a FailureGroup is a BaseExceptionGroup
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations >= 20
    assert failures == [], "\n\n".join(failures)
