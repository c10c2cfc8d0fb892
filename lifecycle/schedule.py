"""The beat schedule of the lifecycle jobs, in code (imported by settings).

Imports nothing: settings read it before Django is set up.
"""

from __future__ import annotations

from typing import Any

MINUTE = 60.0
HOUR = 3600.0

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "saml-metadata-refresh": {
        "task": "lifecycle.tasks.saml_metadata_refresh_all",
        "schedule": HOUR,
    },
    "jwks-refresh": {"task": "lifecycle.tasks.jwks_refresh_all", "schedule": 15 * MINUTE},
    "key-rotation-finish": {"task": "lifecycle.tasks.key_rotations_finish", "schedule": 5 * MINUTE},
    "expiry-warnings": {"task": "lifecycle.tasks.expiry_warnings_send", "schedule": 6 * HOUR},
    "retention-purge": {"task": "lifecycle.tasks.retention_purge", "schedule": 6 * HOUR},
    "webhook-sweep": {"task": "webhooks.tasks.webhook_deliveries_sweep", "schedule": MINUTE},
}
