"""Near-duplicates and story clusters: MinHash signatures over word shingles, grouping by LSH candidates.

Used by training (``--dedupe near``, the near-duplicate report) and by serving (``score --cluster``,
``POST /v1/cluster``). Nothing here loads at import time.
"""
