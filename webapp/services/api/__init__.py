"""The read-only JSON API's side of the services: response models (`models`), the strict
query string (`query`), the keyset cursor (`cursor`), the functions that fill the models
from the catalog's own services (`build`), and the OpenAPI document (`openapi`).

Only public rows and public fields are ever put into a model: the models are the whole
of what leaves the site, and every field of theirs is one a public page shows.
"""
