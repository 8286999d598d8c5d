"""moto_server with S3 bucket policies evaluated the way S3 evaluates them, and SQS event
source mappings left to the local cloud.

moto enforces bucket policies but ignores their conditions (it supports only StringEquals,
without request context), so a bucket with the usual TLS-only statement
    Deny s3:* when aws:SecureTransport is false
refuses every request, and a storage-class rule cannot be tested at all. This wrapper replaces
the bucket's policy check with one that evaluates conditions against the request: the scheme
(aws:SecureTransport) and the S3 request headers (s3:x-amz-*). Statements it cannot judge (a
principal other than "*", an operator it does not know) are left out, as moto leaves them out:
the identity side is moto's IAM enforcement, whose conditions on those same request keys are
evaluated here too (moto ignores identity policies' conditions).

Without Docker moto cannot run a function, yet on every SendMessage it receives the batch for
each SQS event source mapping, fails to invoke, and puts the messages back: every message's
receive count grows before anything really consumed it, and redrive to the DLQ comes early.
Here mappings are kept (the Lambda API lists and updates them) but never attached to their
queue, so the local cloud's poller is the only consumer, as Lambda's pollers are on AWS.

AWS services reach buckets through bucket policies that name them as principals: CloudFront's
origin access control, for one. A request signed with SERVICE_ACCESS_KEYS's keys is that
service: statements naming {"Service": ...} apply to it, its signed X-Amz-Source-Arn and
X-Amz-Source-Account headers are the aws:SourceArn and aws:SourceAccount condition values,
nothing but the bucket policy lets it in, and IAM enforcement does not look it up. And a role
that trusts only a service principal can be assumed (moto fails such trust policies with a
500): the local cloud assumes roles on behalf of Lambda and EC2, as those services do. Under
IAM enforcement, requests are checked against the path and query as signed, and actions
against the resource their parameters name (a CloudFront distribution by its id, the SES
identity an email is sent from).

Under IAM enforcement, DeleteObjects is authorised for each object it names, as S3 does, and
SQS's batch actions as the action on one message (SendMessageBatch as sqs:SendMessage), as SQS
does.

moto creates CloudFront key groups but cannot delete them; DeleteKeyGroup is added so that a
distribution requiring signed URLs can be destroyed. moto has no response headers policy API:
its create, get, update, delete and list are added, kept per account, with CloudFront's ETag
check on update and delete and its refusal to delete a policy a distribution uses.

S3 stores a PUT's body as object data whatever its Content-Type; moto, through Flask, parsed a
form-typed body (curl --data-binary and Python's urllib send one by default) as a form and
answered 413 past werkzeug's form limit, or lost it. And moto announced a completed multipart
upload twice (ObjectCreated:Put, then ObjectCreated:CompleteMultipartUpload), where S3 sends
the second alone: every large upload reached the transcoder twice.

Under IAM enforcement, CORS preflights and the user pool operations an app calls without
credentials (SRP's RespondToAuthChallenge, GlobalSignOut and the like) are not authorised
against IAM, as on AWS. In a pool whose users sign in by email, the ID token's email claim is the user's email
attribute, as Cognito's is, whichever way they signed in (moto wrote the sub there after an
SRP sign-in).

A presigned S3 request is checked as S3 checks it, with or without IAM enforcement: refused
with 403 AccessDenied ("Request has expired") past X-Amz-Date plus X-Amz-Expires, and with 403
SignatureDoesNotMatch when its signature does not cover what was sent, so that a body of
another size or content type than the signed Content-Length and Content-Type is refused (moto
checks neither without enforcement, and not the signature even with it). The secret is the one
the emulator issued for the access key (an assumed role's, an IAM user's); a key it never
issued is left unchecked, as moto leaves it.

Faults, for the load and fault tests: POST {"s3_slow_down": {"share": 0.05, "seconds": 20}} to
/moto-api/mediastack/faults and, for that long, that share of the S3 requests an SDK signs
(with the Authorization header; not the service principal's) is answered 503 SlowDown, as S3
answers a prefix over its request rate. GET reads the settings and how many were injected.

SES keeps what it sent to itself; so does moto, out of reach of any API. The messages are
listed, as JSON, at /moto-api/mediastack/ses/sent-messages, for tests to read back.

Run as: python3 moto_server.py -H 127.0.0.1 -p PORT -c CERT -k KEY
"""

import datetime
import fnmatch
import hashlib
import hmac
import html
import io
import json
import random
import re
import sys
import threading
import time
import uuid
from email.utils import parseaddr
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from flask import Request as FlaskRequest, current_app
from moto.cloudfront import responses as cloudfront_responses
from moto.cloudfront import urls as cloudfront_urls
from moto.cloudfront.exceptions import CloudFrontException
from moto.cognitoidp import models as cognitoidp_models
from moto.core.responses import ActionAuthenticatorMixin, ActionResult, BaseResponse, EmptyResult
from botocore.awsrequest import AWSRequest
from moto.iam.access_control import IAMPolicyStatement, IAMRequestBase, PermissionResult
from moto.rds import models as rds_models
from moto.s3 import models as s3_models
from moto.s3 import responses as s3_responses
from moto.s3.exceptions import ReplicationConfigurationNotFoundError
from moto.sqs import models as sqs_models
from moto.moto_api._internal import urls as moto_api_urls
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main


# Access keys that stand for an AWS service principal (see the module comment). Kept in step
# with emulator.ServiceCredentials.
SERVICE_ACCESS_KEYS = {"AKIASERVICECLOUDFRONT": "cloudfront.amazonaws.com"}


def _signing(headers, args):
    """The access key and the signed header names of a SigV4 request (header or query)."""
    auth = headers.get("Authorization", "")
    credential = re.search(r"Credential=([^/,\s]+)", auth)
    signed = re.search(r"SignedHeaders=([^,\s]+)", auth)
    if credential:
        return credential.group(1), set((signed.group(1) if signed else "").lower().split(";"))
    credential = args.get("X-Amz-Credential", "")
    return credential.split("/")[0], set(args.get("X-Amz-SignedHeaders", "").lower().split(";"))


def _request_context():
    try:
        from flask import request

        context = {"aws:securetransport": "true" if request.scheme == "https" else "false"}
        for name, value in request.headers.items():
            name = name.lower()
            if name.startswith("x-amz-"):
                context["s3:" + name] = value
        access_key, signed = _signing(request.headers, request.args)
        service = SERVICE_ACCESS_KEYS.get(access_key)
        if service:
            context["service"] = service
            for header, key in (("x-amz-source-arn", "aws:sourcearn"), ("x-amz-source-account", "aws:sourceaccount")):
                if header in signed and request.headers.get(header):
                    context[key] = request.headers[header]
        return context
    except RuntimeError:  # outside a request
        return {"aws:securetransport": "true"}


def _principal_matches(principal, context):
    if principal in ("*", {"AWS": "*"}):
        return True
    if isinstance(principal, dict) and set(principal) == {"Service"}:
        return context.get("service") in _as_list(principal["Service"])
    return False


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
    if not _principal_matches(statement.get("Principal"), context):
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


def _multipart_action(action):
    """moto checks a POST to a key against the bucket policy as s3:PostObject; S3 authorises
    CreateMultipartUpload and CompleteMultipartUpload as s3:PutObject, so a policy refusing
    a storage class must see them."""
    try:
        from flask import request

        if action == "s3:PostObject" and ("uploads" in request.args or "uploadId" in request.args):
            return "s3:PutObject"
    except RuntimeError:  # outside a request
        pass
    return action


def get_permission(self, action, resource):
    action = _multipart_action(action)
    context = _request_context()
    # A service has no identity policy: only the bucket policy can let it in.
    result = PermissionResult.DENIED if "service" in context else PermissionResult.NEUTRAL
    if self.policy is None:
        return result
    policy = json.loads(self.policy)
    for statement in _as_list(policy.get("Statement", [])):
        if _statement_applies(statement, action, resource, context):
            if statement.get("Effect") == "Deny":
                return PermissionResult.DENIED
            result = PermissionResult.PERMITTED
    return result


s3_models.FakeBucket.get_permission = get_permission

_authorize_s3 = ActionAuthenticatorMixin._authenticate_and_authorize_s3_action


_DELETED_OBJECT = re.compile(r"<Object>(.*?)</Object>", re.S)


def _authorize_s3_unless_service(self, *args, **kwargs):
    from flask import request

    access_key, _ = _signing(request.headers, request.args)
    if access_key in SERVICE_ACCESS_KEYS:
        return None  # the bucket policy alone decides, in get_permission
    if "delete" in request.args and request.method == "POST" and not kwargs.get("key_name"):
        return _authorize_each_deleted_object(self, kwargs.get("bucket_name"))
    return _authorize_s3(self, *args, **kwargs)


def _authorize_each_deleted_object(self, bucket_name):
    """moto authorises DeleteObjects against the bucket; S3 authorises each object it names,
    as s3:DeleteObject, or s3:DeleteObjectVersion when a version is named, so a role allowed
    to delete only under a prefix could delete nothing in one request. (One object refused
    refuses them all here, where S3 answers each.)"""
    body = self.body.decode() if isinstance(self.body, bytes) else (self.body or "")
    objects = _DELETED_OBJECT.findall(body)
    if not objects:  # a body this does not read: at least the bucket-level check
        return _authorize_s3(self, bucket_name=bucket_name)
    action = self.data.get("Action")
    try:
        for obj in objects:
            key = re.search(r"<Key>(.*?)</Key>", obj, re.S)
            self.data["Action"] = "DeleteObjectVersion" if "<VersionId>" in obj else "DeleteObject"
            _authorize_s3(self, bucket_name=bucket_name, key_name=html.unescape(key.group(1)) if key else "")
    finally:
        self.data["Action"] = action


ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = _authorize_s3_unless_service

_check_principal = IAMPolicyStatement._check_principal


def _check_principal_or_service(self, principal):
    expected = self._statement.get("Principal")
    if isinstance(expected, dict) and "AWS" not in expected and "Service" in expected:
        return True  # the local cloud assumes the role as the trusted service would
    return _check_principal(self, principal)


IAMPolicyStatement._check_principal = _check_principal_or_service

# Condition keys an S3 request carries itself, which moto's IAM enforcement does not see.
_REQUEST_KEYS = re.compile(r"^(s3:x-amz-.*|aws:securetransport)$")


def _request_conditions_hold(statement, context):
    for operator, pairs in statement.get("Condition", {}).items():
        for key, wanted in pairs.items():
            if _REQUEST_KEYS.match(key.lower()) and _condition_holds(operator, key, wanted, context) is False:
                return False
    return True


_is_action_permitted = IAMPolicyStatement.is_action_permitted

# SQS authorises a batch as the action on one message (IAM knows no sqs:SendMessageBatch);
# moto asks for the batch action, which no policy grants.
_SQS_BATCH_ACTIONS = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}


def _is_action_permitted_in_request(self, action, resource="*", principal=None, incoming_condition_values=None):
    """moto ignores the conditions of identity policies, so a role allowed to write only in
    one storage class could write in any, and a role whose condition S3 would never match (a
    multipart upload's parts carry no storage-class header) passed. In an S3 request, a
    statement's conditions on keys the request carries are evaluated as IAM evaluates them,
    and a statement whose condition fails does not apply; other keys are left to moto."""
    try:
        in_s3 = getattr(current_app, "service", None) == "s3"
    except RuntimeError:  # outside a request
        in_s3 = False
    if in_s3 and not _request_conditions_hold(self._statement, _request_context()):
        return PermissionResult.NEUTRAL
    action = _SQS_BATCH_ACTIONS.get(action, action)
    return _is_action_permitted(self, action, resource, principal, incoming_condition_values)


IAMPolicyStatement.is_action_permitted = _is_action_permitted_in_request


def _encoded(path):
    """The path and query as the client sent them, encoded: moto hands them decoded (Lambda's
    /tags/arn:aws:lambda:..., CloudFront's ?Resource=arn:...:distribution/ID), and botocore
    canonicalises a request URL as already encoded."""
    base, _, query = path.partition("?")
    base = quote(unquote(base), safe="/~")
    if not query:
        return base
    pairs = []
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        pairs.append(quote(unquote(key), safe="-_.~") + "=" + quote(unquote(value), safe="-_.~"))
    return base + "?" + "&".join(pairs)


def _create_aws_request_bodyless(self):
    """moto rebuilds a bodyless GET/HEAD/DELETE with its parsed parameters as the body, so
    the signature of every such request (Lambda's GetFunction, say) fails to match under IAM
    enforcement; sign what was sent: the path with its query, and an empty body."""
    if self._method in ("GET", "HEAD", "DELETE") and not self._body:
        signed = self._get_string_between("SignedHeaders=", ",", self._headers["Authorization"]).split(";")
        headers = self._create_headers_for_aws_request(signed, self._headers)
        request = AWSRequest(method=self._method, url=self._path, data=b"", headers=headers)
        request.context["timestamp"] = headers["X-Amz-Date"]
        return request
    return _create_aws_request(self)


_create_aws_request = IAMRequestBase._create_aws_request
IAMRequestBase._create_aws_request = _create_aws_request_bodyless

_iam_request_init = IAMRequestBase.__init__


def _iam_request_init_encoded(self, account_id, method, path, data, body, headers, action):
    # A presigned request carries its signature in the query, which moto's IAM enforcement
    # does not read (it fails with a KeyError): present it as the header it understands.
    query = dict(parse_qsl(urlsplit(path).query))
    presigned = "Authorization" not in headers and "X-Amz-Credential" in query
    if presigned:
        headers = {k: v for k, v in headers.items()}
        headers["Authorization"] = "AWS4-HMAC-SHA256 Credential={}, SignedHeaders={}, Signature={}".format(
            query["X-Amz-Credential"], query.get("X-Amz-SignedHeaders", "host"), query.get("X-Amz-Signature", ""))
        headers.setdefault("X-Amz-Date", query.get("X-Amz-Date", ""))
        if "X-Amz-Security-Token" in query:  # temporary credentials (an assumed role)
            headers.setdefault("X-Amz-Security-Token", query["X-Amz-Security-Token"])
    _iam_request_init(self, account_id, method, path, data, body, headers, action)
    self._path = _encoded(self._path)
    self._presigned_query = query if presigned else None


_check_signature = IAMRequestBase.check_signature


def _check_signature_or_expiry(self):
    """Presigned requests are checked for expiry, not signature (as moto checks them without
    enforcement); who signed them still decides what they may do."""
    query = self._presigned_query
    if query is None:
        return _check_signature(self)
    signed_at = datetime.datetime.strptime(query.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    expires = datetime.timedelta(seconds=int(query.get("X-Amz-Expires", "0")))
    if datetime.datetime.now(datetime.timezone.utc) > signed_at + expires:
        self._raise_access_denied()


IAMRequestBase.check_signature = _check_signature_or_expiry


IAMRequestBase.__init__ = _iam_request_init_encoded

# Parameters that name the resource an action acts on, by ARN.
_RESOURCE_PARAMS = ("SecretId", "TopicArn", "TargetArn", "ResourceArn", "KeyId", "FunctionName", "Resource")


def _string_param(response, name):
    """The request's string parameter name, or None (absent, or a body the service does not
    parse as parameters)."""
    try:
        value = response._get_param(name)
    except Exception:
        return None
    return value if isinstance(value, str) and value else None


# Services that name the resource an action acts on by something other than its ARN: the
# parameter, and the ARN it makes.
_RESOURCE_BY_NAME = {
    # SES authorises SendEmail on the sending identity: .../identity/<address or domain>.
    "sesv2": ("FromEmailAddress", lambda r, v: f"arn:aws:ses:{r.region}:{r.current_account}:identity/{parseaddr(v)[1]}"),
    # CloudFront names its distribution by id: CreateInvalidation on .../distribution/ID.
    "cloudfront": ("DistributionId", lambda r, v: f"arn:aws:cloudfront::{r.current_account}:distribution/{v}"),
}


def _determine_resource_from_params(self):
    """moto authorises most services' actions against resource "*", so under IAM enforcement
    a least-privilege statement naming its ARN never applies and every call is denied (the
    upload API's GetSecretValue on the database secret, say). Take the resource from the
    request, as IAM does."""
    for name in _RESOURCE_PARAMS:
        try:
            value = self._get_param(name)
        except Exception:  # a body this service does not parse as parameters
            return "*"
        if isinstance(value, str) and value.startswith("arn:"):
            return value
    by_name = _RESOURCE_BY_NAME.get(getattr(self, "service_name", None))
    if by_name:
        value = _string_param(self, by_name[0])
        if value:
            return by_name[1](self, value)
    return "*"


# S3 authorises HeadBucket as s3:ListBucket; moto asks for s3:HeadBucket, an action no
# policy grants, so a readiness check on a bucket failed under IAM enforcement.
s3_responses.ACTION_MAP["BUCKET"]["HEAD"]["DEFAULT"] = "ListBucket"

if not hasattr(BaseResponse, "_determine_resource"):
    BaseResponse._determine_resource = _determine_resource_from_params


class _DetachedMappings(dict):
    """A queue's event source mappings, never filled: nothing invokes from SendMessage."""

    def __setitem__(self, key, value):
        pass


_queue_init = sqs_models.Queue.__init__


def _queue_init_detached(self, *args, **kwargs):
    _queue_init(self, *args, **kwargs)
    self.lambda_event_source_mappings = _DetachedMappings()


sqs_models.Queue.__init__ = _queue_init_detached

_get_access_key = BaseResponse.get_access_key


def _get_access_key_sigv4_query(self):
    """moto finds the access key of a presigned request only in SigV2's AWSAccessKeyId, so a
    SigV4 presigned PUT runs as the default account: its bucket is still found (buckets are
    looked up across accounts) but its S3 notifications go to that account's queues, which
    do not exist, and are dropped. Take the key from X-Amz-Credential as well."""
    key = _get_access_key(self)
    credential = self.querystring.get("X-Amz-Credential") if key == "AKIAEXAMPLE" else None
    return credential[0].split("/")[0] if credential else key


BaseResponse.get_access_key = _get_access_key_sigv4_query


def _delete_key_group(self):
    """moto 5.2 creates CloudFront key groups but cannot delete them, so destroying a
    distribution that requires signed URLs waited for DeleteKeyGroup until it timed out."""
    self.backend.key_groups.pop(self._get_param("Id"), None)
    return EmptyResult()


if not hasattr(cloudfront_responses.CloudFrontResponse, "delete_key_group"):
    cloudfront_responses.CloudFrontResponse.delete_key_group = _delete_key_group

class _ResponseHeadersPolicyError(CloudFrontException):
    def __init__(self, code, message):
        super().__init__(code, message)


# Response headers policies by account: id -> {"config", "etag", "modified"}.
_response_headers_policies = {}


def _headers_policies(self):
    return _response_headers_policies.setdefault(self.current_account, {})


def _headers_policy_result(policy_id, policy, with_location=False):
    result = {
        "ResponseHeadersPolicy": {
            "Id": policy_id,
            "LastModifiedTime": policy["modified"],
            "ResponseHeadersPolicyConfig": policy["config"],
        },
        "ETag": policy["etag"],
    }
    if with_location:
        result["Location"] = f"https://cloudfront.amazonaws.com/2020-05-31/response-headers-policy/{policy_id}"
    return ActionResult(result)


def _headers_policy(self):
    policy_id = self._get_param("Id")
    policy = _headers_policies(self).get(policy_id)
    if policy is None:
        raise _ResponseHeadersPolicyError("NoSuchResponseHeadersPolicy", f"The response headers policy {policy_id} does not exist.")
    return policy_id, policy


def _check_if_match(self, policy):
    if self.headers.get("If-Match") != policy["etag"]:
        raise _ResponseHeadersPolicyError("PreconditionFailed", "The If-Match version is missing or not valid for the resource.")


def _create_response_headers_policy(self):
    config = self._get_param("ResponseHeadersPolicyConfig", {})
    policies = _headers_policies(self)
    if any(p["config"].get("Name") == config.get("Name") for p in policies.values()):
        raise _ResponseHeadersPolicyError("ResponseHeadersPolicyAlreadyExists", f"A response headers policy named {config.get('Name')} already exists.")
    policy_id = str(uuid.uuid4())
    policies[policy_id] = {"config": config, "etag": _new_etag(), "modified": datetime.datetime.now(datetime.timezone.utc)}
    return _headers_policy_result(policy_id, policies[policy_id], with_location=True)


def _get_response_headers_policy(self):
    return _headers_policy_result(*_headers_policy(self))


def _get_response_headers_policy_config(self):
    _, policy = _headers_policy(self)
    return ActionResult({"ResponseHeadersPolicyConfig": policy["config"], "ETag": policy["etag"]})


def _update_response_headers_policy(self):
    policy_id, policy = _headers_policy(self)
    _check_if_match(self, policy)
    policy.update(config=self._get_param("ResponseHeadersPolicyConfig", {}), etag=_new_etag(), modified=datetime.datetime.now(datetime.timezone.utc))
    return _headers_policy_result(policy_id, policy)


def _delete_response_headers_policy(self):
    policy_id, policy = _headers_policy(self)
    _check_if_match(self, policy)
    for d in self.backend.distributions.values():
        c = d.distribution_config
        behaviours = [c.DefaultCacheBehavior] + list(c.CacheBehaviors.get("Items", []))
        if policy_id in [b.response_headers_policy_id for b in behaviours]:
            raise _ResponseHeadersPolicyError("ResponseHeadersPolicyInUse", f"The response headers policy {policy_id} is attached to distribution {d.distribution_id}.")
    del _headers_policies(self)[policy_id]
    return EmptyResult()


def _list_response_headers_policies(self):
    items = [{"Type": "custom", "ResponseHeadersPolicy": {"Id": i, "LastModifiedTime": p["modified"], "ResponseHeadersPolicyConfig": p["config"]}}
             for i, p in _headers_policies(self).items()]
    return ActionResult({"ResponseHeadersPolicyList": {"MaxItems": 100, "Quantity": len(items), "Items": items or None}})


def _new_etag():
    return uuid.uuid4().hex[:14].upper()


for _name, _handler in {
    "create_response_headers_policy": _create_response_headers_policy,
    "get_response_headers_policy": _get_response_headers_policy,
    "get_response_headers_policy_config": _get_response_headers_policy_config,
    "update_response_headers_policy": _update_response_headers_policy,
    "delete_response_headers_policy": _delete_response_headers_policy,
    "list_response_headers_policies": _list_response_headers_policies,
}.items():
    if not hasattr(cloudfront_responses.CloudFrontResponse, _name):
        setattr(cloudfront_responses.CloudFrontResponse, _name, _handler)
for _path in ("response-headers-policy$", "response-headers-policy/(?P<Id>[^/]+)$", "response-headers-policy/(?P<Id>[^/]+)/config$"):
    cloudfront_urls.url_paths.setdefault("{0}/2020-05-31/" + _path, cloudfront_responses.CloudFrontResponse.dispatch)

_create_jwt = cognitoidp_models.CognitoIdpUserPool.create_jwt


def _create_jwt_with_the_users_email(self, client_id, username, *args, **kwargs):
    """In a pool whose users sign in by email, moto writes the name it was handed into the ID
    token's email claim. An SRP sign-in hands it the user's internal name (USER_ID_FOR_SRP,
    the sub), so browsers signed in with the library's default flow got their sub as their
    email. Cognito puts the user's email attribute there: hand moto that."""
    if "email" in self.extended_config.get("UsernameAttributes", []):
        user = self._get_user(username)
        email = next((a["Value"] for a in (user.attributes if user else []) if a["Name"] == "email"), None)
        if email:
            username = email
    return _create_jwt(self, client_id, username, *args, **kwargs)


cognitoidp_models.CognitoIdpUserPool.create_jwt = _create_jwt_with_the_users_email

# Cognito's operations a user's app calls without AWS credentials (the user pool API's
# "unauthenticated" and "token-authorized" operations), beyond the few moto lists: a browser
# signs in with SRP (InitiateAuth, then RespondToAuthChallenge) and signs out with its token.
ActionAuthenticatorMixin.PUBLIC_OPERATIONS = ActionAuthenticatorMixin.PUBLIC_OPERATIONS + [
    "AWSCognitoIdentityProviderService." + op for op in (
        "RespondToAuthChallenge", "ResendConfirmationCode", "ConfirmForgotPassword", "GlobalSignOut",
        "RevokeToken", "ChangePassword", "UpdateUserAttributes", "DeleteUser", "VerifyUserAttribute",
        "GetUserAttributeVerificationCode", "AssociateSoftwareToken", "VerifySoftwareToken", "SetUserMFAPreference",
    )
]

_authenticate_and_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authorize_unless_preflight(self, *args, **kwargs):
    """A browser's CORS preflight carries no credentials, and AWS answers it without any (S3
    by the bucket's CORS rules, Cognito for any origin): under IAM enforcement moto failed it
    with a 500 for want of an Authorization header."""
    if self.method == "OPTIONS" and "Access-Control-Request-Method" in self.headers and "Authorization" not in self.headers:
        return None
    return _authenticate_and_authorize(self, *args, **kwargs)


ActionAuthenticatorMixin._authenticate_and_authorize_action = _authorize_unless_preflight

_want_form_data_parsed = FlaskRequest.want_form_data_parsed


def _want_form_data_parsed_unless_s3_put(self):
    """An S3 PUT (PutObject, UploadPart) carries object data, never a form, whatever its
    Content-Type says: S3 stores the body as it came (and the type as the object's)."""
    if self.method == "PUT" and getattr(current_app, "service", None) == "s3":
        return False
    return _want_form_data_parsed.fget(self)


FlaskRequest.want_form_data_parsed = property(_want_form_data_parsed_unless_s3_put)

_FORM_TYPE = "application/x-www-form-urlencoded"
_dispatcher_get_body = DomainDispatcherApplication._get_body


def _get_body_keeping_it(self, environ):
    """The dispatcher reads a form-typed body of an unsigned (presigned) request to find its
    service, as text; a body that is not UTF-8 (a video part) was consumed and dropped. Read it
    as bytes, always put it back, and answer text only where it is text."""
    try:
        size = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        size = 0
    if not size or not environ.get("CONTENT_TYPE", "").startswith(_FORM_TYPE):
        return _dispatcher_get_body(self, environ)
    raw = environ["wsgi.input"].read(size)
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


DomainDispatcherApplication._get_body = _get_body_keeping_it

_completing_multipart = threading.local()
_put_object = s3_models.S3Backend.put_object
_complete_multipart_upload = s3_models.S3Backend.complete_multipart_upload


def _put_object_quiet_while_completing(self, *args, **kwargs):
    if getattr(_completing_multipart, "active", False):
        kwargs["disable_notification"] = True  # the completion sends its own event
    return _put_object(self, *args, **kwargs)


def _complete_multipart_upload_once(self, *args, **kwargs):
    """S3 announces a completed multipart upload once, as ObjectCreated:CompleteMultipartUpload."""
    _completing_multipart.active = True
    try:
        return _complete_multipart_upload(self, *args, **kwargs)
    finally:
        _completing_multipart.active = False


s3_models.S3Backend.put_object = _put_object_quiet_while_completing
s3_models.S3Backend.complete_multipart_upload = _complete_multipart_upload_once


_create_db_instance_read_replica = rds_models.RDSBackend.create_db_instance_read_replica


def _create_read_replica_in_its_region(self, db_kwargs):
    """A cross-region read replica lives in the region it is created in, with that region's
    subnet group (CreateDBInstanceReadReplica naming its source by ARN). moto copies the source
    instance and sets each argument in turn, the backend (which decides the region) last, so
    it looked the subnet group up in the source's region: the backend now goes first."""
    if self.arn_regex.match(db_kwargs["source_db_instance_identifier"]):
        db_kwargs = {"backend": self, **db_kwargs}
    return _create_db_instance_read_replica(self, db_kwargs)


rds_models.RDSBackend.create_db_instance_read_replica = _create_read_replica_in_its_region

# What GetBucketReplication reads back of a rule, as PutBucketReplication gave it.
_REPLICATION_RULE_FIELDS = ("ID", "Priority", "Status", "Filter", "Prefix", "DeleteMarkerReplication",
                            "Destination", "SourceSelectionCriteria", "ExistingObjectReplication")


def _get_bucket_replication_as_put(self):
    """GetBucketReplication answers each rule as it was put. moto answered every rule with an
    empty prefix filter and delete-marker replication disabled, so a rule read back replicated
    everything and Terraform planned its filter again after every apply."""
    self.data["Action"] = "GetBucketReplication"
    replication = self.backend.get_bucket_replication(self.bucket_name)
    if not replication:
        raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
    rules = replication["Rule"]
    rules = rules if isinstance(rules, list) else [rules]
    answered = []
    for rule in rules:
        r = {k: rule[k] for k in _REPLICATION_RULE_FIELDS if k in rule}
        r.setdefault("DeleteMarkerReplication", {"Status": "Disabled"})
        if "Filter" not in r and "Prefix" not in r:
            r["Filter"] = {"Prefix": ""}
        elif isinstance(r.get("Filter"), dict) and r["Filter"].get("Prefix") is None and "And" not in r["Filter"] and "Tag" not in r["Filter"]:
            r["Filter"] = {"Prefix": ""}
        answered.append(r)
    return self.serialized(ActionResult({"ReplicationConfiguration": {"Role": replication["Role"], "Rules": answered}}))


s3_responses.S3Response.get_bucket_replication = _get_bucket_replication_as_put


def _ses_sent_messages(request, full_url, headers):
    """Every email moto's SES accepted, oldest first, in every account and region."""
    from moto.ses.models import ses_backends

    messages = []
    for account, regions in ses_backends.items():
        for region, backend in regions.items():
            for m in backend.sent_messages:
                destinations = m.destinations if isinstance(m.destinations, dict) else {"ToAddresses": m.destinations}
                messages.append({
                    "account": account, "region": region, "id": m.id, "source": m.source,
                    "destinations": destinations, "subject": getattr(m, "subject", None),
                    "body": getattr(m, "body", None), "raw_data": getattr(m, "raw_data", None),
                })
    return 200, {"Content-Type": "application/json"}, json.dumps({"messages": messages})


moto_api_urls.url_paths["{0}/moto-api/mediastack/ses/sent-messages"] = _ses_sent_messages

_faults_lock = threading.Lock()
_faults = {"s3_slow_down": {"share": 0.0, "until": 0.0, "injected": 0}}
_SLOW_DOWN = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
              b'<Message>Please reduce your request rate.</Message></Error>')


def _faults_api(request, full_url, headers):
    """GET: the faults' settings and counts; POST: set them (see the module comment)."""
    with _faults_lock:
        if request.method == "POST":
            wanted = json.loads(request.get_data() or b"{}").get("s3_slow_down")
            if wanted is not None:
                share, seconds = float(wanted.get("share", 0)), float(wanted.get("seconds", 0))
                if not 0 <= share <= 1 or seconds < 0:
                    return 400, {"Content-Type": "application/json"}, json.dumps({"error": "s3_slow_down: share must be 0 to 1 and seconds at least 0"})
                _faults["s3_slow_down"].update(share=share, until=time.time() + seconds)
        slow = _faults["s3_slow_down"]
        state = {"s3_slow_down": {"share": slow["share"], "remaining_s": max(0.0, slow["until"] - time.time()), "injected": slow["injected"]}}
    return 200, {"Content-Type": "application/json"}, json.dumps(state)


moto_api_urls.url_paths["{0}/moto-api/mediastack/faults"] = _faults_api


def _slow_down_now(environ):
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if "/s3/aws4_request" not in auth or any(key in auth for key in SERVICE_ACCESS_KEYS):
        return False
    with _faults_lock:
        slow = _faults["s3_slow_down"]
        if time.time() >= slow["until"] or random.random() >= slow["share"]:
            return False
        slow["injected"] += 1
        return True


def _secret_of(access_key_id):
    """The secret the emulator issued for an access key: an assumed role's or a user's."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    for partitions in list(sts_backends.values()):
        for backend in list(partitions.values()):
            for role in list(backend.assumed_roles):
                if role.access_key_id == access_key_id:
                    return role.secret_access_key
    for partitions in list(iam_backends.values()):
        for backend in list(partitions.values()):
            for user in list(backend.users.values()):
                for key in user.access_keys:
                    if key.access_key_id == access_key_id:
                        return key.secret_access_key
    return None


def _s3_error(start_response, code, message):
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{}</Code><Message>{}</Message></Error>'
            .format(code, html.escape(message))).encode()
    start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
    return [body]


def _header_of(environ, name):
    if name == "content-length":
        return environ.get("CONTENT_LENGTH", "")
    if name == "content-type":
        return environ.get("CONTENT_TYPE", "")
    return environ.get("HTTP_" + name.upper().replace("-", "_"), "")


def _presigned_refusal(environ):
    """Why S3 would refuse this presigned request, as (code, message); None if it would not
    (or it is not a presigned S3 request). SigV4 query signing, S3's flavour: the path as sent,
    the query without the signature, the signed headers, UNSIGNED-PAYLOAD."""
    raw_query = environ.get("QUERY_STRING", "")
    if "X-Amz-Signature=" not in raw_query or environ.get("REQUEST_METHOD") == "OPTIONS":
        return None
    query = parse_qsl(raw_query, keep_blank_values=True)
    params = dict(query)
    credential = params.get("X-Amz-Credential", "").split("/")
    if len(credential) != 5 or credential[3] != "s3" or params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        return None
    try:
        signed_at = datetime.datetime.strptime(params.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        expires = datetime.timedelta(seconds=int(params.get("X-Amz-Expires", "0")))
    except ValueError:
        return ("AuthorizationQueryParametersError", "X-Amz-Date and X-Amz-Expires must be a date and a number of seconds.")
    if datetime.datetime.now(datetime.timezone.utc) > signed_at + expires:
        return ("AccessDenied", "Request has expired")
    secret = _secret_of(credential[0])
    if secret is None:
        return None
    signed_headers = params.get("X-Amz-SignedHeaders", "host")
    canonical_query = "&".join(sorted(
        quote(k, safe="-_.~") + "=" + quote(v, safe="-_.~") for k, v in query if k != "X-Amz-Signature"))
    path = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")).split("?", 1)[0]
    headers = "".join("{}:{}\n".format(h, " ".join(_header_of(environ, h).split())) for h in signed_headers.split(";"))
    canonical = "\n".join([environ["REQUEST_METHOD"], path, canonical_query, headers, signed_headers, "UNSIGNED-PAYLOAD"])
    scope = "/".join(credential[1:])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in credential[1:]:
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), params.get("X-Amz-Signature", "")):
        return ("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
    return None


_dispatch = DomainDispatcherApplication.__call__


def _dispatch_with_faults(self, environ, start_response):
    refusal = _presigned_refusal(environ)
    if refusal is not None:
        try:  # the body is read, so that the connection can carry the next request
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        except ValueError:
            pass
        return _s3_error(start_response, *refusal)
    if _slow_down_now(environ):
        try:  # the body is read, so that the connection can carry the next request
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        except ValueError:
            pass
        start_response("503 Slow Down", [("Content-Type", "application/xml"), ("Content-Length", str(len(_SLOW_DOWN)))])
        return [_SLOW_DOWN]
    return _dispatch(self, environ, start_response)


DomainDispatcherApplication.__call__ = _dispatch_with_faults

if __name__ == "__main__":
    sys.exit(main())
