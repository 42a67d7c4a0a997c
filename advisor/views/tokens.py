"""The API token page: create a token (its secret shown once), see and revoke your tokens."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from advisor.errors import AdvisorError
from advisor.services.tokens import (
    MAX_NAME_LENGTH,
    api_token_create,
    api_token_get_for_user,
    api_token_list,
    api_token_owner,
    api_token_revoke,
)


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=MAX_NAME_LENGTH,
        help_text="What will use it, e.g. 'nightly CI' or 'platform portal'.",
    )


@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    owner = api_token_owner(user=request.user)
    form = TokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            secret = api_token_create(user=owner, name=form.cleaned_data["name"]).secret
            form = TokenForm()
        except AdvisorError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    context = {"form": form, "secret": secret, "tokens": api_token_list(user=owner), "owner": owner}
    return render(request, "tokens.html", context, status=400 if form.errors else 200)


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        token = api_token_get_for_user(user=api_token_owner(user=request.user), token_id=pk)
    except AdvisorError:
        raise Http404("No such token") from None
    api_token_revoke(token=token)
    messages.success(request, f"Revoked the token '{token.name}'. Scripts using it now get 401.")
    return redirect("tokens")
