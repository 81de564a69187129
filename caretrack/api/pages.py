"""What the API's endpoints share: a page of a query with its total and the next page's URL,
and the answers of the errors each endpoint documents."""

from http import HTTPStatus

from flask import request, url_for

from caretrack.api import bp
from caretrack.extensions import db

#: Every endpoint may answer these: no or a bad token, a refused or absent object.
READ_ERRORS = (401, 404, 422)
#: A write may also answer these: a read-only token, a session without its CSRF token, a
#: rule's refusal (422) and a race (409).
WRITE_ERRORS = (*READ_ERRORS, 400, 403, 409)


def documented(*statuses: int):
    """Document the problem answers ``statuses`` of an endpoint."""

    def decorator(view):
        for status in statuses:
            view = bp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorator


def page_of(query, args: dict, endpoint: str, *, count: bool = True, **values):
    """Return ``(items, page fields)`` of one page of ``query``, with the total and the next
    page's URL (the request's other arguments kept)."""
    page = db.paginate(query, page=args["page"], per_page=args["per_page"],
                       max_per_page=args["per_page"], error_out=False, count=count)
    following = None
    if page.has_next:
        following = url_for(endpoint, **{**request.args.to_dict(), **values,
                                         "page": page.page + 1, "per_page": page.per_page})
    return list(page.items), {"total": page.total, "page": page.page,
                              "per_page": page.per_page, "next": following}
