"""The periodic lifecycle jobs (schedule: lifecycle.schedule); each calls a service."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from lifecycle import expiry, services, sp_renewal


@shared_task  # type: ignore[untyped-decorator]
def saml_metadata_refresh_all() -> int:
    """Refresh every metadata URL."""
    return int(services.job_run("saml-metadata-refresh", services.metadata_refresh_all))


@shared_task  # type: ignore[untyped-decorator]
def jwks_refresh_all() -> int:
    """Refresh every JWKS URL."""
    return int(services.job_run("jwks-refresh", services.jwks_refresh_all))


@shared_task  # type: ignore[untyped-decorator]
def key_rotations_finish() -> int:
    """Retire the old keys of rotations whose window is over; switch SP certificates."""
    return int(
        services.job_run(
            "key-rotation-finish",
            lambda: services.key_rotations_finish() + sp_renewal.sp_renewals_finish(),
        )
    )


@shared_task  # type: ignore[untyped-decorator]
def expiry_warnings_send() -> int:
    """Send the 30/7/1-day expiry warnings."""
    return int(services.job_run("expiry-warnings", expiry.expiry_warnings_send))


@shared_task  # type: ignore[untyped-decorator]
def retention_purge() -> Any:
    """Delete expired and past-retention rows."""
    return services.job_run("retention-purge", services.retention_purge)
