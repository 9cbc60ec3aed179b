"""API Gateway proxy events as AWS documents them ("Working with AWS Lambda proxy integrations
for HTTP APIs" and "Input format of a Lambda function for proxy integration"), as templates."""

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


def event(
    template: dict[str, Any], body: bytes | None, *, encode: bool = False, method: str = "POST"
) -> dict[str, Any]:
    """``template`` carrying ``body``, base64-encoded the way API Gateway sends binary bodies."""
    result = copy.deepcopy(template)
    if body is not None:
        result["body"] = base64.b64encode(body).decode() if encode else body.decode()
    result["isBase64Encoded"] = encode
    if "httpMethod" in result:
        result["httpMethod"] = result["requestContext"]["httpMethod"] = method
    else:
        result["requestContext"]["http"]["method"] = method
    return result
