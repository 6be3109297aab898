"""kizuna createuser: a person with a role in a workspace."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kizuna.accounts.actions import do_create_user
from kizuna.accounts.models import Role
from kizuna.brands.management.commands.config import pick_workspace


class Command(BaseCommand):
    help = "Create a user (or reset their password) with a role in a workspace."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=Role.values, default=Role.OPERATOR)
        parser.add_argument("--name", dest="display_name", help="name used to sign replies (default: username)")
        parser.add_argument("--workspace", help="workspace slug (default: the only workspace)")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-env", metavar="VAR", help="read the password from this environment variable (no prompt)"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        ws = pick_workspace(opts["workspace"])
        if opts["password_env"]:
            password = os.environ.get(opts["password_env"], "")
            if not password:
                raise CommandError(f"environment variable {opts['password_env']} is empty or unset")
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords differ")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        do_create_user(
            username=opts["username"],
            password=password,
            workspace=ws,
            role=opts["role"],
            display_name=opts["display_name"] or opts["username"],
            email=opts["email"],
        )
        self.stderr.write(f"user {opts['username']} is {opts['role']} in {ws.slug}")
