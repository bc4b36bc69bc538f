"""Request bodies bigger than the site accepts are refused before they are read, let alone written to disk.

Django on its own limits the form fields it keeps in memory (DATA_UPLOAD_MAX_MEMORY_SIZE) but streams any
size of uploaded file to a temporary file, and answers an oversized form with a 400. Here:

- RequestSizeLimitMiddleware answers 413 from the Content-Length header alone (400 if it is no number),
  before anything (CSRF's check, the login form, a view) reads the body. The limit is REQUEST_MAX_BYTES for
  a signed-in user or an API client sending a token, and ANONYMOUS_REQUEST_MAX_BYTES for anyone else (a
  login form is small).
- SizeLimitedUploadHandler, the first of FILE_UPLOAD_HANDLERS, applies the same limit where a multipart
  body is parsed, and counts what it receives, should anything reach the parser around the middleware.

Between the submission limit (SUBMISSION_MAX_BYTES) and REQUEST_MAX_BYTES the upload views still read the
file and answer with their own message ("The file is N bytes; the limit is M."); above it, this module's
413 page or JSON says the same in the same words.
"""
from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render

FLAG = "_body_too_large"  # set on the request by the upload handler: (bytes, limit)


class RequestBodyTooLarge(RequestDataTooBig):
    """A SuspiciousOperation (so a 400 at worst); RequestSizeLimitMiddleware turns it into the 413 page."""


def content_length(meta: dict) -> int | None:
    """The Content-Length header's value (0 if absent), or None if it is not a number of bytes: Django would
    take such a header for 0 in one place and fail on it (a 500) where it reads the body."""
    value = meta.get("CONTENT_LENGTH") or "0"
    return int(value) if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value.strip()) else None


def body_limit(request: HttpRequest | None) -> int:
    if request is None:
        return settings.REQUEST_MAX_BYTES
    if "HTTP_AUTHORIZATION" in request.META:
        return settings.REQUEST_MAX_BYTES
    user = getattr(request, "user", None)
    return settings.REQUEST_MAX_BYTES if user is not None and user.is_authenticated \
        else settings.ANONYMOUS_REQUEST_MAX_BYTES


def too_large_response(request: HttpRequest, size: int, limit: int) -> HttpResponse:
    message = f"The request is {size:,} bytes; the limit is {limit:,}."
    if limit >= settings.SUBMISSION_MAX_BYTES:
        message += f" A submitted file may be at most {settings.SUBMISSION_MAX_BYTES:,} bytes."
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        return JsonResponse({"error": message}, status=413)
    return render(request, "accounts/request_too_large.html", {"message": message}, status=413)


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        size = content_length(request.META)
        if size is None:
            return HttpResponseBadRequest("The Content-Length header is not a number of bytes.",
                                          content_type="text/plain; charset=utf-8")
        if size > settings.ANONYMOUS_REQUEST_MAX_BYTES:  # the cheap test first: no session lookup for most
            limit = body_limit(request)
            if size > limit:
                return too_large_response(request, size, limit)
        response = self.get_response(request)
        refused = getattr(request, FLAG, None)
        if refused is not None:  # the upload handler stopped the parser (Django made that a 400)
            return too_large_response(request, *refused)
        return response


class SizeLimitedUploadHandler(FileUploadHandler):
    """Stops a multipart body over the limit before any byte of it is stored; passes everything else on to
    the next handlers unchanged (memory, then temporary file)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limit = body_limit(self.request)
        self.received = 0
        if content_length > self.limit:
            self._refuse(content_length)
        return None

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self._refuse(self.received)
        return raw_data

    def file_complete(self, file_size):
        return None

    def _refuse(self, size: int) -> None:
        if self.request is not None:
            setattr(self.request, FLAG, (size, self.limit))
        raise RequestBodyTooLarge(f"request body of {size} bytes over the limit of {self.limit}")
