"""Real training data: a catalogue of public datasets and the preparers that turn each one
into the layouts the trainers read (``pipeline data list | prepare``).

* :mod:`dataprep.catalogue` — one YAML entry per dataset in ``configs/data/``.
* :mod:`dataprep.gitsource` — reads a pinned commit of a clone or bare repository through git.
* :mod:`dataprep.converters` — one converter per source layout, yielding crops or pages.
* :mod:`dataprep.split` — the deterministic train / tune / test rule.
* :mod:`dataprep.reserved` — drops images reserved for held-out evaluation.
* :mod:`dataprep.writers` / :mod:`dataprep.prepare` — the output folders and the run itself.

Layering: this package imports only ``core``; ``pipeline`` puts a command line on it.
"""
