"""Tenants ("sites"), their agents, operators and the sign-in audit log.

Every model but ``Site`` carries a non-null ``site``; queries of tenant data go
through ``SiteScopedQuerySet.for_site()`` (or the selectors built on it), so
the scoping lives in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from tenants.identity_keys import IdentityError, email_key, email_key_or_none
from tenants.site_record import site_record_feeds, site_version_bump

if TYPE_CHECKING:
    pass

SITE_ID_MIN = 1000
SITE_ID_MAX = 99_999_999


def validate_origins(value: str) -> None:
    """Raise ValidationError unless each line is an ``https://host[:port]`` origin."""
    for line in value.splitlines():
        origin = line.strip()
        if not origin:
            continue
        parts = urlsplit(origin)
        if (
            parts.scheme not in {"https", "http"}
            or not parts.hostname
            or parts.path not in {"", "/"}
            or parts.query
            or parts.fragment
            or parts.username
        ):
            raise ValidationError(
                "%(origin)s is not an origin; write scheme://host[:port], one per line.",
                params={"origin": origin},
                code="invalid_origin",
            )


def normalise_origin(origin: str) -> str:
    """Return ``origin`` as ``scheme://host[:port]`` in lower case."""
    parts = urlsplit(origin.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


class SiteRecordQuerySet(models.QuerySet[Any]):
    """A queryset whose bulk writes, which send no signal, still give the
    sites they touch a new record version (see ``tenants.site_record``),
    for models declared with ``site_record_feeds``.
    """

    def _record_sites(self) -> set[int]:
        field = getattr(self.model, "site_record_field", None)
        if field is None:
            return set()
        return {int(pk) for pk in self.values_list(field, flat=True) if pk is not None}

    def _bump(self, sites: set[int]) -> None:
        for site_pk in sites:
            site_version_bump(site_pk)

    def _sites_of(self, objs: Any) -> set[int]:
        field = getattr(self.model, "site_record_field", None)
        if field is None:
            return set()
        return {int(pk) for obj in objs if (pk := getattr(obj, field)) is not None}

    def update(self, **kwargs: Any) -> int:
        sites = self._record_sites()
        rows = super().update(**kwargs)
        self._bump(sites)
        return rows

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        created = super().bulk_create(objs, *args, **kwargs)
        self._bump(self._sites_of(created))
        return created

    def bulk_update(self, objs: Any, *args: Any, **kwargs: Any) -> int:
        objs = list(objs)
        rows = super().bulk_update(objs, *args, **kwargs)
        self._bump(self._sites_of(objs))
        return rows


class Site(models.Model):
    """A tenant: one customer of the chat platform."""

    site_id = models.PositiveIntegerField(
        "site ID",
        unique=True,
        validators=[MinValueValidator(SITE_ID_MIN), MaxValueValidator(SITE_ID_MAX)],
        help_text="Public numeric ID that agents type on the sign-in page.",
    )
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(
        "active", default=True, help_text="A disabled site refuses every sign-in."
    )
    allowed_origins = models.TextField(
        blank=True,
        validators=[validate_origins],
        help_text=(
            "Origins (scheme://host[:port]) that may embed the chat window and may be "
            "used as return addresses, one per line."
        ),
    )
    session_lifetime = models.PositiveIntegerField(
        "session lifetime (seconds)",
        default=8 * 3600,
        validators=[MinValueValidator(300), MaxValueValidator(30 * 24 * 3600)],
        help_text="How long a sign-in lasts, at most, from the moment it happened.",
    )
    session_ends_with_browser = models.BooleanField(
        "end session when the browser closes",
        default=False,
        help_text="Use a browser-session cookie instead of a persistent one.",
    )
    jit_domains = models.TextField(
        "domains for just-in-time agents",
        blank=True,
        help_text=(
            "Email domains for which a sign-in may create an unknown agent, one per line. "
            "Empty: the site's verified domains."
        ),
    )
    sync_name = models.BooleanField(
        "sign-in updates the agent's name", default=False, help_text="From the mapped name."
    )
    sync_department = models.BooleanField("sign-in updates the agent's department", default=True)
    sync_role = models.BooleanField("sign-in updates the agent's role", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SiteRecordQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["site_id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.site_id})"

    @property
    def allowed_origin_list(self) -> list[str]:
        """Return the allowed origins, normalised, in the order they were written."""
        return [normalise_origin(o) for o in self.allowed_origins.splitlines() if o.strip()]

    @property
    def agent_sync_fields(self) -> tuple[str, ...]:
        """Return the agent fields a sign-in may update on an existing agent."""
        chosen = (
            ("name", self.sync_name),
            ("department", self.sync_department),
            ("role", self.sync_role),
        )
        return tuple(name for name, on in chosen if on)

    def clean(self) -> None:
        from tenants.identity_keys import domain_key

        for line in self.jit_domains.splitlines():
            if line.strip():
                try:
                    domain_key(line.strip().removeprefix("@"))
                except IdentityError:
                    raise ValidationError(
                        {"jit_domains": f"{line.strip()[:80]!r} is not a domain we accept."}
                    ) from None


class SiteScopedQuerySet(SiteRecordQuerySet):
    """The one place where tenant data is filtered by site."""

    def for_site(self, site: Site) -> SiteScopedQuerySet:
        return self.filter(site=site)


class SiteOwned(models.Model):
    """Abstract base for every tenant-owned model."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        abstract = True


class Agent(SiteOwned):
    """A staff member of one site who uses the agent console."""

    class Role(models.TextChoices):
        AGENT = "agent", "Agent"
        SUPERVISOR = "supervisor", "Supervisor"
        ADMIN = "admin", "Administrator"

    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        JIT = "jit", "Just in time (sign-in)"
        SCIM = "scim", "SCIM provisioning"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="agents")
    email = models.EmailField(max_length=254)
    # email_key(email): what sign-ins match on and what is unique per site.
    # NULL only for a row the key could not be computed for (see migration
    # 0004): such an agent matches no sign-in until its email is fixed.
    # NULL, not "": several keyless rows must not collide in the constraint.
    email_key = models.CharField(  # noqa: DJ001
        "identity key", max_length=320, null=True, blank=True, editable=False
    )
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    department = models.CharField(
        "department / group",
        max_length=100,
        blank=True,
        help_text="Routing group; refreshed from the identity provider when mapped.",
    )
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True, editable=False)
    source = models.CharField(
        max_length=10, choices=Source.choices, default=Source.MANUAL, editable=False
    )
    last_synced_at = models.DateTimeField(
        "last sync",
        null=True,
        blank=True,
        editable=False,
        help_text="Last time the identity provider (SCIM or a sign-in) updated this agent.",
    )

    class Meta:
        ordering: ClassVar = ["site", "email"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                "site",
                "email_key",
                name="agent_email_key_unique_per_site",
                violation_error_message="This site already has an agent with this email.",
            )
        ]

    def __str__(self) -> str:
        return self.name or self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "email" in update_fields:
            self.email_key = email_key_or_none(self.email)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "email_key"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Refuse an email that is no identity, or a look-alike of one (sets the key)."""
        site = self.site if self.site_id else None
        try:
            self.email_key = email_key(self.email)
        except IdentityError as error:
            message = (
                "This email could be mistaken for another (look-alike letters or a "
                "form that changes under normalisation)."
                if error.lookalike
                else "Enter a valid email address."
            )
            raise ValidationError({"email": message}, code=f"email_{error.code}") from None
        # The admin's form leaves the non-editable key out of its constraint
        # checks, so uniqueness is checked here, on the key.
        if site is not None and (
            Agent.objects.for_site(site)
            .filter(email_key=self.email_key)
            .exclude(pk=self.pk)
            .exists()
        ):
            raise ValidationError(
                {"email": "This site already has an agent with this email."},
                code="email_duplicate",
            )


class SiteOperator(SiteOwned):
    """Grant a Django (staff) user the right to administer one site."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="operators")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="site_grants"
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint("site", "user", name="operator_unique_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.user} operates {self.site}"


class Audience(models.TextChoices):
    AGENT = "agent", "Agent"
    VISITOR = "visitor", "Visitor"


class Protocol(models.TextChoices):
    SAML = "saml", "SAML 2.0"
    JWT = "jwt", "JWT"
    PASSWORD = "password", "Password"
    OIDC = "oidc", "OpenID Connect"


class LoginEvent(models.Model):
    """One sign-in, refusal or sign-out, for the audit log.

    Never holds a secret or a whole token: only identifiers such as a JWT's
    ``jti`` or an assertion's ID in ``detail``. ``site`` is empty only for an
    attempt at a site ID that does not exist; such rows are shown to
    superusers alone.
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Signed in"
        REFUSED = "refused", "Refused"
        SIGNED_OUT = "signed_out", "Signed out"

    # No index of its own: the (site, -created_at) index below serves every
    # lookup by site, and one index fewer is written on every sign-in.
    site = models.ForeignKey(
        Site,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="login_events",
        db_index=False,
    )
    audience = models.CharField(max_length=10, choices=Audience.choices)
    protocol = models.CharField(max_length=10, choices=Protocol.choices, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    reason = models.CharField("reason code", max_length=40, blank=True)
    subject = models.CharField(max_length=254, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = SiteScopedQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-created_at"]
        indexes: ClassVar = [models.Index(fields=["site", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} {self.audience} {self.reason}".strip()


class UsedToken(SiteOwned):
    """A single-use identifier (JWT ``jti``, SAML assertion ID) already consumed.

    Stored in the database so that every app server shares it; the unique
    constraint makes consumption atomic without a read first.
    """

    # No index of its own: the unique (site, kind, value) index leads with it.
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=20)
    value = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint("site", "kind", "value", name="used_token_single_use")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


site_record_feeds(Site, site_field="pk")

DOMAIN_TXT_PREFIX = "sso-gateway-verification="


def _domain_token() -> str:
    import secrets

    return secrets.token_urlsafe(24)


class SiteDomain(SiteOwned):
    """An email domain a site claims, so a work email finds the site.

    A claim counts once verified: by a DNS TXT record holding the token, or
    confirmed by a superuser. An email domain verified for more than one
    site finds none of them (the site ID is asked for instead).
    """

    class Method(models.TextChoices):
        DNS = "dns", "DNS TXT record"
        SUPERUSER = "superuser", "Confirmed by a superuser"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(
        max_length=253, help_text="An email domain, e.g. example.com (lower case, no @)."
    )
    token = models.CharField(max_length=64, default=_domain_token, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    verified_by = models.CharField(
        max_length=10, choices=Method.choices, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["domain"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                "site",
                Lower("domain"),
                name="site_domain_unique_per_site",
                violation_error_message="This site already claims this domain.",
            )
        ]

    def __str__(self) -> str:
        return self.domain

    def clean(self) -> None:
        from django.core.validators import validate_domain_name

        self.domain = self.domain.strip().lower().removeprefix("@")
        validate_domain_name(self.domain)
        if "." not in self.domain:
            raise ValidationError({"domain": "Enter a full domain such as example.com."})

    @property
    def txt_record(self) -> str:
        """Return the TXT record value that proves the claim."""
        return f"{DOMAIN_TXT_PREFIX}{self.token}"
