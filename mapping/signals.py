"""Default mappings for new sites; cached rules dropped when mappings change."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from mapping.models import CustomVariable, FieldMapping
from mapping.services import mappings_default_create, rules_forget
from tenants.models import Site


@receiver(post_save, sender=Site, dispatch_uid="mapping_site_defaults")
def site_created(
    sender: type[Site], instance: Site, created: bool, raw: bool, **kwargs: Any
) -> None:
    if created and not raw:
        mappings_default_create(site=instance)


@receiver(post_save, sender=FieldMapping, dispatch_uid="mapping_saved")
@receiver(post_delete, sender=FieldMapping, dispatch_uid="mapping_deleted")
@receiver(post_save, sender=CustomVariable, dispatch_uid="variable_saved")
@receiver(post_delete, sender=CustomVariable, dispatch_uid="variable_deleted")
def rules_changed(
    sender: type[Any], instance: FieldMapping | CustomVariable, **kwargs: Any
) -> None:
    rules_forget(site_pk=instance.site_id)
