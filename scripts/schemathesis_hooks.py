"""schemathesis hooks for scripts/schemathesis.sh.

Request bodies that are not UTF-8 and header values that are not ASCII are left out:
`cargo lambda watch`, which serves the functions locally, cannot put them into an API Gateway
event and answers 500 itself, before any function runs. The functions' own answer to a binary body (400 `[invalidJSON]`) is covered by the
unit tests of shared/src/http.
"""

import schemathesis


@schemathesis.hook
def filter_body(ctx, body):
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


@schemathesis.hook
def filter_headers(ctx, headers):
    # Likewise for header values that are not ASCII: `cargo lambda watch` answers 500 for them
    # itself. The functions treat such an `X-FusionAuth-TenantId` as naming no tenant (unit
    # tests in shared/src/http/mod.rs).
    return all(str(value).isascii() for value in (headers or {}).values())
