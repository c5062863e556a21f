sqldir = $(pkgdatadir)/sql
dist_sql_DATA = \
	sql/001_foundation.sql \
	sql/002_auth.sql \
	sql/003_plans.sql \
	sql/004_apply.sql \
	sql/005_settings.sql \
	sql/006_billing.sql \
	sql/009_plan_content.sql \
	sql/010_sessions.sql \
	sql/011_compat.sql \
	sql/012_apply_limits.sql \
	sql/013_list_indexes.sql \
	sql/014_session_check.sql \
	sql/018_session_check_invoker.sql \
	sql/019_session_check_plain.sql \
	sql/020_tenant_versions.sql
