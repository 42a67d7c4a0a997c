"""``manage.py apitoken create|list|revoke``: API tokens for scripts (a thin shell on the service)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from advisor.errors import AdvisorError
from advisor.services.tokens import (
    api_token_create,
    api_token_get_for_user,
    api_token_list,
    api_token_revoke,
)


class Command(BaseCommand):
    help = "Create, list or revoke API tokens. The secret is printed once, at creation."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token and print its secret once")
        create.add_argument("--user", required=True, help="username that owns the token")
        create.add_argument("--name", required=True, help="what the token is for, e.g. 'CI'")
        create.add_argument(
            "--create-user",
            action="store_true",
            help="create the user (without a password) when it does not exist",
        )
        listing = sub.add_parser("list", help="list a user's tokens (prefixes, never secrets)")
        listing.add_argument("--user", required=True)
        revoke = sub.add_parser("revoke", help="revoke a token by its id (see list)")
        revoke.add_argument("--user", required=True)
        revoke.add_argument("token_id", type=int)

    def handle(self, *args, action: str, user: str, **options):
        owner = self._user(user, create=options.get("create_user", False))
        try:
            if action == "create":
                issued = api_token_create(user=owner, name=options["name"])
                self.stderr.write(
                    f"Created token {issued.token.id} '{issued.token.name}' for {owner}. "
                    "Store the secret now; it is not shown again:"
                )
                self.stdout.write(issued.secret)
            elif action == "list":
                for token in api_token_list(user=owner):
                    state = (
                        f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "live"
                    )
                    used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
                    self.stdout.write(
                        f"{token.id}\t{token.prefix}…\t{token.name}\t{state}\tlast used {used}"
                    )
            else:
                token = api_token_get_for_user(user=owner, token_id=options["token_id"])
                api_token_revoke(token=token)
                self.stdout.write(f"Revoked token {token.id} '{token.name}'.")
        except AdvisorError as exc:
            raise CommandError(f"{exc.field or 'error'}: {exc.message}") from None

    def _user(self, username: str, *, create: bool):
        users = get_user_model()
        try:
            return users.objects.get(username=username)
        except users.DoesNotExist:
            if create:
                user = users.objects.create_user(username=username)
                user.set_unusable_password()
                user.save()
                return user
            raise CommandError(
                f"No user {username!r}; pass --create-user or create one with createsuperuser."
            ) from None
