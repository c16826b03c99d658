"""The API server's rules for names, labels, hosts, ports and images, as plain functions.

The JSON schemas say only "string" for these fields, so a manifest can pass them and still be
refused by `kubectl apply`. Each function returns None for a valid value or the reason it is not,
in the API server's words where it has them. Sources (Kubernetes 1.33):

- k8s.io/apimachinery/pkg/util/validation/validation.go: `IsDNS1123Label`, `IsDNS1123Subdomain`,
  `IsDNS1035Label`, `IsWildcardDNS1123Subdomain`, `IsQualifiedName`, `IsValidLabelValue`,
  `IsValidPortNum`, `IsValidPortName` (IANA_SVC_NAME);
- k8s.io/apimachinery/pkg/api/validation/objectmeta.go: `ValidateAnnotations` (keys are qualified
  names, checked lower-cased; all annotations together at most 256 KiB);
- k8s.io/kubernetes/pkg/apis/networking/validation/validation.go: Ingress hosts (a DNS-1123
  subdomain, or `*.` + one when it holds a `*`; never an IP address) and HTTP paths (absolute, none
  of `//`, `/./`, `/../`, `%2f`, `%2F`, not ending in `/..` or `/.`);
- k8s.io/kubernetes/pkg/apis/core/validation/validation.go: container images (no leading or
  trailing whitespace); the kubelet then parses the image as a reference
  (github.com/distribution/reference, regexp.go) and fails the pod with `InvalidImageName`
  otherwise, so a reference that does not parse is an error here too.
"""

from __future__ import annotations

import ipaddress
import re

__all__ = [
    "annotation_key",
    "annotations_size",
    "dns1035_label",
    "dns1123_label",
    "dns1123_subdomain",
    "http_path",
    "image_reference",
    "ingress_host",
    "label_key",
    "label_value",
    "port_name",
    "port_number",
]

_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL)
_DNS1123_SUBDOMAIN_RE = re.compile(rf"{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*")
_DNS1035_LABEL_RE = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_QUALIFIED_NAME_RE = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_LABEL_VALUE_RE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_PORT_NAME_CHARS = re.compile(r"[-a-z0-9]+")
_PORT_NAME_LETTER = re.compile(r"[a-z]")

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
QUALIFIED_NAME_MAX = 63
LABEL_VALUE_MAX = 63
ANNOTATIONS_MAX_BYTES = 256 * 1024


def _fullmatch(pattern: re.Pattern[str], value: str) -> bool:
    # `fullmatch` rather than `^...$`: Python's `$` also matches before a trailing newline.
    return pattern.fullmatch(value) is not None


def dns1123_label(value: str) -> str | None:
    if len(value) > DNS1123_LABEL_MAX:
        return f"must be no more than {DNS1123_LABEL_MAX} characters"
    if not _fullmatch(_DNS1123_LABEL_RE, value):
        return (
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
            "and must start and end with an alphanumeric character"
        )
    return None


def dns1123_subdomain(value: str) -> str | None:
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        return f"must be no more than {DNS1123_SUBDOMAIN_MAX} characters"
    if not _fullmatch(_DNS1123_SUBDOMAIN_RE, value):
        return (
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            "'-' or '.', and must start and end with an alphanumeric character"
        )
    return None


def dns1035_label(value: str) -> str | None:
    if len(value) > DNS1123_LABEL_MAX:
        return f"must be no more than {DNS1123_LABEL_MAX} characters"
    if not _fullmatch(_DNS1035_LABEL_RE, value):
        return (
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
            "with an alphabetic character, and end with an alphanumeric character"
        )
    return None


def _qualified_name(value: str) -> str | None:
    prefix, slash, name = value.rpartition("/")
    if slash:
        if not prefix:
            return "prefix part must be non-empty"
        problem = dns1123_subdomain(prefix)
        if problem is not None:
            return f"prefix part {problem}"
        if "/" in prefix:
            return "a qualified name has at most one '/'"
    if not name:
        return "name part must be non-empty"
    if len(name) > QUALIFIED_NAME_MAX:
        return f"name part must be no more than {QUALIFIED_NAME_MAX} characters"
    if not _fullmatch(_QUALIFIED_NAME_RE, name):
        return (
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
            "and end with an alphanumeric character (e.g. 'MyName', 'my.name' or "
            "'example.com/my-name')"
        )
    return None


def label_key(value: str) -> str | None:
    return _qualified_name(value)


def annotation_key(value: str) -> str | None:
    return _qualified_name(value.lower())


def annotations_size(annotations: dict[str, str]) -> str | None:
    total = sum(len(k) + len(v) for k, v in annotations.items())
    if total > ANNOTATIONS_MAX_BYTES:
        return f"annotations are {total} bytes; they must have at most {ANNOTATIONS_MAX_BYTES}"
    return None


def label_value(value: str) -> str | None:
    if len(value) > LABEL_VALUE_MAX:
        return f"must be no more than {LABEL_VALUE_MAX} characters"
    if not _fullmatch(_LABEL_VALUE_RE, value):
        return (
            "a valid label value must be an empty string or consist of alphanumeric characters, "
            "'-', '_' or '.', and must start and end with an alphanumeric character"
        )
    return None


def port_number(value: int) -> str | None:
    if isinstance(value, bool) or not 1 <= value <= 65535:
        return "must be between 1 and 65535, inclusive"
    return None


def port_name(value: str) -> str | None:
    """IANA_SVC_NAME (RFC 6335): what named ports (containers, Services, probes) must be."""
    if len(value) > 15:
        return "must be no more than 15 characters"
    if not _fullmatch(_PORT_NAME_CHARS, value):
        return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"
    if "--" in value:
        return "must not contain consecutive hyphens"
    if not _PORT_NAME_LETTER.search(value):
        return "must contain at least one letter (a-z)"
    if value.startswith("-") or value.endswith("-"):
        return "must not begin or end with a hyphen"
    return None


def ingress_host(value: str) -> str | None:
    with_ip = value.strip("[]")
    try:
        ipaddress.ip_address(with_ip)
    except ValueError:
        pass
    else:
        return "must be a DNS name, not an IP address"
    if "*" in value:
        if not value.startswith("*.") or dns1123_subdomain(value[2:]) is not None:
            return (
                "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS "
                "subdomain, which must consist of lower case alphanumeric characters, '-' or '.' "
                "and end with an alphanumeric character"
            )
        return None
    return dns1123_subdomain(value)


_INVALID_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
_INVALID_PATH_SUFFIXES = ("/..", "/.")


def http_path(value: str) -> str | None:
    """An Ingress path of type Prefix or Exact (the API server's rule), or a probe's HTTP path.

    The API server requires only that a probe path be non-empty, but the kubelet appends it to
    `scheme://host:port`: without the leading '/' the probe asks another host name and fails
    forever. Whitespace and control characters make an invalid request line.
    """
    if not value.startswith("/"):
        return "must be an absolute path (start with '/')"
    for seq in _INVALID_PATH_SEQUENCES:
        if seq in value:
            return f"must not contain '{seq}'"
    for suffix in _INVALID_PATH_SUFFIXES:
        if value.endswith(suffix):
            return f"cannot end with '{suffix}'"
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "must not contain whitespace or control characters"
    return None


# github.com/distribution/reference regexp.go, composed the same way (ReferenceRegexp):
# [domain/]path[:tag][@digest], path components lower-case alphanumerics joined by separators.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6})"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_REFERENCE_RE = re.compile(
    rf"(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?", re.ASCII
)
NAME_TOTAL_MAX = 255


def image_reference(value: str) -> str | None:
    if value != value.strip():
        return "must not have leading or trailing whitespace"
    if not value:
        return "must not be empty"
    match = _REFERENCE_RE.fullmatch(value)
    if match is None:
        return (
            "is not a valid image reference ([registry/]name[:tag][@digest], lower-case name "
            "components of letters and digits joined by '.', '_', '__' or '-'); the kubelet "
            "would fail the pod with InvalidImageName"
        )
    if len(match.group("name")) > NAME_TOTAL_MAX:
        return f"repository name must not be more than {NAME_TOTAL_MAX} characters"
    return None
