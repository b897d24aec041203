"""The subscription kit: rule patterns per event and hierarchy level (``patterns``), their content filters
(``filters``), subscription request files (``subscriptions``) and, in ``snippets``, the infrastructure and consumer
code built from them. Every pattern is proven against the contract's examples (``examples``)."""
