"""Chat services and tokens on the real database and Redis cache."""

from __future__ import annotations

import time

import pytest

from campaigns.models import Visitor
from campaigns.services import visitor_upsert
from chats import tokens
from chats.models import Chat, Message, SignInRequest
from chats.selectors import visitor_panel
from chats.services import (
    ChatRefusedError,
    chat_attach_visitor,
    chat_start,
    signin_request_create,
    visitor_handoff_mint,
    visitor_handoff_redeem,
)
from chats.tokens import ChatCredential, ChatTokenError, chat_token_issue, chat_token_read
from mapping.models import CustomVariable
from sso_site.signin.refusals import RefusalReason
from tenants.models import Agent, Site
from tests.factories import CampaignFactory
from tests.fixtures.chats import Campaigns


def visitor_of(site: Site, external_id: str = "cust-1", **custom: object) -> Visitor:
    return visitor_upsert(
        site=site,
        external_id=external_id,
        protocol="jwt",
        fields={"name": "Vera Visitor", "email": "vera@shop.example"},
        custom=custom,
    )


def test_required_mode_refuses_a_chat_without_a_signed_in_visitor(
    site: Site, campaigns: Campaigns
) -> None:
    with pytest.raises(ChatRefusedError) as refused:
        chat_start(site=site, campaign=campaigns.required, visitor=None, survey={})
    assert refused.value.reason == RefusalReason.SIGNIN_REQUIRED
    assert not Chat.objects.exists()

    chat = chat_start(site=site, campaign=campaigns.required, visitor=visitor_of(site))
    assert chat.visitor is not None


def test_guests_keep_their_survey_and_signed_in_visitors_skip_it(
    site: Site, campaigns: Campaigns
) -> None:
    answers = {"topic": " Returns ", "smuggled": "x" * 10}
    guest = chat_start(site=site, campaign=campaigns.optional, visitor=None, survey=answers)
    member = chat_start(
        site=site, campaign=campaigns.optional, visitor=visitor_of(site), survey=answers
    )
    assert guest.survey_answers == {"topic": "Returns"}
    assert guest.guest_label == f"Guest {guest.pk}"
    assert member.survey_answers == {}


def test_routing_sends_vips_to_the_vip_group_and_others_to_the_default(
    site: Site, campaigns: Campaigns, vip_routing: CustomVariable
) -> None:
    vip = visitor_of(site, "vip-1", membership_level="vip")
    basic = visitor_of(site, "basic-1", membership_level="basic")
    assert chat_start(site=site, campaign=campaigns.required, visitor=vip).group == "vip"
    assert chat_start(site=site, campaign=campaigns.required, visitor=basic).group == "general"


def test_signing_in_mid_chat_reroutes_and_tells_the_agent(
    site: Site, campaigns: Campaigns, vip_routing: CustomVariable, agent: Agent
) -> None:
    chat = chat_start(site=site, campaign=campaigns.optional, visitor=None, survey={})
    assert chat.group == "general"
    signin_request_create(site=site, chat=chat, agent=agent)

    chat_attach_visitor(site=site, chat=chat, visitor=visitor_of(site, membership_level="VIP"))

    chat.refresh_from_db()
    assert chat.group == "vip"
    assert chat.visitor is not None
    assert not SignInRequest.objects.filter(fulfilled_at__isnull=True).exists()
    last = Message.objects.filter(chat=chat).last()
    assert last is not None
    assert last.sender == Message.Sender.NOTE  # for agents only
    assert "moved the chat from group general to vip" in last.text
    told = Message.objects.filter(chat=chat, sender=Message.Sender.SYSTEM).last()
    assert told is not None
    assert told.text == "The visitor signed in as Vera Visitor."
    with pytest.raises(ChatRefusedError) as refused:
        signin_request_create(site=site, chat=chat, agent=agent)
    assert refused.value.reason == RefusalReason.NOT_A_GUEST


def test_a_visitor_of_another_site_is_never_attached(
    site: Site, other_site: Site, campaigns: Campaigns
) -> None:
    chat = chat_start(site=site, campaign=campaigns.none, visitor=None, survey={})
    with pytest.raises(ChatRefusedError) as refused:
        chat_attach_visitor(site=site, chat=chat, visitor=visitor_of(other_site))
    assert refused.value.reason == RefusalReason.WRONG_SITE
    with pytest.raises(ChatRefusedError) as refused:
        chat_attach_visitor(site=other_site, chat=chat, visitor=visitor_of(other_site))
    assert refused.value.reason == RefusalReason.WRONG_SITE
    chat.refresh_from_db()
    assert chat.visitor is None


def test_visitor_panel_shows_labels_of_variables_shown_to_agents(
    site: Site, campaigns: Campaigns, vip_routing: CustomVariable
) -> None:
    visitor = visitor_of(site, membership_level="VIP", internal_score=99, undefined="x")
    chat = chat_start(site=site, campaign=campaigns.required, visitor=visitor)
    rows = {row.label: row.value for row in visitor_panel(site=site, chat=chat)}
    assert rows == {
        "Name": "Vera Visitor",
        "Email": "vera@shop.example",
        "Membership level": "VIP",
    }


def test_chat_tokens_are_bound_to_site_and_campaign(
    site: Site, other_site: Site, campaigns: Campaigns
) -> None:
    credential = ChatCredential(site.pk, campaigns.none.pk, 5, None)
    token = chat_token_issue(credential)
    assert chat_token_read(token, site_pk=site.pk, campaign_pk=campaigns.none.pk) == credential
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad, site_pk, campaign_pk in [
        (token, other_site.pk, campaigns.none.pk),
        (token, site.pk, campaigns.optional.pk),
        (forged, site.pk, campaigns.none.pk),
        ("", site.pk, campaigns.none.pk),
        ("x" * 2000, site.pk, campaigns.none.pk),
    ]:
        with pytest.raises(ChatTokenError):
            chat_token_read(bad, site_pk=site_pk, campaign_pk=campaign_pk)


def test_handoff_codes_are_single_use(site: Site, campaigns: Campaigns) -> None:
    visitor = visitor_of(site)
    code = visitor_handoff_mint(site=site, campaign=campaigns.none, visitor=visitor)
    guest = ChatCredential(site.pk, campaigns.none.pk, None, None)

    credential, redeemed = visitor_handoff_redeem(
        site=site, campaign=campaigns.none, credential=guest, code=code
    )

    assert redeemed == visitor
    assert credential.visitor_pk == visitor.pk
    with pytest.raises(ChatRefusedError) as refused:
        visitor_handoff_redeem(site=site, campaign=campaigns.none, credential=guest, code=code)
    assert refused.value.reason == RefusalReason.HANDOFF_INVALID


def test_handoff_codes_are_bound_to_site_and_campaign_and_not_spent_by_a_wrong_window(
    site: Site, other_site: Site, campaigns: Campaigns
) -> None:
    visitor = visitor_of(site)
    other_campaign = CampaignFactory.create(site=other_site)
    for site_, campaign in [(site, campaigns.optional), (other_site, other_campaign)]:
        code = visitor_handoff_mint(site=site, campaign=campaigns.none, visitor=visitor)
        credential = ChatCredential(site_.pk, campaign.pk, None, None)
        with pytest.raises(ChatRefusedError) as refused:
            visitor_handoff_redeem(site=site_, campaign=campaign, credential=credential, code=code)
        assert refused.value.reason == RefusalReason.HANDOFF_INVALID
        # Another window's wrong attempt did not spend it: the right window redeems it once.
        right = ChatCredential(site.pk, campaigns.none.pk, None, None)
        new, _ = visitor_handoff_redeem(
            site=site, campaign=campaigns.none, credential=right, code=code
        )
        assert new.visitor_pk == visitor.pk
        with pytest.raises(ChatRefusedError) as refused:
            visitor_handoff_redeem(site=site, campaign=campaigns.none, credential=right, code=code)
        assert refused.value.reason == RefusalReason.HANDOFF_INVALID


def test_handoff_codes_expire(
    site: Site, campaigns: Campaigns, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "HANDOFF_TTL", 1)
    code = visitor_handoff_mint(site=site, campaign=campaigns.none, visitor=visitor_of(site))
    time.sleep(1.2)
    credential = ChatCredential(site.pk, campaigns.none.pk, None, None)
    with pytest.raises(ChatRefusedError) as refused:
        visitor_handoff_redeem(site=site, campaign=campaigns.none, credential=credential, code=code)
    assert refused.value.reason == RefusalReason.HANDOFF_INVALID


def test_minting_for_another_sites_visitor_or_campaign_is_refused(
    site: Site, other_site: Site, campaigns: Campaigns
) -> None:
    with pytest.raises(ChatRefusedError) as refused:
        visitor_handoff_mint(site=site, campaign=campaigns.none, visitor=visitor_of(other_site))
    assert refused.value.reason == RefusalReason.WRONG_SITE
    with pytest.raises(ChatRefusedError) as refused:
        visitor_handoff_mint(
            site=other_site, campaign=campaigns.none, visitor=visitor_of(other_site)
        )
    assert refused.value.reason == RefusalReason.WRONG_SITE
