"""The Mesa model of Greater Oslo: data bundle, world, synthesis, yearly sub-models, indicators."""
