# t/docs/local.mk: docs/openapi.json against the route table (both ways, plus
# openapi-spec-validator), and Swagger UI at /docs driven in headless Chromium.
TESTS += t/docs/check-openapi.py
EXTRA_DIST += t/docs/check-openapi.py
