"""Pagination for every list: ``?page=N&page_size=M`` with count, next and previous links.

A malformed ``page_size`` is a 400 naming the parameter (not silently the default), so a script
with a typo finds out; a page past the end is a 404, as in DRF.
"""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination

# Lists are small (catalogs of tens of entries); 50 fits a catalog on one page.
DEFAULT_PAGE_SIZE = 50
# A cap keeps one request cheap whatever the client asks for.
MAX_PAGE_SIZE = 200


def reject_unknown_query_parameters(request, known: set[str]) -> None:
    """400 naming each query parameter the endpoint does not take (a typo must not be ignored);
    ``format`` is DRF's renderer override and always allowed."""
    unknown = sorted(set(request.query_params) - known - {"format"})
    if unknown:
        raise ValidationError(
            {name or "(empty name)": ["Unknown query parameter."] for name in unknown}
        )


class Pagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        reject_unknown_query_parameters(
            request, {self.page_query_param, self.page_size_query_param}
        )
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {"page_size": [f"Must be a whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters
