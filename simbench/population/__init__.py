"""Populations: many simulated users (sweep cells) in one process on one copy of the base model.

Each member runs the unchanged single-run pipeline in its own thread and writes its own run
folder; the members meet at a rendezvous (`rendezvous.py`) where their generations run as one
batched call and their SDPO updates as one `sdpo.population_update.PopulationUpdater.step`.
"""
