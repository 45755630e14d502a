"""The catalog filter form's <option> lists, written once per set of filter options.

catalog.filter_options keeps one FilterOptions per data version in each worker, and
every catalog page of that version lists the same hundred-odd options but for the one
marked selected. Each filter's list is written here once per FilterOptions (its labels
escaped as the template would), kept on it (FilterOptions.markup), and each page marks
its own selected option on a copy. The form around the lists stays in catalog.html.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Flask
from markupsafe import Markup

from webapp.services.catalog import FilterOptions, Group


def init_app(app: Flask) -> None:
    app.add_template_global(option_list, "option_list")


def option_list(options: FilterOptions, name: str, choices: Sequence[Any], current: Any,
                key: str = "slug", groups: Sequence[Group] | None = None) -> Markup:
    """The <option>s of the filter `name` (its `choices`, under <optgroup>s when `groups`
    are given; an option's value is the choice's slug, or its `value` for enum choices),
    the one whose value is `current` marked selected."""
    written = options.markup.get(name)
    if written is None:
        written = options.markup[name] = _written(choices, key, groups)
    if current is None or current == "":
        return written
    value = str(current)
    return written.replace(_OPTION.format(value), _SELECTED.format(value), 1)


_OPTION = Markup('<option value="{}">')
_SELECTED = Markup('<option value="{}" selected>')
_ITEM = Markup('<option value="{}">{}</option>')
_GROUP = Markup('<optgroup label="{}">{}</optgroup>')


def _written(choices: Sequence[Any], key: str, groups: Sequence[Group] | None) -> Markup:
    """The options, every value and label escaped by Markup.format."""
    def each(items: Sequence[Any]) -> Markup:
        return Markup("").join(
            _ITEM.format(item.slug if key == "slug" else item.value, item.label)
            for item in items)

    if groups:
        return Markup("").join(_GROUP.format(group.label, each(group.choices))
                               for group in groups)
    return each(choices)
