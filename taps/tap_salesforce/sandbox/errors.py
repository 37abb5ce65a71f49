"""Salesforce's error envelope: a JSON array of `{"message", "errorCode", "fields"?}`."""

from __future__ import annotations

from tenantsync.sandbox.server import Abort, Response


class SalesforceError(ValueError):
    """A refusal in Salesforce's terms; `status` is the HTTP status it answers with.

    A 404 is also a KeyError, so Python callers can catch "no such record" the usual way.
    """

    def __new__(cls, status: int, *args, **kwargs):
        if cls is SalesforceError and status == 404:
            cls = SalesforceNotFound
        return super().__new__(cls, status, *args)

    def __init__(self, status: int, code: str, message: str, *, fields: list[str] | None = None):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message, self.fields = status, code, message, fields

    def response(self) -> Response:
        return sf_error(self.status, self.code, self.message, fields=self.fields)

    def abort(self) -> Abort:
        return Abort(self.response())


class SalesforceNotFound(SalesforceError, KeyError):
    pass


def sf_error(status: int, code: str, message: str, *, fields: list[str] | None = None,
             headers: dict[str, str] | None = None) -> Response:
    error = {"message": message, "errorCode": code}
    if fields is not None:
        error["fields"] = fields
    return Response.json([error], status, headers=headers)
