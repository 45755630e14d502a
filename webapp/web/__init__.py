"""The web layer the blueprints share: htmx, form plumbing, replies and the page store.

Everything here may read `request`, `g` and `session`; nothing in webapp/services does
(see docs/architecture.md).
"""
