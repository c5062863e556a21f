# fcgi-conf/local.mk: web server, process manager and sample configuration files.
# The sample config, systemd unit and web server snippets are installed as
# examples under $(docdir)/examples; the JSON error pages that lighttpd and
# Apache serve for their own errors go to $(pkgdatadir)/errors.
examplesdir = $(docdir)/examples
dist_examples_DATA = \
	fcgi-conf/ironlayer.conf.sample \
	fcgi-conf/ironlayer-fcgi.service \
	fcgi-conf/ironlayer-fcgi.socket \
	fcgi-conf/ironlayer-fcgi-apply.service \
	fcgi-conf/ironlayer-fcgi-apply.socket \
	fcgi-conf/lighttpd.conf \
	fcgi-conf/lighttpd-ironlayer.conf \
	fcgi-conf/apache2-ironlayer.conf

# the Apache configuration scripts/stack generates for IRONLAYER_TEST_FRONTEND=apache
EXTRA_DIST += fcgi-conf/apache2-test.conf

errorsdir = $(pkgdatadir)/errors
dist_errors_DATA = \
	fcgi-conf/errors/400.html fcgi-conf/errors/403.html fcgi-conf/errors/404.html \
	fcgi-conf/errors/405.html fcgi-conf/errors/408.html fcgi-conf/errors/411.html \
	fcgi-conf/errors/413.html fcgi-conf/errors/414.html fcgi-conf/errors/416.html \
	fcgi-conf/errors/417.html fcgi-conf/errors/431.html fcgi-conf/errors/500.html \
	fcgi-conf/errors/501.html fcgi-conf/errors/502.html fcgi-conf/errors/503.html \
	fcgi-conf/errors/504.html fcgi-conf/errors/505.html

# the demo project `./dev up` installs into var/repos/demo (kept in the tarball
# so that ./dev works from it too)
EXTRA_DIST += \
	examples/make-demo-repo.sh \
	examples/demo-project/README.md \
	examples/demo-project/seed.sql \
	examples/demo-project/models/staging/stg_orders.sql \
	examples/demo-project/models/staging/stg_customers.sql \
	examples/demo-project/models/staging/stg_payments.sql \
	examples/demo-project/models/analytics/orders_daily.sql \
	examples/demo-project/models/analytics/customer_ltv.sql \
	examples/demo-project/models/analytics/revenue_summary.sql
