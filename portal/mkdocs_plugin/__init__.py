"""The MkDocs integration: the ``eventdeck`` plugin, the HTML stash that keeps pre-rendered HTML away from
Python-Markdown, and the search index entries of generated pages."""
