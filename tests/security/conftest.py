from tests.sso.saml.conftest import (  # noqa: F401 - fixtures shared with the SAML tests
    _fresh_sp_cache,
    idp_a,
    idp_b,
    idp_key_dir,
    rogue_idp,
    saml_other_site,
    saml_response_factory,
    saml_site,
)
