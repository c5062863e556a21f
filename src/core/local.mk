# src/core/local.mk: filled in by the planner work (issue 4)
