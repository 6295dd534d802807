"""The planners' dashboard (Solara); it talks to ``scenarios`` only (to come)."""
