"""Mapping presets for `cad_adapters.delimited` (`load_mapping("rvfd")`)."""
