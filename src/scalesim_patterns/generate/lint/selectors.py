"""Label-selector look-ups in time proportional to the matches, not to objects × selectors.

Relational rules ask "which PDBs select this pod template", "does any NetworkPolicy", "which pod
templates does this Service select". Asking every selector for every template is quadratic: a
51 MB manifest with thousands of workloads in one namespace spent minutes there. A selector can
only match labels that contain each of its `matchLabels` pairs, so it is filed under the one pair
that the fewest templates carry; a template then asks only the selectors filed under its own
pairs, plus those without `matchLabels` (expressions only, or `{}`, which selects everything).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from scalesim_patterns.generate.lint.workloads import (
    PodTemplate,
    label_selector_matches,
    label_text,
    map_selector_matches,
)

__all__ = ["SelectorIndex", "TemplateIndex"]

T = TypeVar("T")
Pair = tuple[str, str]


def _pairs(mapping: dict[Any, Any]) -> list[Pair]:
    return [(str(k), label_text(v)) for k, v in mapping.items()]


class TemplateIndex:
    """The pod templates of one namespace, by label pair."""

    def __init__(self, templates: Iterable[PodTemplate]) -> None:
        self.templates = list(templates)
        self._by_pair: dict[Pair, list[PodTemplate]] = defaultdict(list)
        for template in self.templates:
            for pair in template.labels.items():
                self._by_pair[pair].append(template)
        self.pair_counts: Counter[Pair] = Counter(
            {pair: len(items) for pair, items in self._by_pair.items()}
        )

    def selected_by_map(self, selector: Any) -> list[PodTemplate]:
        """Templates a Service-style selector (a plain, non-empty map) selects, in input order."""
        if not isinstance(selector, dict) or not selector:
            return []
        rarest = min(_pairs(selector), key=lambda p: self.pair_counts[p])
        return [
            t for t in self._by_pair.get(rarest, []) if map_selector_matches(selector, t.labels)
        ]


class SelectorIndex(Generic[T]):
    """LabelSelectors (matchLabels and matchExpressions) with the object each belongs to."""

    def __init__(self, entries: Iterable[tuple[Any, T]], pair_counts: Counter[Pair]) -> None:
        self._by_pair: dict[Pair, list[tuple[int, Any, T]]] = defaultdict(list)
        self._general: list[tuple[int, Any, T]] = []
        self._memo: dict[frozenset[Pair], list[T]] = {}
        for order, (selector, item) in enumerate(entries):
            if not isinstance(selector, dict):
                continue  # never matches (the schema reports it)
            match_labels = selector.get("matchLabels")
            if isinstance(match_labels, dict) and match_labels:
                rarest = min(_pairs(match_labels), key=lambda p: (pair_counts[p], p))
                self._by_pair[rarest].append((order, selector, item))
            else:
                self._general.append((order, selector, item))

    def _candidates(self, labels: dict[str, str]) -> Iterable[tuple[int, Any, T]]:
        yield from self._general
        for pair in labels.items():
            yield from self._by_pair.get(pair, ())

    def matching(self, labels: dict[str, str]) -> list[T]:
        """Every item whose selector selects `labels`, in the order the entries were given.

        Remembered per label set: copies of a workload share labels and ask once.
        """
        key = frozenset(labels.items())
        if key in self._memo:
            return self._memo[key]
        hits = [
            (o, item)
            for o, sel, item in self._candidates(labels)
            if label_selector_matches(sel, labels)
        ]
        result = self._memo[key] = [item for _, item in sorted(hits, key=lambda hit: hit[0])]
        return result

    def any_matches(self, labels: dict[str, str]) -> bool:
        return any(label_selector_matches(sel, labels) for _, sel, _ in self._candidates(labels))
