"""Desired (Clusterfile) against live (facts): the plan, pure data."""
