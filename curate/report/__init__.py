"""Static HTML report of a run: funnel, figures with their panels, markers and regions."""
