"""Custom variables and field mappings, per site.

A ``FieldMapping`` says where one value of the identity provider's data goes,
for one audience (agent, visitor) and one protocol (JWT claims, SAML
attributes). ``rules()`` turns it into the engine's pure ``Rule``.
"""

from __future__ import annotations

from typing import ClassVar

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from mapping.mapper import CoercionError, FieldType, MultiValue, Rule, coerce
from tenants.models import Agent, Audience, Protocol, Site, SiteOwned
from tenants.site_record import site_record_feeds

FIELD_TYPE_CHOICES = [(t.value, t.value.capitalize()) for t in FieldType]
KEY_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9_]{0,49}$",
    "Use lower-case letters, digits and underscores, starting with a letter.",
)


class CustomVariable(SiteOwned):
    """A site-defined visitor field, shown to agents in the visitor panel."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="custom_variables")
    key = models.CharField(max_length=50, validators=[KEY_VALIDATOR])
    label = models.CharField(max_length=100)
    type = models.CharField(max_length=10, choices=FIELD_TYPE_CHOICES, default=FieldType.TEXT)
    choices = models.TextField(blank=True, help_text="For choice variables: one choice a line.")
    shown_to_agents = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0, help_text="Order in the visitor panel.")

    class Meta:
        ordering: ClassVar = ["site", "order", "key"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                "site",
                "key",
                name="custom_variable_key_unique_per_site",
                violation_error_message="This site already has a variable with this key.",
            )
        ]

    def __str__(self) -> str:
        return self.label or self.key

    @property
    def choice_list(self) -> tuple[str, ...]:
        return tuple(line.strip() for line in self.choices.splitlines() if line.strip())

    def clean(self) -> None:
        if self.type == FieldType.CHOICE and not self.choice_list:
            raise ValidationError({"choices": "A choice variable needs at least one choice."})
        if self.type != FieldType.CHOICE and self.choice_list:
            raise ValidationError({"choices": "Choices apply only to choice variables."})


class Target(models.TextChoices):
    NAME = "name", "Name"
    EMAIL = "email", "Email (visitor)"
    PHONE = "phone", "Phone (visitor)"
    EXTERNAL_ID = "external_id", "External ID (visitor)"
    DEPARTMENT = "department", "Department / group (agent)"
    ROLE = "role", "Role (agent)"
    CUSTOM = "custom", "Custom variable (visitor)"


TARGETS_BY_AUDIENCE: dict[str, set[str]] = {
    Audience.VISITOR: {Target.NAME, Target.EMAIL, Target.PHONE, Target.EXTERNAL_ID, Target.CUSTOM},
    Audience.AGENT: {Target.NAME, Target.DEPARTMENT, Target.ROLE},
}
# Built-in targets: their type (fixed) and the length their column holds.
BUILTIN_TYPES: dict[str, FieldType] = {
    Target.NAME: FieldType.TEXT,
    Target.EMAIL: FieldType.EMAIL,
    Target.PHONE: FieldType.TEXT,
    Target.EXTERNAL_ID: FieldType.TEXT,
    Target.DEPARTMENT: FieldType.TEXT,
    Target.ROLE: FieldType.CHOICE,
}
BUILTIN_MAX_LENGTH: dict[str, int] = {
    Target.NAME: 200,
    Target.EMAIL: 254,
    Target.PHONE: 50,
    Target.EXTERNAL_ID: 255,
    Target.DEPARTMENT: 100,
    Target.ROLE: 20,
}
CUSTOM_PREFIX = "custom."
MAPPED_PROTOCOLS = [(Protocol.JWT.value, "JWT claims"), (Protocol.SAML.value, "SAML attributes")]
DUPLICATE_TARGET = "Two mappings to one target are refused: {target} is already mapped for {where}."


class FieldMapping(SiteOwned):
    """Source (claim path or SAML attribute) -> target, for an audience and protocol."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="field_mappings")
    audience = models.CharField(max_length=10, choices=Audience, default=Audience.VISITOR)
    protocol = models.CharField(max_length=10, choices=MAPPED_PROTOCOLS, default=Protocol.JWT)
    source = models.CharField(
        max_length=255,
        help_text="JWT: a claim, dotted paths allowed (account.tier). SAML: an attribute's "
        "name or friendly name.",
    )
    multi_value = models.CharField(
        "multiple values",
        max_length=5,
        choices=[(MultiValue.FIRST.value, "Keep the first"), (MultiValue.ALL.value, "Keep all")],
        default=MultiValue.FIRST,
    )
    target = models.CharField(max_length=20, choices=Target)
    variable = models.ForeignKey(
        CustomVariable,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="mappings",
        help_text="For a custom variable target (save a new variable first).",
    )
    type = models.CharField(
        max_length=10,
        choices=FIELD_TYPE_CHOICES,
        blank=True,
        help_text="Left empty: the target's own type.",
    )
    required = models.BooleanField(default=False)
    default = models.CharField(max_length=255, blank=True)
    trim = models.BooleanField(default=True)
    lower = models.BooleanField("lower-case", default=False)

    class Meta:
        ordering: ClassVar = ["site", "audience", "protocol", "target", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                "site",
                "audience",
                "protocol",
                "target",
                condition=~Q(target="custom"),
                name="mapping_builtin_target_unique",
                violation_error_message="Two mappings to one target are refused.",
            ),
            models.UniqueConstraint(
                "site",
                "audience",
                "protocol",
                "variable",
                condition=Q(variable__isnull=False),
                name="mapping_variable_target_unique",
                violation_error_message="Two mappings to one custom variable are refused.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} -> {self.target_name}"

    @property
    def target_name(self) -> str:
        """The target as the engine and the audit log name it."""
        if self.target == Target.CUSTOM:
            return f"{CUSTOM_PREFIX}{self.variable.key}" if self.variable else "custom"
        return str(self.target)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.target and self.target not in TARGETS_BY_AUDIENCE.get(self.audience, set()):
            errors["target"] = f"This target is not available for {self.audience}s."
        if self.target == Target.CUSTOM and not self.variable_id:
            errors["variable"] = "Choose the custom variable to fill."
        elif self.target != Target.CUSTOM and self.variable_id:
            errors["variable"] = "A variable applies only to a custom variable target."
        elif self.variable and self.variable.site_id != self.site_id:
            errors["variable"] = "This variable belongs to another site."
        if errors:
            raise ValidationError(errors)
        own_type = self._own_type()
        if self.type and self.type != own_type:
            raise ValidationError({"type": f"This target holds values of type {own_type}."})
        self.type = own_type
        if self.multi_value == MultiValue.ALL and self.target != Target.CUSTOM:
            raise ValidationError({"multi_value": "A built-in field holds a single value."})
        rule = self.rule()
        if self.default:
            try:
                coerce(rule, self.default)
            except CoercionError:
                raise ValidationError({"default": f"Not a valid {rule.type} value."}) from None

    def _own_type(self) -> str:
        if self.target == Target.CUSTOM and self.variable:
            return str(self.variable.type)
        return str(BUILTIN_TYPES.get(self.target, FieldType.TEXT))

    def rule(self) -> Rule:
        """Return this mapping as the engine's pure rule."""
        if self.target == Target.CUSTOM:
            choices = self.variable.choice_list if self.variable else ()
        elif self.target == Target.ROLE:
            choices = tuple(Agent.Role.values)
        else:
            choices = ()
        return Rule(
            source=self.source,
            target=self.target_name,
            # The target's own type, even if its variable changed type since.
            type=FieldType(self._own_type()),
            required=self.required,
            default=self.default,
            choices=choices,
            multi=MultiValue(self.multi_value),
            trim=self.trim,
            lower=self.lower,
            max_length=BUILTIN_MAX_LENGTH.get(self.target, 1000),
        )


# Read through the site's record (mapping.services.rules_for_site): saves,
# deletes and bulk writes give the site a new version.
site_record_feeds(CustomVariable)
site_record_feeds(FieldMapping)
