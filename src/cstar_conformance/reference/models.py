"""Request bodies and query parameters as Pydantic models, built once per server from its mode and faults.

Bodies are strict (``"12"`` is no integer, ``12`` no string, ``1`` no boolean); unknown fields are
ignored or forbidden, ``null`` for optional fields accepted or refused, and long strings allowed or
not, as the mode chooses. Email addresses are checked with ``email-validator`` (no DNS) and kept exactly
as sent. Query parameters arrive as strings: page numbers must be plain decimal digits.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
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
EMAIL_LOCAL_PART_MAX = 64  # RFC 5321; the whole address may have 254 characters
LONG_LENGTH = 10_000
DIGITS = re.compile(r"[0-9]{1,1000}")
LEADING_DIGITS = re.compile(r"[0-9]{1,1000}")

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
    create_tags: Any = None  # the strict type of `tags` (checked apart only under create-tags-second-transaction)


def _invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("value_error", message)


def _email_checker(faults: FaultSet) -> Any:
    def check(value: str) -> str:
        if faults.on("email-plus-rejected") and "+" in value.partition("@")[0]:
            raise _invalid("value is not a valid email address")  # the home-made validator's bug
        if faults.on("email-max-64") and len(value) > EMAIL_LOCAL_PART_MAX:
            raise _invalid("value is not a valid email address: too long")  # the local part's limit, misread
        try:
            info = validate_email(value, check_deliverability=False)
        except EmailNotValidError as exc:
            raise _invalid(f"value is not a valid email address: {exc}") from None
        if faults.on("email-domain-normalized"):
            return info.normalized  # the bug: the library's normalised form (the domain lowered)
        return value  # as sent: never the normalised form
    return check


def _custom_fields_checker(nested_allowed: bool, limit: int) -> Any:
    def check(value: dict[str, Any] | list[Any]) -> dict[str, Any] | list[Any]:
        if isinstance(value, list):  # only the customfields-array-accepted fault's type lets one through
            return value
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


def _page_number(default: int, lenient: bool, leading_digits: bool, minimum: int = 1) -> Any:
    """A page parameter: decimal digits, at least `minimum` (1 but for a fault's schema). `lenient` plays the
    fault that falls back to the default, `leading_digits` the one that reads it the way parseInt does."""
    def fallback(value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except ValueError:
            return default
    checks: list[Any] = [BeforeValidator(_leading_digits if leading_digits else _digits), Field(ge=minimum)]
    if lenient:
        checks.append(WrapValidator(fallback))
    return Annotated[int, *checks]


def _leading_digits(value: Any) -> Any:
    """parseInt("1.5") is 1: the page-params-parseint fault."""
    found = LEADING_DIGITS.match(value) if isinstance(value, str) else None
    return found.group(0) if found else _digits(value)


def _enum(allowed: tuple[str, ...], case_insensitive: bool) -> Any:
    """An enum value; `case_insensitive` plays the fault that accepts any letter case and keeps it as sent."""
    if not case_insensitive:
        return Literal[allowed]

    def check(value: str) -> str:
        if value.lower() not in allowed:
            raise _invalid(f"must be one of {', '.join(allowed)}")
        return value
    return Annotated[str, AfterValidator(check)]


def _filter(allowed: tuple[str, ...], strict: bool, dropped_when_invalid: bool, case_insensitive: bool,
            empty_is_none: bool) -> Any:
    """An enum filter: refused when invalid (`strict`), or kept as a string that matches nothing; an empty
    value is no filter at all when `empty_is_none`, else an invalid value like any other."""
    def drop(value: Any, handler: Any) -> Any:
        try:
            return handler(value)
        except ValueError:
            return None  # the fault: an unknown value is dropped and the list comes back unfiltered
    if dropped_when_invalid:
        kind: Any = Annotated[Literal[allowed], WrapValidator(drop)]
    elif case_insensitive:
        kind = _enum(allowed, True) if strict else str
    else:
        kind = Literal[allowed] if strict else str
    if not empty_is_none:
        return kind
    return Annotated[kind | None, BeforeValidator(lambda value: None if value == "" else value)]


def _utf8_bytes_at_most(limit: int) -> Any:
    """The length-in-bytes fault: a character limit checked on the UTF-8 bytes."""
    def check(value: str) -> str:
        if len(value.encode("utf-8", "surrogatepass")) > limit:
            raise _invalid(f"must be at most {limit} characters")
        return value
    return AfterValidator(check)


def _nfkc(value: str) -> str:
    """The name-nfkc-normalized fault: compatibility normalisation, as Django does for usernames."""
    return unicodedata.normalize("NFKC", value)


def _without_format_characters(value: str) -> str:
    """The name-invisible-chars-stripped fault: an anti-spoofing display-name sanitizer drops every invisible
    format character (category Cf: ZWJ, ZWNJ, LRM/RLM, bidi embeddings, emoji tag characters)."""
    return "".join(ch for ch in value if unicodedata.category(ch) != "Cf")


def _sequence_as_list(value: Any) -> Any:
    """The tags-string-split fault: any Sequence is taken for a list of tags — a string is one of characters."""
    return list(value) if isinstance(value, Sequence) and not isinstance(value, list) else value


def _number_as_string(value: Any) -> Any:
    """The lax-string-coercion fault: a number where a string belongs becomes its decimal text (Pydantic v1)."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


@dataclass(frozen=True)
class _Strings:
    name: Any
    text: Any
    tags: Any


def _strings(limit: int, mode: Mode, faults: FaultSet, strip: bool = False) -> _Strings:
    """The string types of a customer body for one length limit (and the faults that bend it); `strip` plays
    the patch-strings-stripped fault (`constr(strip_whitespace=True)` on the update DTO)."""
    byte_limit = [_utf8_bytes_at_most(ORDINARY_LENGTH)] if faults.on("length-in-bytes") else []
    lax = [BeforeValidator(_number_as_string)] if faults.on("lax-string-coercion") else []
    trim = {"strip_whitespace": True} if strip else {}
    name_checks: list[Any] = [*lax, StringConstraints(min_length=1, max_length=limit, **trim), *byte_limit]
    if mode.takes("whitespace-name", "rejected"):
        name_checks.append(AfterValidator(_not_blank))
    if faults.on("name-nfkc-normalized"):
        name_checks.append(AfterValidator(_nfkc))
    if faults.on("name-invisible-chars-stripped"):
        name_checks.append(AfterValidator(_without_format_characters))
    text = Annotated[str, *lax, StringConstraints(max_length=limit, **trim), *byte_limit]
    split = [BeforeValidator(_sequence_as_list)] if faults.on("tags-string-split") else []
    return _Strings(Annotated[str, *name_checks], text, Annotated[list[text], *split, Field(max_length=MAX_TAGS)])


def build_models(mode: Mode, faults: FaultSet) -> Models:
    limit = ORDINARY_LENGTH if mode.takes("long-strings", "rejected") else LONG_LENGTH
    extra = "forbid" if mode.takes("unknown-body-fields", "rejected") else "ignore"
    null_choice = mode.get("null-optional")
    nullable = frozenset({"notes"} if null_choice == "notes-only" else
                         {"notes", "tags", "customFields", "status", "sentiment", "priority"}
                         if null_choice == "accepted" else set())

    def optional(field: str, kind: Any) -> Any:
        return kind | None if field in nullable else kind

    on_create = _strings(limit, mode, faults)
    stripped = faults.on("patch-strings-stripped")
    if faults.on("patch-limit-254") or stripped:
        on_patch = _strings(ORDINARY_LENGTH - 1 if faults.on("patch-limit-254") else limit, mode, faults, stripped)
    else:
        on_patch = on_create
    Email = Annotated[str, AfterValidator(_email_checker(faults))]
    Text = on_create.text  # noqa: N806
    # the customfields-array-accepted bug: "is it an object?" asked as JavaScript's typeof does (arrays are)
    object_like: Any = dict[str, Any] | list[Any] if faults.on("customfields-array-accepted") else dict[str, Any]
    CustomFields = Annotated[object_like, AfterValidator(  # noqa: N806
        _custom_fields_checker(mode.takes("customfields-nested", "accepted"), limit))]
    case_insensitive = faults.on("enum-case-insensitive")
    Status, Sentiment = _enum(STATUSES, case_insensitive), _enum(SENTIMENTS, case_insensitive)  # noqa: N806
    # the patch-sentiment-unvalidated bug: the hand-written update DTO declares sentiment a plain string
    PatchSentiment = str if faults.on("patch-sentiment-unvalidated") else Sentiment  # noqa: N806
    body_config = ConfigDict(strict=True, extra=extra)

    Name, CreateText, CreateTags = on_create.name, on_create.text, on_create.tags  # noqa: N806
    PatchName, PatchText, PatchTags = on_patch.name, on_patch.text, on_patch.tags  # noqa: N806
    # the create-tags-second-transaction bug: the customer's DTO leaves the tags to the tag table's own step
    BodyTags = list[Any] if faults.on("create-tags-second-transaction") else CreateTags  # noqa: N806
    CreateNotes, PatchNotes = CreateText, PatchText  # noqa: N806
    if faults.on("notes-html-escaped"):  # an input sanitizer in the field's validation chain
        CreateNotes = Annotated[CreateText, AfterValidator(html.escape)]  # noqa: N806
        PatchNotes = Annotated[PatchText, AfterValidator(html.escape)]  # noqa: N806

    class CustomerFields(BaseModel):
        model_config = body_config
        status: optional("status", Status) = None
        sentiment: optional("sentiment", Sentiment) = None
        tags: optional("tags", BodyTags) = None
        notes: optional("notes", CreateNotes) = None
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
        name: PatchName = None
        email: Email = None
        sentiment: optional("sentiment", PatchSentiment) = None
        tags: optional("tags", PatchTags) = None
        notes: optional("notes", PatchNotes) = None

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

    lenient, parse_int = faults.on("bad-page-params-default"), faults.on("page-params-parseint")
    default_size = 10 if faults.on("list-default-pagesize-10") else 20
    Page = _page_number(1, lenient, parse_int)
    PageSize = _page_number(default_size, lenient, parse_int)
    strict_filter = mode.takes("invalid-filter", "reject")
    dropped, any_case = faults.on("invalid-filter-ignored"), faults.on("filter-case-insensitive")
    query_config = ConfigDict(extra="ignore")

    class PageQuery(BaseModel):
        model_config = query_config
        page: Page = 1
        pageSize: PageSize = default_size

    empty_none = mode.takes("empty-filter", "no-filter")

    # the pagesize-zero-unlimited fault: the customer list's schema says `minimum: 0`
    CustomerPageSize = _page_number(default_size, lenient, parse_int,  # noqa: N806
                                    0 if faults.on("pagesize-zero-unlimited") else 1)

    class CustomerQuery(PageQuery):
        pageSize: CustomerPageSize = default_size
        status: _filter(STATUSES, strict_filter, dropped, any_case, empty_none) | None = None
        sentiment: _filter(SENTIMENTS, strict_filter, dropped, any_case, empty_none) | None = None
        search: str | None = None
        tag: str | None = None

    class TicketQuery(PageQuery):
        customerId: str | None = None

    return Models(CustomerCreate, patch_model, TicketCreate, WebhookCreate, CustomerQuery, TicketQuery,
                  PageQuery, nullable, CreateTags)
