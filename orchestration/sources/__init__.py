"""The embedded default source: a generated B2B software company's export files.

`orchestration.sources.generate` writes the landing zone (one folder per source system and
table, connector-shaped columns) and, in a separate folder, the ground truth that tests
compare the warehouse with. `orchestration.sources.schemas.SOURCE_TABLES` describes every
source table (format, columns, primary key, updated-at column, deleted flag).
"""
