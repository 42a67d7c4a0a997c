"""``/api/v1/tokens/``: a script can list its owner's tokens and revoke one (e.g. after a leak).

Creating tokens stays with the UI and ``manage.py apitoken create``: a token that mints tokens would
outlive its own revocation.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from advisor.errors import AdvisorError
from advisor.services.tokens import api_token_get_for_user, api_token_list, api_token_revoke


class TokenOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The first characters of the secret, to recognise it.")
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class TokenListApi(ListAPIView):
    """The caller's API tokens, newest first (never the secrets)."""

    serializer_class = TokenOutputSerializer

    def get_queryset(self):
        return api_token_list(user=self.request.user)


class TokenRevokeApi(APIView):
    @extend_schema(request=None, responses={200: TokenOutputSerializer}, summary="Revoke a token")
    def post(self, request, pk: int):
        """Revoke one of the caller's tokens; revoking the token in use ends its access at once."""
        try:
            token = api_token_get_for_user(user=request.user, token_id=pk)
        except AdvisorError:
            raise NotFound(f"You have no token {pk}.") from None
        api_token_revoke(token=token)
        return Response(TokenOutputSerializer(token).data, status=status.HTTP_200_OK)
