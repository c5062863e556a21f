# src/billing/local.mk: Stripe client, webhook signatures, tiers, billing state
noinst_LIBRARIES += libilbilling.a
libilbilling_a_SOURCES = \
	src/billing/tiers.c src/billing/tiers.h \
	src/billing/stripe.c src/billing/stripe.h \
	src/billing/signature.c src/billing/signature.h \
	src/billing/store.c src/billing/store.h \
	src/billing/quota.c src/billing/quota.h
libilbilling_a_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(PQ_CFLAGS) $(CRYPTO_CFLAGS)
IL_BILLING_LIBS = libilbilling.a
