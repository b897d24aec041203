"""Backstage: the catalog entities (``catalog-info.yaml``) for the pipeline and its AsyncAPI documents."""
