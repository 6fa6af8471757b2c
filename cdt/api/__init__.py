"""The read API for provincial platforms (/api/v1) and its DHIS2 export.

- models.py: personal API tokens (stored hashed); tokens.py: create, find, revoke;
- auth.py: who is calling (Bearer token only; cookies never authenticate the API), JSON errors;
- spec.py: the endpoints' declarations, from which /api/v1/openapi.json is generated;
- views.py: the endpoints (read-only, scoped through cdt.auth.scope like the pages);
- dhis2.py: coverage and outputs as a DHIS2 dataValueSet; cli.py: `flask cdt export dhis2`;
- pages.py: /account/tokens (create, revoke) and /api/v1/docs (the readable documentation).
"""
