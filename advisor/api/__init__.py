"""The REST API (Django REST framework), mounted at ``/api/v1/``: thin shells around the services."""
