"""Admin of custom variables and field mappings: inline under the site, as
scoped lists, and the "try it" page.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied
from django.db.models import ForeignKey, QuerySet
from django.forms import BaseInlineFormSet, ModelChoiceField
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from mapping.mapper import Rule
from mapping.models import DUPLICATE_TARGET, CustomVariable, FieldMapping, Target
from mapping.tryit import TRY_FIELDS, UNSAVED_FLAG, TryItForm
from tenants.admin import SITE_INLINES, SiteScopedAdmin, operator_sites
from tenants.inputs import ascii_int_or
from tenants.models import Site


class FieldMappingFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    """Refuse two rows of one submission mapping to the same target."""

    def clean(self) -> None:
        super().clean()
        seen: set[tuple[Any, ...]] = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("target"):
                continue
            variable = data.get("variable")
            target = data["target"]
            key = (data.get("audience"), data.get("protocol"), target, variable)
            if key in seen:
                label = str(variable) if target == Target.CUSTOM else Target(target).label
                where = f"{data.get('audience')} {data.get('protocol')} sign-ins"
                form.add_error("target", DUPLICATE_TARGET.format(target=label, where=where))
            seen.add(key)


class SiteScopedInline(admin.TabularInline):  # type: ignore[type-arg]
    """An inline under a site: only that site's rows and foreign-key choices."""

    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(site__in=operator_sites(request))

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        request._mapping_site = obj  # type: ignore[attr-defined]
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.related_model is CustomVariable:
            site: Site | None = getattr(request, "_mapping_site", None)
            kwargs["queryset"] = CustomVariable.objects.filter(site=site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(field, "widget", None)
        if isinstance(widget, RelatedFieldWidgetWrapper):
            # Pop-ups would leave the site's page; variables are edited above.
            widget.can_add_related = widget.can_change_related = False
            widget.can_view_related = widget.can_delete_related = False
        if field is not None and db_field.name in self.compact:
            field.widget.attrs.update(self.compact[db_field.name])
        return field

    compact: dict[str, dict[str, Any]] = {}


class CustomVariableInline(SiteScopedInline):
    model = CustomVariable
    compact = {"choices": {"rows": 3, "style": "width: 12em"}, "order": {"style": "width: 4em"}}
    fields = ["order", "key", "label", "type", "choices", "shown_to_agents"]


class FieldMappingInline(SiteScopedInline):
    model = FieldMapping
    formset = FieldMappingFormSet
    compact = {"source": {"style": "width: 13em"}, "default": {"style": "width: 6em"}}

    class Media:
        js = ["mapping/try_unsaved.js"]

    template = "admin/mapping/fieldmapping_inline.html"
    fields = [
        "audience",
        "protocol",
        "source",
        "multi_value",
        "target",
        "variable",
        "required",
        "default",
        "trim",
        "lower",
    ]


SITE_INLINES.extend([CustomVariableInline, FieldMappingInline])


@admin.register(CustomVariable)
class CustomVariableAdmin(SiteScopedAdmin):
    list_display = ["key", "label", "site", "type", "shown_to_agents", "order"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter), "type"]
    search_fields = ["key", "label"]


@admin.register(FieldMapping)
class FieldMappingAdmin(SiteScopedAdmin):
    list_display = ["source", "target_display", "site", "audience", "protocol", "required"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter), "audience", "protocol"]
    search_fields = ["source"]
    change_list_template = "admin/mapping/fieldmapping_changelist.html"

    @admin.display(description="target")
    def target_display(self, obj: FieldMapping) -> str:
        return obj.target_name

    def get_urls(self) -> list[URLPattern]:
        try_it = self.admin_site.admin_view(self.try_it_view)
        return [path("try/", try_it, name="mapping_fieldmapping_try"), *super().get_urls()]

    def try_it_view(self, request: HttpRequest) -> HttpResponse:
        """Run a site's mappings on a pasted sample; store nothing.

        From the site's page (``UNSAVED_FLAG`` posted with the whole form) the
        mappings are the ones on the page, saved or not; otherwise the saved ones.
        """
        if not self.has_view_permission(request):
            raise PermissionDenied
        sites = operator_sites(request)
        rules: tuple[Rule, ...] | None = None
        problems: list[str] = []
        if request.method == "POST" and UNSAVED_FLAG in request.POST:
            site = sites.filter(pk=ascii_int_or(request.GET.get("site"), 0)).first()
            if site is None:
                raise PermissionDenied
            form = TryItForm(
                {"site": site.pk, **{n: request.POST.get(f"tryit_{n}", "") for n in TRY_FIELDS}},
                sites=sites,
            )
            rules, problems = self._unsaved_rules(request, site, form)
        else:
            site_pk = ascii_int_or(request.GET.get("site"), 0, minimum=1)
            initial = {"site": site_pk} if site_pk else None
            form = TryItForm(request.POST or None, initial=initial, sites=sites)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Try the field mappings",
            "form": form,
            "opts": self.model._meta,
            "unsaved": rules is not None or bool(problems),
            "formset_problems": problems,
        }
        if request.method == "POST" and form.is_valid() and not problems:
            sample, result, rule_count = form.run(rules=rules)
            context.update(
                sample_json=json.dumps(sample, indent=2, default=str, ensure_ascii=False),
                result=result,
                rule_count=rule_count,
                values_json={
                    k: json.dumps(v, ensure_ascii=False) for k, v in result.values.items()
                },
            )
        return TemplateResponse(request, "admin/mapping/try_it.html", context)

    def _unsaved_rules(
        self, request: HttpRequest, site: Site, form: TryItForm
    ) -> tuple[tuple[Rule, ...] | None, list[str]]:
        """Return the rules of the site page's mapping rows for the form's audience
        and protocol, or the rows' problems; nothing is saved."""
        formset_class = FieldMappingInline(Site, self.admin_site).get_formset(request, site)
        formset = formset_class(
            request.POST, instance=site, prefix=formset_class.get_default_prefix()
        )
        if not formset.is_valid():
            problems = [str(error) for error in formset.non_form_errors()]
            for number, errors in enumerate(formset.errors, start=1):
                for name, messages in errors.items():
                    problems += [f"Row {number}, {name}: {message}" for message in messages]
            return None, problems
        wanted = (request.POST.get("tryit_audience"), request.POST.get("tryit_protocol"))
        rows = [
            row.instance
            for row in formset.forms
            if row.cleaned_data and not row.cleaned_data.get("DELETE")
        ]
        rules = tuple(r.rule() for r in rows if (r.audience, r.protocol) == wanted)
        return rules, []
