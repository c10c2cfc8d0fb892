"""Email-domain claims: DNS TXT verification against a real (local) DNS
server, superuser confirmation, and the email-to-site lookup.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import dns.message
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset
import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError

from tenants.domains import site_domain_confirm, site_domain_verify_dns, site_get_by_email
from tenants.models import Site, SiteDomain


class LocalDns:
    """A tiny authoritative DNS server on 127.0.0.1 answering TXT queries."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                data, address = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            for question in query.question:
                name = question.name.to_text(omit_final_dot=True)
                values = self.records.get(name)
                if question.rdtype == dns.rdatatype.TXT and values:
                    quoted = [f'"{value}"' for value in values]
                    response.answer.append(
                        dns.rrset.from_text(question.name, 60, "IN", "TXT", *quoted)
                    )
                else:
                    response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), address)

    def resolver(self) -> dns.resolver.Resolver:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = self.port
        return resolver

    def stop(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()


@pytest.fixture
def local_dns() -> Iterator[LocalDns]:
    server = LocalDns()
    yield server
    server.stop()


@pytest.fixture
def claim(site: Site) -> SiteDomain:
    claim = SiteDomain(site=site, domain="A.Example")
    claim.full_clean()
    claim.save()
    return claim


def test_claim_is_normalised_and_checked(site: Site) -> None:
    with pytest.raises(ValidationError):
        SiteDomain(site=site, domain="not a domain").full_clean()
    claim = SiteDomain(site=site, domain="@Shop.Example ")
    claim.full_clean()
    assert claim.domain == "shop.example"


def test_dns_txt_record_verifies_claim(claim: SiteDomain, local_dns: LocalDns) -> None:
    local_dns.records["a.example"] = ["v=spf1 -all", claim.txt_record]

    assert site_domain_verify_dns(claim=claim, resolver=local_dns.resolver())

    claim.refresh_from_db()
    assert claim.verified_by == SiteDomain.Method.DNS
    assert claim.verified_at is not None


@pytest.mark.parametrize(
    "records",
    [[], ["sso-gateway-verification=someone-elses-token"], ["v=spf1 -all"]],
    ids=["no-record", "other-token", "unrelated"],
)
def test_dns_without_the_token_does_not_verify(
    claim: SiteDomain, local_dns: LocalDns, records: list[str]
) -> None:
    if records:
        local_dns.records["a.example"] = records

    assert not site_domain_verify_dns(claim=claim, resolver=local_dns.resolver())
    claim.refresh_from_db()
    assert claim.verified_at is None


def test_only_superusers_confirm_without_dns(claim: SiteDomain) -> None:
    operator = User.objects.create_user("op", "op@x.example", "pw", is_staff=True)
    with pytest.raises(PermissionDenied):
        site_domain_confirm(claim=claim, user=operator)
    site_domain_confirm(claim=claim, user=User.objects.create_superuser("root", "r@x.example"))
    claim.refresh_from_db()
    assert claim.verified_by == SiteDomain.Method.SUPERUSER


def test_email_finds_the_one_site_with_a_verified_claim(
    claim: SiteDomain, other_site: Site
) -> None:
    assert site_get_by_email(email="alice@a.example") is None  # not verified yet
    site_domain_confirm(claim=claim, user=User.objects.create_superuser("root", "r@x.example"))

    assert site_get_by_email(email="Alice@A.Example") == claim.site
    assert site_get_by_email(email="alice@b.example") is None
    assert site_get_by_email(email="not-an-email") is None

    rival = SiteDomain.objects.create(
        site=other_site, domain="a.example", verified_at=claim.verified_at
    )
    assert site_get_by_email(email="alice@a.example") is None  # two sites: ask the ID
    rival.delete()
    Site.objects.filter(pk=claim.site.pk).update(is_active=False)
    assert site_get_by_email(email="alice@a.example") is None
