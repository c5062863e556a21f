# bench/local.mk: planner tests and benchmark (issue 4)
