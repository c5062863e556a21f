-- 005_settings.sql: per-tenant settings: the tenant's own LLM key (sealed
-- with AES-256-GCM under the master key, tenant id as associated data, see
-- src/util/secret.h), its provider and model, and the AI advisory switch.
--
-- A tenant without a row has no key and AI advisory enabled (the
-- ai_advisory_enabled config default decides). The key itself is never
-- stored in clear: llm_key_last4 is the only part an API response shows.

CREATE TABLE tenant_settings (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    llm_provider text CHECK (llm_provider IN ('anthropic', 'openai')),
    llm_key_enc bytea,
    llm_key_last4 text CHECK (length(llm_key_last4) <= 4),
    llm_model text CHECK (length(llm_model) <= 128),
    llm_key_updated_at timestamptz,
    ai_advisory_enabled boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- a key is stored whole or not at all
    CHECK ((llm_key_enc IS NULL) = (llm_provider IS NULL)),
    CHECK ((llm_key_enc IS NULL) = (llm_key_last4 IS NULL))
);
ALTER TABLE tenant_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_settings
    USING (tenant_id = app_current_tenant()) WITH CHECK (tenant_id = app_current_tenant());
