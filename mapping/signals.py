"""Default mappings for new sites (changed mappings renew the site's record:
see ``site_record_feeds`` in ``mapping.models``)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from mapping.services import mappings_default_create
from tenants.models import Site


@receiver(post_save, sender=Site, dispatch_uid="mapping_site_defaults")
def site_created(
    sender: type[Site], instance: Site, created: bool, raw: bool, **kwargs: Any
) -> None:
    if created and not raw:
        mappings_default_create(site=instance)
