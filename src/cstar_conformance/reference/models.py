"""Request bodies and query parameters as Pydantic models, built once per server from its mode and faults.

Bodies are strict (``"12"`` is no integer, ``12`` no string, ``1`` no boolean); unknown fields are
ignored or forbidden, ``null`` for optional fields accepted or refused, and long strings allowed or
not, as the mode chooses. Email addresses are checked with ``email-validator`` (no DNS) and kept exactly
as sent. Query parameters arrive as strings: page numbers must be plain decimal digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WrapValidator
from pydantic_core import PydanticCustomError

from .faults import FaultSet
from .modes import Mode

STATUSES = ("active", "inactive")
SENTIMENTS = ("happy", "neutral", "frustrated", "angry")
PRIORITIES = ("low", "normal", "high", "urgent")
EVENT_TYPES = ("customer.created", "customer.updated", "customer.deleted", "*")
MAX_TAGS = 1000
ORDINARY_LENGTH = 255
LONG_LENGTH = 10_000
DIGITS = re.compile(r"[0-9]{1,1000}")

Status = Literal["active", "inactive"]
Sentiment = Literal["happy", "neutral", "frustrated", "angry"]
Priority = Literal["low", "normal", "high", "urgent"]
EventType = Literal["customer.created", "customer.updated", "customer.deleted", "*"]


@dataclass(frozen=True)
class Models:
    customer_create: type[BaseModel]
    customer_patch: type[BaseModel]
    ticket_create: type[BaseModel]
    webhook_create: type[BaseModel]
    customer_query: type[BaseModel]
    ticket_query: type[BaseModel]
    page_query: type[BaseModel]
    nullable: frozenset[str]  # optional body fields that accept null (as "empty")


def _invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("value_error", message)


def _email_checker(faults: FaultSet) -> Any:
    def check(value: str) -> str:
        if faults.on("email-plus-rejected") and "+" in value.partition("@")[0]:
            raise _invalid("value is not a valid email address")  # the home-made validator's bug
        try:
            validate_email(value, check_deliverability=False)
        except EmailNotValidError as exc:
            raise _invalid(f"value is not a valid email address: {exc}") from None
        return value  # as sent: never the normalised form
    return check


def _custom_fields_checker(nested_allowed: bool, limit: int) -> Any:
    def check(value: dict[str, Any]) -> dict[str, Any]:
        for key, item in value.items():
            if not nested_allowed and isinstance(item, (dict, list)):
                raise _invalid(f"the value of {key!r} must be a string, number, boolean or null")
            if isinstance(item, str) and len(item) > limit:
                raise _invalid(f"the value of {key!r} must be at most {limit} characters")
        return value
    return check


def _not_blank(value: str) -> str:
    if not value.strip():
        raise _invalid("must not be blank")
    return value


def _digits(value: Any) -> Any:
    if isinstance(value, str) and not DIGITS.fullmatch(value):
        raise _invalid("must be a whole number written in digits")
    return value


def _page_number(default: int, lenient: bool) -> Any:
    """A page parameter: decimal digits, at least 1. `lenient` plays the fault that falls back to the default."""
    def fallback(value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except ValueError:
            return default
    checks: list[Any] = [BeforeValidator(_digits), Field(ge=1)]
    if lenient:
        checks.append(WrapValidator(fallback))
    return Annotated[int, *checks]


def _filter(allowed: tuple[str, ...], strict: bool, dropped_when_invalid: bool) -> Any:
    """An enum filter: refused when invalid (`strict`), or kept as a string that matches nothing."""
    def drop(value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except ValueError:
            return None  # the fault: an unknown value is dropped and the list comes back unfiltered
    if dropped_when_invalid:
        return Annotated[Literal[allowed], WrapValidator(drop)]
    return Literal[allowed] if strict else str


def build_models(mode: Mode, faults: FaultSet) -> Models:
    limit = ORDINARY_LENGTH if mode.takes("long-strings", "rejected") else LONG_LENGTH
    extra = "forbid" if mode.takes("unknown-body-fields", "rejected") else "ignore"
    null_choice = mode.get("null-optional")
    nullable = frozenset({"notes"} if null_choice == "notes-only" else
                         {"notes", "tags", "customFields", "status", "sentiment", "priority"}
                         if null_choice == "accepted" else set())

    def optional(field: str, kind: Any) -> Any:
        return kind | None if field in nullable else kind

    name_checks: list[Any] = [StringConstraints(min_length=1, max_length=limit)]
    if mode.takes("whitespace-name", "rejected"):
        name_checks.append(AfterValidator(_not_blank))
    Name = Annotated[str, *name_checks]
    Email = Annotated[str, AfterValidator(_email_checker(faults))]
    Text = Annotated[str, StringConstraints(max_length=limit)]
    Tags = Annotated[list[Text], Field(max_length=MAX_TAGS)]
    CustomFields = Annotated[dict[str, Any], AfterValidator(
        _custom_fields_checker(mode.takes("customfields-nested", "accepted"), limit))]
    body_config = ConfigDict(strict=True, extra=extra)

    class CustomerFields(BaseModel):
        model_config = body_config
        status: optional("status", Status) = None
        sentiment: optional("sentiment", Sentiment) = None
        tags: optional("tags", Tags) = None
        notes: optional("notes", Text) = None
        customFields: optional("customFields", CustomFields) = None

    if faults.on("create-missing-email-201"):
        class CustomerCreate(CustomerFields):
            name: Name
            email: Email = ""  # the bug: a default on a required field
    else:
        class CustomerCreate(CustomerFields):  # type: ignore[no-redef]
            name: Name
            email: Email

    class CustomerPatch(CustomerFields):  # absent → None (defaults are not validated); an explicit null fails
        name: Name = None
        email: Email = None

    if faults.on("patch-resets-ticketcount"):
        class TablePatch(CustomerPatch):  # the bug: the update model exposes read-only columns
            ticketCount: Annotated[int, Field(ge=0, lt=2**62)] | None = None
            createdAt: str | None = None
        patch_model: type[BaseModel] = TablePatch
    else:
        patch_model = CustomerPatch

    class TicketCreate(BaseModel):
        model_config = body_config
        title: Annotated[str, StringConstraints(min_length=1, max_length=limit)]
        customerId: Annotated[str, StringConstraints(max_length=LONG_LENGTH)]
        priority: optional("priority", Priority) = None

    class WebhookCreate(BaseModel):
        model_config = body_config
        url: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
        events: Annotated[list[EventType], Field(min_length=1)]
        name: Text | None = None

    lenient = faults.on("bad-page-params-default")
    default_size = 10 if faults.on("list-default-pagesize-10") else 20
    Page = _page_number(1, lenient)
    PageSize = _page_number(default_size, lenient)
    strict_filter = mode.takes("invalid-filter", "reject")
    dropped = faults.on("invalid-filter-ignored")
    query_config = ConfigDict(extra="ignore")

    class PageQuery(BaseModel):
        model_config = query_config
        page: Page = 1
        pageSize: PageSize = default_size

    class CustomerQuery(PageQuery):
        status: _filter(STATUSES, strict_filter, dropped) | None = None
        sentiment: _filter(SENTIMENTS, strict_filter, dropped) | None = None
        search: str | None = None
        tag: str | None = None

    class TicketQuery(PageQuery):
        customerId: str | None = None

    return Models(CustomerCreate, patch_model, TicketCreate, WebhookCreate, CustomerQuery, TicketQuery,
                  PageQuery, nullable)
