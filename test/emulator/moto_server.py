"""moto_server with S3 bucket policies evaluated the way S3 evaluates them.

moto enforces bucket policies but ignores their conditions (it supports only StringEquals,
without request context), so a bucket with the usual TLS-only statement
    Deny s3:* when aws:SecureTransport is false
refuses every request, and a storage-class rule cannot be tested at all. This wrapper replaces
the bucket's policy check with one that evaluates conditions against the request: the scheme
(aws:SecureTransport) and the S3 request headers (s3:x-amz-*). Statements it cannot judge (a
principal other than "*", an operator it does not know) are left out, as moto leaves them out:
the identity side is moto's IAM enforcement.

Run as: python3 moto_server.py -H 127.0.0.1 -p PORT -c CERT -k KEY
"""

import fnmatch
import json
import sys

from moto.iam.access_control import PermissionResult
from moto.s3 import models as s3_models
from moto.server import main


def _request_context():
    try:
        from flask import request

        context = {"aws:securetransport": "true" if request.scheme == "https" else "false"}
        for name, value in request.headers.items():
            name = name.lower()
            if name.startswith("x-amz-"):
                context["s3:" + name] = value
        return context
    except RuntimeError:  # outside a request
        return {"aws:securetransport": "true"}


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _like(pattern, value):
    return fnmatch.fnmatchcase(value, pattern)


_OPERATORS = {
    "StringEquals": lambda want, got: got == want,
    "StringNotEquals": lambda want, got: got != want,
    "StringEqualsIgnoreCase": lambda want, got: got.lower() == want.lower(),
    "StringNotEqualsIgnoreCase": lambda want, got: got.lower() != want.lower(),
    "StringLike": lambda want, got: _like(want, got),
    "StringNotLike": lambda want, got: not _like(want, got),
    "ArnEquals": lambda want, got: got == want,
    "ArnNotEquals": lambda want, got: got != want,
    "ArnLike": lambda want, got: _like(want, got),
    "ArnNotLike": lambda want, got: not _like(want, got),
    "Bool": lambda want, got: got.lower() == str(want).lower(),
}


def _condition_holds(operator, key, wanted, context):
    """Returns True/False, or None when the operator is unknown."""
    if operator == "Null":
        absent = key.lower() not in context
        return any(absent == (str(w).lower() == "true") for w in _as_list(wanted))
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    test = _OPERATORS.get(base)
    if test is None:
        return None
    got = context.get(key.lower())
    if got is None:
        # A missing key makes IfExists and negated operators true, the others false.
        return if_exists or "Not" in base
    wanted = _as_list(wanted)
    if "Not" in base:
        return all(test(w, got) for w in wanted)
    return any(test(w, got) for w in wanted)


def _statement_applies(statement, action, resource, context):
    principal = statement.get("Principal")
    if principal not in ("*", {"AWS": "*"}):
        return False
    if "NotAction" in statement:
        if any(_like(a, action) for a in _as_list(statement["NotAction"])):
            return False
    elif not any(_like(a, action) for a in _as_list(statement.get("Action", []))):
        return False
    if "NotResource" in statement:
        if any(_like(r, resource) for r in _as_list(statement["NotResource"])):
            return False
    elif not any(_like(r, resource) for r in _as_list(statement.get("Resource", []))):
        return False
    for operator, pairs in statement.get("Condition", {}).items():
        for key, wanted in pairs.items():
            holds = _condition_holds(operator, key, wanted, context)
            if holds is None:
                print(f"bucket policy: operator {operator} is not evaluated; statement skipped", file=sys.stderr)
                return False
            if not holds:
                return False
    return True


def get_permission(self, action, resource):
    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(self.policy)
    context = _request_context()
    result = PermissionResult.NEUTRAL
    for statement in _as_list(policy.get("Statement", [])):
        if _statement_applies(statement, action, resource, context):
            if statement.get("Effect") == "Deny":
                return PermissionResult.DENIED
            result = PermissionResult.PERMITTED
    return result


s3_models.FakeBucket.get_permission = get_permission

if __name__ == "__main__":
    sys.exit(main())
