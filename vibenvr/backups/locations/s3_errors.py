"""What S3 stores and the network answer, as the reasons of SPEC §14 (``transport.REASONS``).

botocore raises ``ClientError`` for an answer of the store (an S3 error code and an HTTP status) and its
own exceptions for the network (connection refused, name resolution, timeouts, TLS, a connection closed
mid-answer); ``ssl`` and sockets raise OSError while a pinned certificate is fetched.
"""

import re
import socket
import ssl

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.exceptions import SSLError as BotoSSLError

POOL_RE = re.compile(r"^\w+\(host=[^)]*\): ")  # urllib3's "AWSHTTPConnection(host='…', port=…): " before its text

AUTH_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "AuthorizationHeaderMalformed",
}
PERMISSION_CODES = {"AccessDenied", "AllAccessDisabled", "AccountProblem"}
FULL_CODES = {
    "EntityTooLarge",
    "QuotaExceeded",
    "InsufficientStorage",
    "XMinioStorageFull",
    "XMinioAdminBucketQuotaExceeded",
}
NOT_FOUND_CODES = {"NoSuchKey", "NotFound", "404"}


def classify(exc):
    """The REASONS key for an exception of botocore, of ``ssl`` or of a socket."""
    if isinstance(exc, ClientError):
        return _classify_answer(exc.response.get("Error", {}).get("Code", ""), status(exc))
    if isinstance(exc, BotoSSLError | ssl.SSLError):
        return "tls"
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, EndpointConnectionError):
        return "dns" if _caused_by(exc.kwargs.get("error"), socket.gaierror) else "refused"
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, OSError):
        return "refused"
    return "protocol"  # connection closed mid-answer, checksum mismatch, anything else botocore raises


def _classify_answer(code, http):
    if code in FULL_CODES or http == 507:
        return "full"
    if code in AUTH_CODES or http == 401:
        return "auth"
    if code in PERMISSION_CODES or http == 403:  # a bare 403 (HEAD answers have no body): taken as permission
        return "permission"
    if code == "NoSuchBucket":
        return "missing"
    if code in NOT_FOUND_CODES or http == 404:
        return "not_found"
    if code == "RequestTimeout":
        return "timeout"
    return "protocol"


def status(exc):
    """The HTTP status of a store's answer."""
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def _caused_by(exc, kind):
    """Whether ``kind`` is among the causes of ``exc`` (urllib3 wraps the socket's error)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def describe(exc):
    """What the store or the network said, short: the S3 error code and message, or the exception's text."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        text = f"{code} ({message})" if message and message != code else code or f"HTTP {status(exc)}"
    else:
        text = str(exc.kwargs.get("error", exc)) if isinstance(exc, BotoCoreError) else str(exc) or type(exc).__name__
        text = POOL_RE.sub("", text)
    return text[:300]
