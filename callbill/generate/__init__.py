"""`callbill generate`: a realistic, reproducible landing folder (CONTRACT.md, "Landing folder").

Every random draw comes from `numpy.random.default_rng(seed)` and its spawned children (one
stream per entity, one per CDR month), so the same arguments give byte-identical files and a
change to one entity's generator does not reshuffle the others. Calls are generated month by
month as numpy arrays (no Python loop per call) and written by DuckDB; the small tables are
written with pandas. With a platform, the same calls are written as that phone switch's own CDR
files (switches/, switch_tenants/, switch_cdrs/) instead of cdrs/; every other file is unchanged.
With a platform for only the first N accounts (a mixed landing), their calls are the switch's files
and the other accounts' calls stay in cdrs/, the rows of the canonical files without the switch's.
"""

from callbill.generate.folder import generate_landing

__all__ = ["generate_landing"]
