"""Read an image from ``s3://bucket/key`` with boto3.

Region and credentials come from the standard AWS environment variables and config files;
``HUMANSEG_S3_ENDPOINT_URL`` points at an S3-compatible store.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import unquote, urlsplit

from humanseg.errors import ErrorCode, error
from humanseg.settings import SourceSettings

_clients: dict[str | None, Any] = {}
_clients_lock = threading.Lock()
_CHUNK = 1 << 20


def parse_s3_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    bucket, key = parts.netloc, unquote(parts.path.lstrip("/"))
    if not bucket or not key:
        raise error(
            ErrorCode.INVALID_URL, f"The url {url[:200]!r} is not of the form s3://bucket/key."
        )
    check_s3_key(key, url)
    return bucket, key


def check_s3_key(key: str, url: str) -> None:
    """Refuse ``.``/``..`` segments (also percent-encoded: ``key`` is decoded) and control
    characters: a store or proxy that normalises the path would leave the bucket or prefix
    named, past ``HUMANSEG_S3_ALLOWED_BUCKETS``."""
    if any(part in (".", "..") for part in key.split("/")) or any(
        ord(char) < 32 or ord(char) == 127 for char in key
    ):
        raise error(
            ErrorCode.INVALID_URL,
            f"The S3 url {url[:200]!r} has a '.' or '..' segment or a control character.",
        )


def _client(endpoint_url: str | None) -> Any:
    with _clients_lock:
        if endpoint_url not in _clients:
            import boto3
            from botocore.config import Config

            config = Config(
                connect_timeout=5, read_timeout=15, retries={"max_attempts": 2, "mode": "standard"}
            )
            session = boto3.session.Session()
            _clients[endpoint_url] = session.client("s3", endpoint_url=endpoint_url, config=config)
        return _clients[endpoint_url]


def fetch_s3(url: str, settings: SourceSettings) -> bytes:
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    bucket, key = parse_s3_url(url)
    if settings.s3_allowed_buckets and bucket not in settings.s3_allowed_buckets:
        raise error(
            ErrorCode.URL_FORBIDDEN, f"The bucket {bucket!r} is not one this server may read."
        )
    cap = settings.max_download_bytes
    try:
        response = _client(settings.s3_endpoint_url).get_object(Bucket=bucket, Key=key)
        if int(response.get("ContentLength") or 0) > cap:
            raise error(
                ErrorCode.DOWNLOAD_TOO_LARGE,
                f"The S3 object is {response['ContentLength']} bytes; at most {cap} are read.",
            )
        body = bytearray()
        stream = response["Body"]
        try:
            for chunk in iter(lambda: stream.read(_CHUNK), b""):
                body += chunk
                if len(body) > cap:
                    raise error(
                        ErrorCode.DOWNLOAD_TOO_LARGE, f"The S3 object is larger than {cap} bytes."
                    )
        finally:
            stream.close()
        return bytes(body)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NotFound"):
            message = f"The S3 object {url!r} does not exist."
        elif code == "NoSuchBucket":
            message = f"The S3 bucket {bucket!r} does not exist."
        elif code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            message = f"Access to {url!r} was denied ({code})."
        else:
            message = f"S3 answered {code or 'an error'} for {url!r}."
        raise error(ErrorCode.FETCH_FAILED, message) from None
    except NoCredentialsError:
        raise error(
            ErrorCode.FETCH_FAILED, "The server has no AWS credentials to read S3 with."
        ) from None
    except (ConnectTimeoutError, ReadTimeoutError):
        raise error(ErrorCode.FETCH_TIMEOUT, f"S3 did not answer in time for {url!r}.") from None
    except BotoCoreError as exc:
        raise error(ErrorCode.FETCH_FAILED, f"Reading {url!r} from S3 failed: {exc}.") from None
