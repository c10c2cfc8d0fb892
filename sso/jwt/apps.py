from __future__ import annotations

from django.apps import AppConfig


class JwtConfig(AppConfig):
    name = "sso.jwt"
    label = "sso_jwt"
    verbose_name = "JWT sign-in"

    def ready(self) -> None:
        from sso.jwt.flows import jwt_logout_handler, jwt_starter
        from sso.starters import LOGOUT_HANDLERS, STARTERS
        from tenants.services import OPERATOR_PERMISSIONS

        if jwt_starter not in STARTERS:
            STARTERS.append(jwt_starter)
        if jwt_logout_handler not in LOGOUT_HANDLERS:
            LOGOUT_HANDLERS.append(jwt_logout_handler)
        # Operators configure their own sites' JWT sign-in.
        OPERATOR_PERMISSIONS[self.label] = [
            f"{action}_jwtsettings" for action in ("view", "add", "change", "delete")
        ]
