"""Lambda HTTP events as AWS documents them, as templates: API Gateway REST API proxy events
("Input format of a Lambda function for proxy integration", payload 1.0), HTTP API events
("Working with AWS Lambda proxy integrations for HTTP APIs", payload 2.0) and function URL
events ("Invoking Lambda function URLs", request payload format)."""

from __future__ import annotations

import base64
import copy
from typing import Any

REST_V1: dict[str, Any] = {
    "resource": "/human_image_segmentation",
    "path": "/human_image_segmentation",
    "httpMethod": "POST",
    "headers": {
        "Content-Type": "application/json",
        "Host": "id.execute-api.us-east-1.amazonaws.com",
    },
    "multiValueHeaders": {"Content-Type": ["application/json"]},
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "id",
        "authorizer": {"claims": None, "scopes": None},
        "domainName": "id.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "id",
        "extendedRequestId": "request-id",
        "httpMethod": "POST",
        "identity": {
            "accessKey": None,
            "accountId": None,
            "caller": None,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "sourceIp": "192.0.2.1",
            "user": None,
            "userAgent": "user-agent",
            "userArn": None,
        },
        "path": "/prod/human_image_segmentation",
        "protocol": "HTTP/1.1",
        "requestId": "id=",
        "requestTime": "04/Mar/2020:19:15:17 +0000",
        "requestTimeEpoch": 1583349317135,
        "resourceId": None,
        "resourcePath": "/human_image_segmentation",
        "stage": "prod",
    },
    "pathParameters": None,
    "stageVariables": None,
    "body": None,
    "isBase64Encoded": False,
}

HTTP_V2: dict[str, Any] = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/human_image_segmentation",
    "rawQueryString": "",
    "cookies": ["cookie1", "cookie2"],
    "headers": {
        "content-type": "application/json",
        "host": "id.execute-api.us-east-1.amazonaws.com",
    },
    "queryStringParameters": None,
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "api-id",
        "authorizer": {"jwt": {"claims": {"claim1": "value1"}, "scopes": ["scope1"]}},
        "domainName": "id.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "id",
        "http": {
            "method": "POST",
            "path": "/human_image_segmentation",
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "agent",
        },
        "requestId": "id",
        "routeKey": "$default",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390,
    },
    "body": None,
    "pathParameters": None,
    "isBase64Encoded": False,
    "stageVariables": None,
}


FUNCTION_URL: dict[str, Any] = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/human_image_segmentation",
    "rawQueryString": "",
    "cookies": ["Cookie_1=Value1", "Cookie_2=Value2"],
    "headers": {
        "content-type": "application/json",
        "host": "abcdefg.lambda-url.us-east-1.on.aws",
        "x-amzn-trace-id": "Root=1-5eb33c07-de25b420912b4f2e8d3b6a6c",
        "x-forwarded-proto": "https",
        "x-forwarded-port": "443",
    },
    "queryStringParameters": None,
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "abcdefg",
        "authentication": None,
        "authorizer": {
            "iam": {
                "accessKey": "AKIAEXAMPLE",
                "accountId": "111122223333",
                "callerId": "AIDAEXAMPLE",
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": "arn:aws:iam::111122223333:user/example-user",
                "userId": "AIDAEXAMPLE",
            }
        },
        "domainName": "abcdefg.lambda-url.us-east-1.on.aws",
        "domainPrefix": "abcdefg",
        "http": {
            "method": "POST",
            "path": "/human_image_segmentation",
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "agent",
        },
        "requestId": "id",
        "routeKey": "$default",
        "stage": "$default",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390,
    },
    "body": None,
    "pathParameters": None,
    "isBase64Encoded": False,
    "stageVariables": None,
}

TEMPLATES = {"rest-v1": REST_V1, "http-v2": HTTP_V2, "function-url": FUNCTION_URL}


def event(
    template: dict[str, Any],
    body: bytes | None,
    *,
    encode: bool = False,
    method: str = "POST",
    path: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``template`` carrying ``body`` (base64-encoded the way API Gateway sends binary bodies),
    sent with ``method`` to ``path``, with ``headers`` added to (or replacing) its own."""
    result = copy.deepcopy(template)
    if body is not None:
        result["body"] = base64.b64encode(body).decode() if encode else body.decode()
    result["isBase64Encoded"] = encode
    if "httpMethod" in result:  # payload 1.0
        result["httpMethod"] = result["requestContext"]["httpMethod"] = method
        if path is not None:
            result["path"] = result["resource"] = result["requestContext"]["resourcePath"] = path
        for name, value in (headers or {}).items():
            for key in [key for key in result["headers"] if key.lower() == name.lower()]:
                del result["headers"][key]
            result["headers"][name] = value
        result["multiValueHeaders"] = {name: [value] for name, value in result["headers"].items()}
    else:  # payload 2.0: header names arrive in lower case
        result["requestContext"]["http"]["method"] = method
        if path is not None:
            result["rawPath"] = result["requestContext"]["http"]["path"] = path
        result["headers"].update({name.lower(): value for name, value in (headers or {}).items()})
    return result
