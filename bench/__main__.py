"""Run every benchmark: ``python -m bench``."""

from __future__ import annotations

from bench import saml_acs

if __name__ == "__main__":
    saml_acs.main()
