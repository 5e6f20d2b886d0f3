"""Idempotency-Key on every POST of the JSON APIs: a retried request gets the first answer, not a second
execution (backend/idempotency/http.py says how)."""

# The surfaces whose every POST takes the header; the console's forms have CSRF tokens and 303s instead.
IDEMPOTENT_PREFIXES = ("/mobile/", "/review/", "/admin/", "/integrations/")
# tus (mobile_api/v1/tus.py) retries by its own rules (an upload answers its offset; a creation whose answer
# was lost leaves an upload that expires), and its requests differ in headers, which no fingerprint reads.
OWN_RETRIES = ("/mobile/v1/tus",)


def takes_key(method: str, path: str) -> bool:
    """Whether a request to `path` with `method` honours an Idempotency-Key."""
    return method == "POST" and path.startswith(IDEMPOTENT_PREFIXES) and not path.startswith(OWN_RETRIES)
