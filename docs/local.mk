# docs/local.mk: man pages (installed by `make install`) and the guides
# (installed under $(docdir)); the Debian packaging is shipped in the tarball.
dist_man_MANS = docs/ironlayer.1 docs/ironlayer-fcgi.8

dist_doc_DATA = \
	docs/quickstart.md \
	docs/admin-guide.md \
	docs/api-guide.md \
	docs/compatibility.md \
	docs/model-format.md \
	docs/plan-json.md \
	docs/security.md \
	docs/performance.md

EXTRA_DIST += \
	debian/changelog debian/control debian/copyright debian/rules \
	debian/source/format debian/postinst debian/postrm debian/ironlayer.docs \
	debian/ironlayer.lintian-overrides debian/ci-install-test.sh debian/.gitignore
