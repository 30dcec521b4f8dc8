"""Plumbing shared by every stage: device, seeding, paths, configs, offline set-up, logs,
geometry, letter sets, grey conversion and CLI exits.

The layering is ``core`` <- ``detection``, ``recognition``, ``synth`` <- ``pipeline``: nothing
here imports another package of the project.
"""
