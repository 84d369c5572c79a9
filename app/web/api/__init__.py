"""The JSON API under /api/v1, for the same operations as the pages (documented by OpenAPI).

Authentication: `Authorization: Bearer <token>` from `POST /api/v1/tokens` (recommended for
apps), or the browser's session cookie with an `X-CSRF-Token` header on every write.
Writes that record progress accept an `Idempotency-Key` header; errors are RFC 9457 problems.
"""
