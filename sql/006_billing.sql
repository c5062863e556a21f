-- 006_billing.sql: a tenant's Stripe customer and subscription state, the
-- webhook events already applied, and monthly usage counters for the quotas.
--
-- A tenant with no billing_accounts row is on the community tier with status
-- 'none'. The webhook arrives without a tenant: billing_resolve_tenant (a
-- SECURITY DEFINER lookup) maps the event's Stripe customer to one, and
-- everything after that runs in a transaction bound to that tenant.

CREATE TABLE billing_accounts (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    stripe_customer_id text UNIQUE CHECK (stripe_customer_id ~ '^cus_[A-Za-z0-9_]{1,250}$'),
    stripe_subscription_id text CHECK (length(stripe_subscription_id) <= 255),
    tier text NOT NULL DEFAULT 'community'
        CHECK (tier IN ('community', 'team', 'enterprise')),
    status text NOT NULL DEFAULT 'none'
        CHECK (status IN ('none', 'trialing', 'active', 'past_due', 'canceled', 'incomplete')),
    current_period_end timestamptz,
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    -- the Stripe `created` time of the newest event applied: older events that
    -- arrive late do not overwrite newer state
    last_event_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE billing_accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON billing_accounts
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

-- Webhook events applied, by Stripe event id: a replay changes nothing.
CREATE TABLE billing_events (
    event_id text PRIMARY KEY CHECK (event_id ~ '^evt_[A-Za-z0-9_]{1,250}$'),
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type text NOT NULL CHECK (length(type) <= 128),
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_events_tenant_idx ON billing_events (tenant_id);
ALTER TABLE billing_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON billing_events
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

-- Plan generations per tenant and UTC month ('YYYY-MM'), counted by the plan
-- endpoint through billing_count_plan_generation().
CREATE TABLE usage_counters (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    period text NOT NULL CHECK (period ~ '^[0-9]{4}-[0-9]{2}$'),
    plans_generated integer NOT NULL DEFAULT 0 CHECK (plans_generated >= 0),
    PRIMARY KEY (tenant_id, period)
);
ALTER TABLE usage_counters ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON usage_counters
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());

-- The webhook's tenant: the owner of the Stripe customer, else the tenant
-- named in the (signed) event's metadata when such a tenant exists.
CREATE FUNCTION billing_resolve_tenant(p_customer text, p_hint text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ SELECT coalesce(
              (SELECT tenant_id FROM billing_accounts WHERE stripe_customer_id = p_customer),
              (SELECT id FROM tenants
                WHERE p_hint ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                  AND id = p_hint::uuid)) $$;
REVOKE ALL ON FUNCTION billing_resolve_tenant(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION billing_resolve_tenant(text, text) TO ironlayer_worker;
