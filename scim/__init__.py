"""SCIM 2.0 provisioning of agents, and IdP groups mapped to roles (issue 13)."""
