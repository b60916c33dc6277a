"""Identity resolution (DOMAIN.md section 3): connected components of identifiers, with blocked identifiers.

Written from the definition, not from int_identity_*: identifiers seen on one record are linked; an identifier
seen with more than ``max_customers_per_identifier`` distinct customer_refs links nothing; a record known only by
blocked identifiers (or by none) is a customer of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import pandas as pd
import phonenumbers

Identifier = tuple[str, str]  # (type, normalised value)


@cache
def normalise_phone(raw: str | None, region: str = "US") -> str | None:
    """E.164, or None when the number is not a possible one (DECISIONS: possible, not valid)."""
    if raw is None or (isinstance(raw, float) and pd.isna(raw)) or not str(raw).strip():
        return None
    try:
        number = phonenumbers.parse(str(raw), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str | None) -> str | None:
    if raw is None or (isinstance(raw, float) and pd.isna(raw)) or not str(raw).strip():
        return None
    return str(raw).strip().lower()


def _plain(raw: object) -> str | None:
    if raw is None or (isinstance(raw, float) and pd.isna(raw)) or not str(raw).strip():
        return None
    return str(raw).strip()


def identifiers(
    customer_ref: object = None, phone: object = None, email: object = None, visitor_id: object = None
) -> list[Identifier]:
    """The normalised identifiers of one record."""
    found = [
        ("customer_ref", _plain(customer_ref)),
        ("phone", normalise_phone(_plain(phone))),
        ("email", normalise_email(email)),
        ("visitor_id", _plain(visitor_id)),
    ]
    return [(kind, value) for kind, value in found if value is not None]


def respondent_identifier(raw: object) -> list[Identifier]:
    """A survey's respondent is a phone, an e-mail or a CRM id: '@' says e-mail, CRM ids look like C000123."""
    value = _plain(raw)
    if value is None:
        return []
    if "@" in value:
        return identifiers(email=value)
    if value[:1].isalpha() and value[1:].isdigit():
        return identifiers(customer_ref=value)
    return identifiers(phone=value)


@dataclass
class Identity:
    """Who each record belongs to."""

    component: dict[Identifier, str]  # unblocked identifier -> customer key
    blocked: set[Identifier]
    crm_of_customer: dict[str, str]  # customer key -> first CRM customer_ref of the component

    def customer_of(self, record_id: str, ids: Iterable[Identifier]) -> str:
        """The component of the record's unblocked identifiers, else an anonymous customer of the record alone."""
        for identifier in ids:
            if identifier in self.component:
                return self.component[identifier]
        return f"anon:{record_id}"


def resolve(records: list[tuple[str, list[Identifier]]], crm_refs: list[str], max_per_identifier: int = 3) -> Identity:
    """Connected components over ``records`` (record id, identifiers); ``crm_refs`` in CRM file order."""
    refs_seen: dict[Identifier, set[str]] = defaultdict(set)
    for _, ids in records:
        refs = {value for kind, value in ids if kind == "customer_ref"}
        for identifier in ids:
            if identifier[0] != "customer_ref":
                refs_seen[identifier] |= refs
    blocked = {identifier for identifier, refs in refs_seen.items() if len(refs) > max_per_identifier}

    parent: dict[Identifier, Identifier] = {}

    def find(node: Identifier) -> Identifier:
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    for _, ids in records:
        usable = [identifier for identifier in ids if identifier not in blocked]
        for identifier in usable:
            parent.setdefault(identifier, identifier)
        for other in usable[1:]:
            a, b = find(usable[0]), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    component = {node: "cust:" + ":".join(find(node)) for node in parent}
    crm_of_customer: dict[str, str] = {}
    for ref in crm_refs:
        key = component.get(("customer_ref", ref))
        if key is not None:
            crm_of_customer.setdefault(key, ref)
    return Identity(component=component, blocked=blocked, crm_of_customer=crm_of_customer)
