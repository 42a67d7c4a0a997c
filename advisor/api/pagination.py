"""Pagination for every list: ``?page=N&page_size=M`` with count, next and previous links."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination

# Lists are small (catalogs of tens of entries); 50 fits a catalog on one page.
DEFAULT_PAGE_SIZE = 50
# A cap keeps one request cheap whatever the client asks for.
MAX_PAGE_SIZE = 200


class Pagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
