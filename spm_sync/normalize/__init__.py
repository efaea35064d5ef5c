"""Normalize: mappings/<type>.yaml compiled to SQL that rebuilds the spm.* tables from raw_<source>."""

from spm_sync.normalize.mapping import load_mapping, parse_mapping
from spm_sync.normalize.run import NormalizeResult, normalize

__all__ = ["NormalizeResult", "load_mapping", "normalize", "parse_mapping"]
