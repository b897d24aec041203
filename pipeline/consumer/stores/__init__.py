"""Persistence layers for :mod:`pipeline.consumer.dedupe` (Powertools ``BasePersistenceLayer`` subclasses).

``sqlite`` (local default) and ``dynamodb`` (Powertools' own layer); import the one you use.
"""
