"""Ways to run an :class:`~pipeline.ocr.OcrPipeline` over many pages.

``pipeline run`` reads pages in its own process (the ``local`` engine, in
:mod:`pipeline.cli.run`) or, with ``--engine ray``, on a Ray cluster
(:mod:`pipeline.engines.ray_engine`); both give the same results file.
"""
