"""Ingestion: landing-zone files into the raw layer, one schema per source system."""
